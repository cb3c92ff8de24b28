"""``bot run``: the whole product on one machine, until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import time

from bot.agents import DEMO_AGENTS
from bot.cli import cmd_demo_seed
from bot.db.migrate import upgrade
from bot.processes import ProcessError, start_all, stop_all
from bot.settings import Settings

__all__ = ["run"]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(settings: Settings) -> None:
    if not settings.model_path.exists():
        sys.exit(f"error: no trained model at {settings.model_path}; run `make run` (it trains one)")
    upgrade(settings.database_url)
    if settings.demo_mode:
        cmd_demo_seed(settings, None)
    log_dir = settings.var_dir / "logs"
    print(f"starting the action server, Rasa server and console (logs in {log_dir}) ...", flush=True)
    # Ctrl-C, and SIGTERM from a service manager, stop everything; SIGINT is set
    # explicitly because a shell starting us in the background ignores it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        started = start_all(settings, log_dir)
    except ProcessError as error:
        sys.exit(f"error: {error}")
    except KeyboardInterrupt:
        return
    console = f"http://{settings.host}:{settings.console_port}"
    lines = [
        "All processes are up:",
        f"  Rasa server (REST)  {settings.rasa_url}/webhooks/rest/webhook"
        + ("  (Authorization: Bearer $REST_TOKEN)" if settings.rest_token else "  (off: REST_TOKEN is unset)"),
        f"  Rasa HTTP API       {settings.rasa_url}/status?token=...",
        f"  Action server       http://{settings.host}:{settings.action_port}/health",
        f"  Agent console       {console}/",
        f"  Agents' API         {console}/api/handoffs  (a token: .venv/bin/bot agents add NAME)",
    ]
    if settings.demo_mode:
        lines.append(f"  Demo shop (widget)  {console}/shop")
        lines.append("  Demo sign-ins       " + ", ".join(f"{u} / {p} ({r})" for u, _, r, p in DEMO_AGENTS))
    lines.append(f"  Agents work         {settings.hours.describe()}, {settings.service_days}")
    print("\n" + "\n".join(lines) + "\n\nPress Ctrl-C to stop them all.", flush=True)
    try:
        while all(p.popen.poll() is None for p in started):
            time.sleep(1)
        dead = next(p for p in started if p.popen.poll() is not None)
        print(f"error: {dead.name} stopped (code {dead.popen.returncode}); see {dead.log_path}", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    finally:
        stop_all(started)
