"""The record of platform messages already taken (``channel_messages_seen``), written by our
Rasa channels so a platform's retried delivery is handled once, and forgotten here once no
retry can come: WeChat retries within seconds, and a day is kept."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.db.models import ChannelMessageSeen

__all__ = ["KEPT", "forget_old"]

KEPT = timedelta(days=1)


def forget_old(session: Session, *, now: datetime) -> int:
    """Deletes the records older than ``KEPT``; returns how many."""
    result = session.execute(delete(ChannelMessageSeen).where(ChannelMessageSeen.seen_at < now - KEPT))
    return int(getattr(result, "rowcount", 0))
