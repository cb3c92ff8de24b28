"""How each conversation ended, for deflection, escalation and satisfaction per tier.

A conversation is one Rasa session. It starts abandoned and moves up as it goes:
served by the bot, a ticket, escalated to a person. It never moves back down,
except that a bot failure after an answer leaves it abandoned again until the
bot serves the customer once more.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import ConversationOutcome, Handoff, utcnow

__all__ = ["ABANDONED", "ESCALATED", "SELF_SERVED", "TICKET", "record_outcome", "record_rating"]

ABANDONED, SELF_SERVED, TICKET, ESCALATED = "abandoned", "self_served", "ticket", "escalated"
_RANK = {ABANDONED: 0, SELF_SERVED: 0, TICKET: 1, ESCALATED: 2}


def _row(
    session: Session, *, sender_id: str, started_at: datetime, channel: str, customer_id: str | None, tier: str
) -> ConversationOutcome:
    row = session.scalar(
        select(ConversationOutcome).where(
            ConversationOutcome.sender_id == sender_id, ConversationOutcome.started_at == started_at
        )
    )
    if row is not None:
        return row
    row = ConversationOutcome(
        sender_id=sender_id,
        started_at=started_at,
        channel=channel,
        customer_id=customer_id,
        tier=tier,
        outcome=ABANDONED,
        ended_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another replica recorded the same conversation first.
        return _row(
            session, sender_id=sender_id, started_at=started_at, channel=channel, customer_id=customer_id, tier=tier
        )
    return row


def record_outcome(
    session: Session,
    *,
    sender_id: str,
    started_at: datetime,
    channel: str,
    customer_id: str | None,
    tier: str,
    outcome: str,
) -> ConversationOutcome:
    """Notes what just happened in a conversation; the outcome keeps the furthest step reached."""
    if outcome not in _RANK:
        raise ValueError(f"unknown outcome {outcome!r}")
    row = _row(session, sender_id=sender_id, started_at=started_at, channel=channel, customer_id=customer_id, tier=tier)
    if _RANK[outcome] >= _RANK[row.outcome]:
        row.outcome = outcome
    row.ended_at = utcnow()
    return row


def record_rating(
    session: Session, *, sender_id: str, started_at: datetime, rating: int, handoff_id: int | None = None
) -> None:
    """A 1-5 rating of the conversation, and of the handoff it follows when that is this conversation's."""
    if handoff_id is not None:
        handoff = session.get(Handoff, handoff_id)
        if handoff is not None and handoff.sender_id == sender_id:
            handoff.rating = rating
    row = session.scalar(
        select(ConversationOutcome).where(
            ConversationOutcome.sender_id == sender_id, ConversationOutcome.started_at == started_at
        )
    )
    if row is not None:
        row.rating = rating
