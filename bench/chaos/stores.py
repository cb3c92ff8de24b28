"""What the stores kept: Rasa's tracker events and the handoffs' messages, per conversation."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import create_engine, select, text

from bot.db.models import Handoff, HandoffMessage
from bot.db.session import sessions_for

__all__ = ["StoredMessage", "TrackerEvent", "handoff_messages", "tracker_events"]


@dataclass(frozen=True)
class TrackerEvent:
    kind: str  # Rasa's event type: "user", "bot" or "action"
    text: str = ""
    message_id: str | None = None
    action: str = ""


@dataclass(frozen=True)
class StoredMessage:
    handoff_id: int
    author: str  # "customer", "agent" or "system"
    text: str
    delivered: bool


def tracker_events(url: str, senders: Collection[str]) -> dict[str, list[TrackerEvent]]:
    """The user, bot and action events of ``senders``' conversations, in the order Rasa stored them."""
    wanted = set(senders)
    found: dict[str, list[TrackerEvent]] = defaultdict(list)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT sender_id, type_name, action_name, data FROM events"
                    " WHERE type_name IN ('user', 'bot', 'action') ORDER BY id"
                )
            )
            for sender, kind, action, data in rows:
                if sender not in wanted:
                    continue
                event = json.loads(data)
                found[sender].append(TrackerEvent(kind, event.get("text") or "", event.get("message_id"), action or ""))
    finally:
        engine.dispose()
    return found


def handoff_messages(database_url: str, senders: Collection[str]) -> dict[str, list[StoredMessage]]:
    """Every message of ``senders``' handoffs, in the order they were stored."""
    found: dict[str, list[StoredMessage]] = defaultdict(list)
    with sessions_for(database_url)() as session:
        rows = session.execute(
            select(
                Handoff.sender_id,
                HandoffMessage.handoff_id,
                HandoffMessage.author,
                HandoffMessage.text,
                HandoffMessage.delivered_at,
            )
            .join(HandoffMessage.handoff)
            .where(Handoff.sender_id.in_(list(senders)))
            .order_by(HandoffMessage.id)
        )
        for sender, handoff_id, author, text_, delivered_at in rows:
            found[sender].append(StoredMessage(handoff_id, author, text_, delivered_at is not None))
    return found
