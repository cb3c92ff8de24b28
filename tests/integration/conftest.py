"""The real Rasa server, action server and console, started once for these tests.

They run on free ports against a database of their own, with the model that
``make test`` trained.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest

from bot.customers import recompute_tiers
from bot.db.migrate import upgrade
from bot.db.session import sessions_for
from bot.identity import sign_token
from bot.processes import free_port, start_all, stop_all
from bot.settings import ROOT, Settings, load_settings
from knowledge.index import current_build
from tests.factories import add_customer

SECRET = "integration-identity-secret"


@dataclass
class Stack:
    settings: Settings

    @property
    def rest_url(self) -> str:
        return f"{self.settings.rasa_url}/webhooks/rest/webhook"

    def send(self, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
        """The bot's messages to ``sender``: texts, with buttons where it offers them."""
        body = {"sender": sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        response = httpx.post(self.rest_url, json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def say(self, sender: str, text: str, metadata: dict | None = None) -> list[str]:
        """What the bot answers ``sender``, as the texts a customer would read."""
        return [m["text"] for m in self.send(sender, text, metadata) if "text" in m]

    def token(self, customer_id: str, ttl: int = 3600) -> str:
        return sign_token(SECRET, customer_id, ttl)


@pytest.fixture
def sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def _seed(url: str, tiers_file: Path) -> None:
    from bot.tiers import load_tiers

    upgrade(url)
    with sessions_for(url).begin() as session:
        add_customer(session, "G100", name="Grace Lin", language="en", orders=9, spend=9000, days_ago=3)
        add_customer(session, "G200", name="李娜", language="zh", orders=9, spend=9000, days_ago=3)
        add_customer(session, "N100", name="Tom Baker", language="en", orders=1, spend=120, days_ago=30)
        add_customer(session, "V100", name="Victoria Chen", language="en", orders=16, spend=40000, days_ago=2)
        recompute_tiers(session, tiers=load_tiers(tiers_file), today=date.today())


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir = tmp_path_factory.mktemp("var")
    settings = load_settings(
        {
            "BOT_VAR_DIR": str(var_dir),
            "IDENTITY_SECRET": SECRET,
            "RASA_TOKEN": "integration-rasa-token",
            "BOT_HOST": "127.0.0.1",
            "RASA_PORT": str(free_port()),
            "ACTION_PORT": str(free_port()),
            "CONSOLE_PORT": str(free_port()),
            # The knowledge base `make test` built from data/knowledge, read-only here.
            "KB_DIR": str(ROOT / "var" / "kb"),
        }
    )
    if not settings.model_path.exists():
        pytest.fail(f"no trained model at {settings.model_path}: run `make test`, which trains it")
    if current_build(settings.kb_dir) is None:
        pytest.fail(f"no knowledge base in {settings.kb_dir}: run `make test`, which builds it")
    _seed(settings.database_url, settings.tiers_file)
    started = start_all(settings, var_dir / "logs")
    yield Stack(settings)
    stop_all(started)
