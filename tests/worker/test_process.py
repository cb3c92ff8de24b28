"""``python -m bot.worker`` as ``bot run`` starts it: up once it says so, stopped cleanly by SIGTERM."""

from __future__ import annotations

import signal
import sys

import pytest

from bot.cli.processes import Process, ProcessError
from bot.worker import READY


def worker(log, db_url: str, args: list[str] | None = None) -> Process:
    return Process(
        name="worker",
        args=args or [sys.executable, "-m", "bot.worker"],
        log_path=log,
        ready_text=READY,
        env={"BOT_DEMO": "1", "DATABASE_URL": db_url, "RASA_URL": "http://127.0.0.1:9"},
    )


def test_the_worker_reports_ready_and_stops_on_sigterm(db_url, tmp_path):
    process = worker(tmp_path / "worker.log", db_url)
    process.start()
    try:
        process.wait_healthy(60)
        process.popen.send_signal(signal.SIGTERM)
        assert process.popen.wait(30) == 0
    finally:
        process.stop()
    assert process.log_path.read_text().rstrip().endswith("stopped")


def test_an_earlier_runs_ready_line_does_not_count(db_url, tmp_path):
    log = tmp_path / "worker.log"
    log.write_text(f"... {READY}\n")
    silent = worker(log, db_url, args=[sys.executable, "-c", "import time; time.sleep(60)"])
    silent.start()
    try:
        with pytest.raises(ProcessError, match=f"did not log '{READY}'"):
            silent.wait_healthy(2)
    finally:
        silent.stop()
