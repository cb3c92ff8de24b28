"""Tickets: a customer's own tickets, and only theirs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Ticket

__all__ = ["OPEN_STATUSES", "open_tickets_of"]

OPEN_STATUSES = ("open", "in_progress")


def open_tickets_of(session: Session, *, customer_id: str) -> list[Ticket]:
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.customer_id == customer_id, Ticket.status.in_(OPEN_STATUSES))
            .order_by(Ticket.created_at)
        )
    )
