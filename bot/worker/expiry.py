"""Handoffs no agent accepted within HANDOFF_TIMEOUT_MINUTES become tickets; the customer is told."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from bot.service.handoffs import expire_overdue
from bot.service.tiers import TierConfig

__all__ = ["expire"]

logger = logging.getLogger(__name__)


def expire(session: Session, *, timeout: timedelta, tiers: TierConfig) -> int:
    """Turns the overdue handoffs into tickets; the notice to the customer waits for delivery."""
    expired = expire_overdue(session, timeout=timeout, tiers=tiers)
    session.commit()
    for handoff in expired:
        logger.info("handoff %s not accepted in time: ticket %s", handoff.id, handoff.ticket and handoff.ticket.number)
    return len(expired)
