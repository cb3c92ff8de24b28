"""Forgetting what no longer matters: the channels' record of messages already taken."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.service.channel_messages import forget_old

__all__ = ["Pruning"]


class Pruning:
    """A job that prunes at most once every ``every``, though the loop calls it on every pass."""

    def __init__(self, every: timedelta = timedelta(hours=1)) -> None:
        self.every = every
        self._last: datetime | None = None

    def __call__(self, session: Session) -> int:
        now = utcnow()
        if self._last is not None and now - self._last < self.every:
            return 0
        forgotten = forget_old(session, now=now)
        session.commit()
        self._last = now
        return forgotten
