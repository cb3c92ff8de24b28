"""Announces each new escalation to ESCALATION_WEBHOOK_URL, for the chat tool agents already use.

Every worker looks at the handoffs opened since it started; the one that first records a
handoff as announced posts it, so several workers post each once. The record is a row of
``channel_messages_seen``, the table of things taken once that the channels keep, under a
key of its own; its primary key lets one insert win, and it is forgotten after a day like
the rest, long after every worker has passed the handoff by.
"""

from __future__ import annotations

import logging

import httpx
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import ChannelMessageSeen, Handoff

__all__ = ["EscalationWebhook"]

logger = logging.getLogger(__name__)


def _first_to_announce(session: Session, handoff_id: int) -> bool:
    """Records handoff ``handoff_id`` as announced; False if another worker did first."""
    session.add(ChannelMessageSeen(key=f"escalation-webhook:{handoff_id}"))
    try:
        # Committed before posting: a worker killed in between loses this one announcement, best
        # effort as a failed post is, rather than letting another worker post it a second time.
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


class EscalationWebhook:
    def __init__(self, http: httpx.Client, *, url: str, console_url: str) -> None:
        self.http = http
        self.url = url
        self.console_url = console_url
        self._announced: int | None = None  # the last handoff this worker looked at

    def __call__(self, session: Session) -> int:
        """Posts each handoff opened since the last pass, once, best effort; returns how many."""
        if self._announced is None:
            # Only escalations from now on: a restart does not announce the whole history.
            self._announced = session.scalar(select(func.max(Handoff.id))) or 0
            return 0
        new = session.scalars(select(Handoff).where(Handoff.id > self._announced).order_by(Handoff.id)).all()
        posted = 0
        for handoff in new:
            self._announced = handoff.id
            payload = {
                "id": handoff.id,
                "tier": handoff.tier,
                "reason": handoff.reason,
                "summary": handoff.summary,
                "language": handoff.language,
                "url": f"{self.console_url}/handoffs/{handoff.id}",
                "text": f"[{handoff.tier}] {handoff.summary}",
            }
            if not _first_to_announce(session, handoff.id):
                continue
            try:
                self.http.post(self.url, json=payload, timeout=5).raise_for_status()
            except httpx.HTTPError as error:
                logger.warning("escalation webhook failed for handoff %s: %s", handoff.id, error)
            posted += 1
        return posted
