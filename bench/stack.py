"""The real Rasa server, action server and console for a benchmark, on free ports."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.cli import cmd_demo_seed
from bot.db.migrate import upgrade
from bot.processes import free_port, start_all, stop_all
from bot.settings import ROOT, Settings, load_settings


@contextmanager
def running_stack(*, demo_customers: bool = False) -> Iterator[Settings]:
    """Every process started in demo mode on a throwaway database, with the built knowledge base."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({
            "BOT_DEMO": "1",
            "BOT_VAR_DIR": tmp,
            "BOT_HOST": "127.0.0.1",
            "RASA_PORT": str(free_port()),
            "ACTION_PORT": str(free_port()),
            "CONSOLE_PORT": str(free_port()),
            "KB_DIR": str(ROOT / "var" / "kb"),
        })
        if demo_customers:
            cmd_demo_seed(settings, None)
        else:
            upgrade(settings.database_url)
        started = start_all(settings, Path(tmp) / "logs")
        try:
            yield settings
        finally:
            stop_all(started)
