"""``bot run``: the whole product on one machine, until stopped.

However it is stopped (Ctrl-C, SIGTERM or SIGHUP to it or to its process group, or on
Linux killed outright) none of the processes it started outlives it.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable

from bot.cli.processes import Process, ProcessError, check_ports, processes, start_all, stop_all
from bot.service.agents import DEMO_AGENTS
from bot.settings import Settings

__all__ = ["hold_stop_signals", "run", "stop_on_signals", "until_one_dies"]

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def hold_stop_signals() -> None:
    # Once stopping, a second signal must not cut the stop short: `make run` stopped by its
    # group's SIGTERM passes the signal on to us after the one we got ourselves.
    for signum in _STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def _stop(signum: int, frame: object) -> None:
    hold_stop_signals()
    raise KeyboardInterrupt


def stop_on_signals() -> None:
    """From now on Ctrl-C, SIGTERM and SIGHUP raise KeyboardInterrupt, once."""
    # Set even for SIGINT, which a shell starting us in the background ignores.
    for signum in _STOP_SIGNALS:
        signal.signal(signum, _stop)


def until_one_dies(watched: list[Process]) -> Process:
    """Waits until one of ``watched`` exits, and returns it."""
    while all(p.running.poll() is None for p in watched):
        time.sleep(0.5)
    return next(p for p in watched if p.running.returncode is not None)


def _urls(settings: Settings) -> str:
    console = f"http://{settings.host}:{settings.console_port}"
    lines = [
        "All processes are up:",
        f"  Rasa server (REST)  {settings.rasa_url}/webhooks/rest/webhook"
        + ("  (Authorization: Bearer $REST_TOKEN)" if settings.rest_token else "  (off: REST_TOKEN is unset)"),
        f"  Rasa HTTP API       {settings.rasa_url}/status?token=...",
        f"  Action server       http://{settings.host}:{settings.action_port}/health",
        f"  Agent console       {console}/",
        f"  Agents' API         {console}/api/handoffs  (a token: .venv/bin/bot agents add NAME)",
        "  Worker              delivers agents' messages, expires handoffs (no port; its log: worker.log)",
    ]
    if settings.demo_mode:
        lines.append(f"  Demo shop (widget)  {console}/shop")
        lines.append("  Demo sign-ins       " + ", ".join(f"{u} / {p} ({r})" for u, _, r, p in DEMO_AGENTS))
    lines.append(f"  Agents work         {settings.hours.describe()}, {settings.service_days}")
    return "\n" + "\n".join(lines) + "\n\nPress Ctrl-C to stop them all."


def run(settings: Settings, prepare: Callable[[], None]) -> None:
    """Every process of the product until stopped; ``prepare`` readies the database once the ports are known free."""
    if not settings.model_path.exists():
        sys.exit(f"error: no trained model at {settings.model_path}; run `make run` (it trains one)")
    log_dir = settings.var_dir / "logs"
    try:
        # Before the migration and the seed, so a refused start changes nothing.
        check_ports(processes(settings, log_dir))
    except ProcessError as error:
        sys.exit(f"error: {error}")
    prepare()
    print(f"starting the action server, Rasa server, console and worker (logs in {log_dir}) ...", flush=True)
    stop_on_signals()
    started: list[Process] = []
    try:
        started = start_all(settings, log_dir)
        print(_urls(settings), flush=True)
        dead = until_one_dies(started)
        print(f"error: {dead.exit_report()}\nstopping the others ...", file=sys.stderr, flush=True)
        sys.exit(1)
    except ProcessError as error:  # start_all has stopped what it started
        sys.exit(f"error: {error}")
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    finally:
        hold_stop_signals()
        stop_all(started)
