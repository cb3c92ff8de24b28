"""``bot run`` started as ``make run`` starts it: a process group of its own, which a
service manager or an IDE stops with SIGTERM to the group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from bot.cli.processes import free_port
from bot.settings import ROOT
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.slow

PORTS = ("RASA_PORT", "ACTION_PORT", "CONSOLE_PORT")


@dataclass
class Run:
    popen: subprocess.Popen
    output: Path
    var_dir: Path
    ports: dict[str, int]

    def text(self) -> str:
        return self.output.read_text()

    def wait_up(self) -> list[psutil.Process]:
        """Every process of ours, once all answer."""
        wait_for(
            lambda: "All processes are up" in self.text() or self.popen.poll() is not None,
            timeout=300,
            what="bot run to start",
        )
        assert "All processes are up" in self.text(), self.text()
        return [psutil.Process(self.popen.pid), *psutil.Process(self.popen.pid).children(recursive=True)]

    def wait_exit(self) -> int:
        return self.popen.wait(60)


@pytest.fixture
def bot_run(tmp_path: Path) -> Iterator[Callable[..., Run]]:
    runs: list[Run] = []

    def start(**ports: int) -> Run:
        ports = {name: ports.get(name) or free_port() for name in PORTS}
        var_dir = tmp_path / "var"
        output = tmp_path / "run.out"
        env = {
            **os.environ,
            "BOT_VAR_DIR": str(var_dir),
            "BOT_DEMO": "1",
            "BOT_HOST": "127.0.0.1",
            **{name: str(port) for name, port in ports.items()},
            "IDENTITY_SECRET": "run-test-identity-secret-0123456789abcdef",
            "RASA_TOKEN": "run-test-rasa-token-0123456789abcdefghij",
            "CONSOLE_SECRET": "run-test-console-secret-0123456789abcdef",
            "ACTION_TOKEN": "run-test-action-token-0123456789abcdefgh",
            "REST_TOKEN": "run-test-rest-token-0123456789abcdefghijk",
            # The knowledge base `make test` built from data/knowledge, read-only here.
            "KB_DIR": str(ROOT / "var" / "kb"),
        }
        with output.open("w") as out:
            popen = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "bot"), "run"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        runs.append(Run(popen, output, var_dir, ports))
        return runs[-1]

    yield start
    for run in runs:
        if run.popen.poll() is None:  # a failed test: its children die with it
            os.killpg(run.popen.pid, signal.SIGKILL)
            run.popen.wait()


def assert_all_gone(ours: list[psutil.Process], ports: dict[str, int]) -> None:
    _, alive = psutil.wait_procs(ours, timeout=10)
    assert not alive
    for port in ports.values():
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))


def test_sigterm_to_the_group_stops_every_process(bot_run):
    run = bot_run()
    ours = run.wait_up()
    assert len(ours) == 5  # bot run, the action server, the Rasa server, the console and the worker
    assert any(p.cmdline()[1:3] == ["-m", "bot.worker"] for p in ours)
    os.killpg(run.popen.pid, signal.SIGTERM)
    # make, stopped the same way, passes the signal on to its child, bot run, a moment later.
    time.sleep(0.5)
    os.kill(run.popen.pid, signal.SIGTERM)
    assert run.wait_exit() == 0
    assert_all_gone(ours, run.ports)


def test_a_taken_port_refuses_the_start_and_changes_nothing(bot_run):
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        run = bot_run(CONSOLE_PORT=port)
        assert run.wait_exit() != 0
    assert f"error: port {port} (console) is in use by pid {os.getpid()}" in run.text()
    assert not run.var_dir.exists()


def test_a_process_that_dies_stops_the_others_with_its_log(bot_run):
    run = bot_run()
    ours = run.wait_up()
    [actions] = [p for p in ours if "actions.server" in p.cmdline()]
    actions.kill()
    assert run.wait_exit() == 1
    last_logged = (run.var_dir / "logs" / "actions.log").read_text().splitlines()[-1]
    assert "error: action server was killed by SIGKILL; the end of" in run.text()
    assert last_logged in run.text()
    assert_all_gone(ours, run.ports)
