"""Announces each new escalation to ESCALATION_WEBHOOK_URL, for the chat tool agents already use."""

from __future__ import annotations

import logging

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Handoff

__all__ = ["EscalationWebhook"]

logger = logging.getLogger(__name__)


class EscalationWebhook:
    def __init__(self, http: httpx.Client, *, url: str, console_url: str) -> None:
        self.http = http
        self.url = url
        self.console_url = console_url
        self._announced: int | None = None  # the last handoff posted

    def __call__(self, session: Session) -> int:
        """Posts each handoff opened since the last pass, once, best effort; returns how many."""
        if self._announced is None:
            # Only escalations from now on: a restart does not announce the whole history.
            self._announced = session.scalar(select(func.max(Handoff.id))) or 0
            return 0
        new = session.scalars(select(Handoff).where(Handoff.id > self._announced).order_by(Handoff.id)).all()
        for handoff in new:
            payload = {
                "id": handoff.id,
                "tier": handoff.tier,
                "reason": handoff.reason,
                "summary": handoff.summary,
                "language": handoff.language,
                "url": f"{self.console_url}/handoffs/{handoff.id}",
                "text": f"[{handoff.tier}] {handoff.summary}",
            }
            try:
                self.http.post(self.url, json=payload, timeout=5).raise_for_status()
            except httpx.HTTPError as error:
                logger.warning("escalation webhook failed for handoff %s: %s", handoff.id, error)
            self._announced = handoff.id
        return len(new)
