"""Tickets: a customer's own tickets, the agents' list, and status changes with a note."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Ticket, TicketUpdate, utcnow
from bot.service.agents import AgentRef

__all__ = [
    "OPEN_STATUSES",
    "STATUSES",
    "STATUS_LABELS",
    "filter_tickets",
    "open_tickets_of",
    "pending_ticket_updates",
    "resolution_for",
    "tickets_of_conversation",
    "update_ticket",
]

OPEN_STATUSES = ("open", "in_progress")
STATUSES = (*OPEN_STATUSES, "resolved", "closed")
STATUS_LABELS = {
    "open": {"en": "open", "zh": "待处理"},
    "in_progress": {"en": "in progress", "zh": "处理中"},
    "resolved": {"en": "resolved", "zh": "已解决"},
    "closed": {"en": "closed", "zh": "已关闭"},
}
# The customer hears of these changes through their channel.
NOTIFIED = ("resolved",)
MAX_NOTE = 2000


def open_tickets_of(session: Session, *, customer_id: str) -> list[Ticket]:
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.customer_id == customer_id, Ticket.status.in_(OPEN_STATUSES))
            .order_by(Ticket.created_at)
        )
    )


def tickets_of_conversation(
    session: Session, *, customer_id: str | None, sender_id: str, number: str | None = None
) -> list[Ticket]:
    """The tickets a conversation's customer may see: their open ones, or the one numbered ``number``.

    A guest's are the guest tickets of this conversation: never those a signed-in
    customer opened in it before (a conversation id is no proof of identity).
    """
    own = (
        Ticket.customer_id == customer_id
        if customer_id
        else (Ticket.sender_id == sender_id) & Ticket.customer_id.is_(None)
    )
    query = select(Ticket).where(own)
    query = query.where(Ticket.number == number.upper()) if number else query.where(Ticket.status.in_(OPEN_STATUSES))
    return list(session.scalars(query.order_by(Ticket.created_at)))


def filter_tickets(
    session: Session,
    *,
    statuses: Sequence[str] = (),
    tiers: Sequence[str] = (),
    categories: Sequence[str] = (),
    limit: int = 200,
) -> list[Ticket]:
    """Tickets as agents work them: the most urgent SLA first."""
    query = select(Ticket)
    if statuses:
        query = query.where(Ticket.status.in_(statuses))
    if tiers:
        query = query.where(Ticket.tier.in_(tiers))
    if categories:
        query = query.where(Ticket.category.in_(categories))
    return list(session.scalars(query.order_by(Ticket.sla_due_at, Ticket.id).limit(limit)))


def update_ticket(session: Session, ticket_id: int, agent: AgentRef, *, status: str, note: str) -> TicketUpdate:
    """Changes a ticket's status with a note; a resolution is queued for the customer."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise LookupError(f"no ticket {ticket_id}")
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ValueError(f"the note is longer than {MAX_NOTE} characters")
    if status in NOTIFIED and not note:
        raise ValueError("tell the customer how it was resolved: the note is sent to them")
    now = utcnow()
    ticket.status, ticket.updated_at = status, now
    ticket.resolved_at = now if status in ("resolved", "closed") else None
    update = TicketUpdate(
        ticket_id=ticket.id, agent_id=agent.id, status=status, note=note, notify=status in NOTIFIED, created_at=now
    )
    session.add(update)
    session.flush()
    return update


def resolution_for(session: Session, *, update_id: int, sender_id: str) -> TicketUpdate | None:
    """Ticket update ``update_id`` if it is of this conversation's ticket."""
    update = session.get(TicketUpdate, update_id)
    return update if update is not None and update.ticket.sender_id == sender_id else None


def pending_ticket_updates(session: Session) -> list[TicketUpdate]:
    return list(
        session.scalars(
            select(TicketUpdate)
            .where(TicketUpdate.notify.is_(True), TicketUpdate.delivered_at.is_(None))
            .order_by(TicketUpdate.id)
        )
    )
