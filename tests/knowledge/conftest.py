from __future__ import annotations

from pathlib import Path

import pytest

from bot.service.kb_builds import embedder_for
from bot.settings import load_settings
from knowledge.embedder import Embedder

KB = Path(__file__).resolve().parents[1] / "data" / "kb"
QUERIES = KB.parent / "kb_queries.jsonl"
TIERS = ["guest", "normal", "bronze", "silver", "gold", "vip"]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    settings = load_settings({"BOT_DEMO": "1"})
    return embedder_for(settings)
