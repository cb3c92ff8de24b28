"""Actions run as rasa-sdk runs them, on trackers built by hand, against a database of their own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from bot.db.session import sessions_for

SECRETS = {
    name: name.lower().replace("_", "-") + "-for-the-action-tests-" + "x" * 12
    for name in (
        "IDENTITY_SECRET",
        "RASA_TOKEN",
        "CONSOLE_SECRET",
        "ACTION_TOKEN",
    )
}


@pytest.fixture(autouse=True)
def action_settings(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path) -> Iterator[None]:
    """The action server's settings for these tests: this test's database, agents always at work."""
    for name, value in {
        **SECRETS,
        "DATABASE_URL": db_url,
        "BOT_VAR_DIR": str(tmp_path),
        "SERVICE_HOURS": "00:00-24:00",
    }.items():
        monkeypatch.setenv(name, value)
    runtime.settings.cache_clear()
    runtime.tiers.cache_clear()
    yield
    runtime.settings.cache_clear()
    runtime.tiers.cache_clear()


@pytest.fixture
def db(db_url: str):
    """A transaction on the actions' database, for arranging and checking."""
    return sessions_for(db_url)


def tracker(
    sender: str = "s1",
    *,
    text: str = "",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    channel: str = "rest",
    intent: str = "x",
    confidence: float = 1.0,
    ranking: dict[str, float] | None = None,
    form: str | None = None,
) -> Tracker:
    """A tracker as Rasa sends it: the latest message (with the NLU's ``intent`` and ``ranking``),
    the slots the action reads, and the ``form`` active, if any."""
    ranked = ranking or {intent: confidence}
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": name, "confidence": c} for name, c in ranked.items()],
        "entities": entities or [],
    }
    events = [{"event": "user", "text": text, "input_channel": channel, "parse_data": latest}]
    loop = {"name": form} if form else {}
    return Tracker(sender, {"language": "en", **(slots or {})}, latest, events, False, None, loop, "action_listen")


def run(
    action: Action, state: Tracker, domain: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What the action says (response names and their values) and the events it returns."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, state, domain or {}))
    return dispatcher.messages, events
