"""Start the product's processes, wait until each answers, and stop them all together.

Used by ``bot run`` and by the integration tests, so both start exactly the same
commands.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.settings import ROOT, Settings

__all__ = ["Process", "ProcessError", "free_port", "rasa_env", "start_all", "stop_all"]

RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"


def free_port() -> int:
    """A TCP port nothing listens on now, for processes started side by side with others."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ProcessError(Exception):
    """A process died or never answered its health check."""


@dataclass
class Process:
    name: str
    args: list[str]
    health_url: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        # Its own process group, so a stop reaches the children it spawns too.
        self.popen = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                raise ProcessError(f"{self.name} exited with code {self.popen.returncode}; see {self.log_path}")
            try:
                if httpx.get(self.health_url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise ProcessError(f"{self.name} did not answer {self.health_url} within {timeout:.0f}s; see {self.log_path}")

    def stop(self, timeout: float = 15) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


def rasa_env(settings: Settings) -> dict[str, str]:
    """The variables endpoints.yml reads, and Rasa's own: no telemetry from a closed network."""
    return {
        "RASA_TELEMETRY_ENABLED": "false",
        "ACTION_SERVER_URL": settings.action_server_url,
        "TRACKER_STORE_URL": settings.tracker_store_url,
    }


def processes(settings: Settings, log_dir: Path) -> list[Process]:
    # Every setting goes to every child, so a test's overrides reach them too.
    env = settings.to_env()
    host = settings.host
    return [
        Process(
            name="action server",
            args=[sys.executable, "-m", "actions.server"],
            health_url=f"http://{host}:{settings.action_port}/health",
            log_path=log_dir / "actions.log",
            env=env,
        ),
        Process(
            name="Rasa server",
            args=[
                str(RASA_BIN), "run",
                "--model", str(settings.model_path),
                "--enable-api", "--auth-token", settings.rasa_token,
                "--cors", "*",
                "--port", str(settings.rasa_port),
                "--endpoints", "endpoints.yml",
                "--credentials", "credentials.yml",
            ],
            # /status needs the model loaded, so a 200 there means the bot can answer.
            health_url=f"http://{host}:{settings.rasa_port}/status?token={settings.rasa_token}",
            log_path=log_dir / "rasa.log",
            env={**env, **rasa_env(settings)},
        ),
        Process(
            name="console",
            args=[
                sys.executable, "-m", "uvicorn", "bot.console.app:create_app", "--factory",
                "--host", host, "--port", str(settings.console_port),
                # Live pages hold event streams open; do not wait for them to end on shutdown.
                "--timeout-graceful-shutdown", "3",
            ],
            health_url=f"http://{host}:{settings.console_port}/health",
            log_path=log_dir / "console.log",
            env=env,
        ),
    ]


def start_all(settings: Settings, log_dir: Path, timeout: float = 240) -> list[Process]:
    """Start every process and return once all answer; on failure, stop those started."""
    started = processes(settings, log_dir)
    try:
        for process in started:
            process.start()
        for process in started:
            process.wait_healthy(timeout)
    except BaseException:
        stop_all(started)
        raise
    return started


def stop_all(started: list[Process]) -> None:
    for process in reversed(started):
        process.stop()
