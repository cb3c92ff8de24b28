"""Tickets: a customer's own tickets, the agents' list, and status changes with a note."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Ticket, TicketUpdate, utcnow
from bot.service.agents import AgentRef

__all__ = [
    "OPEN_STATUSES",
    "SAME_PROBLEM_WITHIN",
    "STATUSES",
    "STATUS_LABELS",
    "add_customer_detail",
    "add_detail_to",
    "filter_tickets",
    "open_tickets_of",
    "pending_ticket_updates",
    "resolution_for",
    "same_problem_ticket",
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
# A complaint this soon after another about the same order is probably the same problem.
SAME_PROBLEM_WITHIN = timedelta(days=1)


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


def same_problem_ticket(
    session: Session,
    *,
    sender_id: str,
    customer_id: str | None,
    category: str | None,
    order_id: str | None,
    now: datetime,
) -> Ticket | None:
    """A recent open ticket a new complaint may be about.

    The one this conversation opened last, when nothing in the complaint points to another
    problem (another category, another order); else, for a named order, the customer's
    ticket about that order from any conversation. Recent means within ``SAME_PROBLEM_WITHIN``.
    """
    recent = select(Ticket).where(Ticket.status.in_(OPEN_STATUSES), Ticket.created_at >= now - SAME_PROBLEM_WITHIN)
    latest = (Ticket.created_at.desc(), Ticket.id.desc())
    own = session.scalars(recent.where(Ticket.sender_id == sender_id).order_by(*latest).limit(1)).first()
    if own is not None and category in (None, own.category) and order_id in (None, own.order_id):
        return own
    if customer_id and order_id:
        about_order = recent.where(Ticket.customer_id == customer_id, Ticket.order_id == order_id)
        return session.scalars(about_order.order_by(*latest).limit(1)).first()
    return None


def add_customer_detail(session: Session, ticket: Ticket, text: str, *, now: datetime) -> TicketUpdate:
    """Adds what the customer said later to their ticket, as an update agents see; the status stays."""
    note = text.strip()[:MAX_NOTE]
    if not note:
        raise ValueError("a detail needs some text")
    ticket.updated_at = now
    # No agent: the console shows it as the customer's own words.
    update = TicketUpdate(ticket_id=ticket.id, agent_id=None, status=ticket.status, note=note, created_at=now)
    session.add(update)
    session.flush()
    return update


def add_detail_to(
    session: Session, *, number: str, customer_id: str | None, sender_id: str, text: str, now: datetime
) -> Ticket | None:
    """Adds a detail to ticket ``number`` if this conversation's customer may see it and it is open."""
    found = tickets_of_conversation(session, customer_id=customer_id, sender_id=sender_id, number=number)
    if not found or found[0].status not in OPEN_STATUSES:
        return None
    add_customer_detail(session, found[0], text, now=now)
    return found[0]


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


def pending_ticket_updates(session: Session, sender_id: str | None = None) -> list[TicketUpdate]:
    """Updates the customer is to be told of and was not yet, of one conversation or of all; oldest first."""
    query = select(TicketUpdate).where(TicketUpdate.notify.is_(True), TicketUpdate.delivered_at.is_(None))
    if sender_id is not None:
        query = query.join(Ticket).where(Ticket.sender_id == sender_id)
    return list(session.scalars(query.order_by(TicketUpdate.id)))
