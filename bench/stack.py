"""The real Rasa server, action server and console for a benchmark, on free ports."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from bot.cli.processes import on_free_ports, start_all, stop_all
from bot.db.migrate import upgrade
from bot.db.session import sessions_for
from bot.service.demo import seed_demo
from bot.service.tiers import load_tiers
from bot.settings import ROOT, Settings, load_settings


@contextmanager
def running_stack(
    *, demo_customers: bool = False, kb_dir: Path = ROOT / "var" / "kb", model: Path = ROOT / "models" / "bot.tar.gz"
) -> Iterator[Settings]:
    """Every process started in demo mode on a throwaway database, serving ``model`` and the
    knowledge base built in ``kb_dir``."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            {
                "BOT_DEMO": "1",
                "BOT_VAR_DIR": tmp,
                **on_free_ports(),
                "KB_DIR": str(kb_dir),
                "RASA_MODEL": str(model),
            }
        )
        upgrade(settings.database_url)
        if demo_customers:
            seed_demo(sessions_for(settings.database_url), tiers=load_tiers(settings.tiers_file), today=date.today())
        started = start_all(settings, Path(tmp) / "logs")
        try:
            yield settings
        finally:
            stop_all(started)
