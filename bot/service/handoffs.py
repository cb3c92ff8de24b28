"""The human handoff: the queue, the record an agent reads, and the messages relayed both ways.

The action server opens handoffs and appends the customer's messages; the console
lets agents accept, reply and close; the worker delivers what they write. All go
through these functions, so the rules live in one place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import (
    Customer,
    Handoff,
    HandoffMessage,
    Order,
    Ticket,
    utcnow,
)
from bot.service.agents import AgentRef
from bot.service.complaints import category_label, open_ticket
from bot.service.customers import customer_rfm, way_up
from bot.service.tickets import open_tickets_of
from bot.service.tiers import Gap, Tier, TierConfig

__all__ = [
    "ACTIVE",
    "CLOSED",
    "EXPIRED",
    "MAX_MESSAGE",
    "OPEN",
    "TICKETED",
    "WAITING",
    "HandoffConflict",
    "HandoffNotFound",
    "HandoffRecord",
    "HandoffView",
    "MessageView",
    "Notice",
    "accept",
    "add_customer_message",
    "close",
    "conversation_since",
    "convert_to_ticket",
    "customer_facts",
    "customer_way_up",
    "expected_wait_minutes",
    "expire_overdue",
    "handoff_record",
    "notice_for",
    "open_handoff",
    "open_handoff_of",
    "pending_deliveries",
    "post_agent_message",
    "queue",
    "queue_position",
    "queue_state",
    "queue_view",
    "relay_customer_message",
    "summarize",
]

WAITING, ACTIVE, CLOSED, EXPIRED, TICKETED = "waiting", "active", "closed", "expired", "ticketed"
OPEN = (WAITING, ACTIVE)
MAX_MESSAGE = 4000


class HandoffNotFound(LookupError):
    pass


class HandoffConflict(Exception):
    """The handoff is not in a state that allows this (accepting a closed one, say)."""


def open_handoff_of(session: Session, sender_id: str) -> Handoff | None:
    return session.scalar(
        select(Handoff).where(Handoff.sender_id == sender_id, Handoff.status.in_(OPEN)).order_by(Handoff.id.desc())
    )


def _queue_order() -> tuple[Any, ...]:
    return (Handoff.priority.desc(), Handoff.created_at, Handoff.id)


def queue(session: Session, statuses: Sequence[str] = OPEN) -> list[Handoff]:
    """Handoffs in the order agents should take them: tier priority, then waiting time."""
    return list(session.scalars(select(Handoff).where(Handoff.status.in_(statuses)).order_by(*_queue_order())))


def queue_position(session: Session, handoff: Handoff) -> int:
    """1 for the next customer an agent will take."""
    ahead = session.scalar(
        select(func.count(Handoff.id)).where(
            Handoff.status == WAITING,
            Handoff.id != handoff.id,
            (Handoff.priority > handoff.priority)
            | ((Handoff.priority == handoff.priority) & (Handoff.created_at < handoff.created_at))
            | (
                (Handoff.priority == handoff.priority)
                & (Handoff.created_at == handoff.created_at)
                & (Handoff.id < handoff.id)
            ),
        )
    )
    return int(ahead or 0) + 1


def expected_wait_minutes(position: int, minutes_each: float) -> int:
    return max(1, math.ceil(position * minutes_each))


def customer_facts(
    session: Session, customer_id: str | None, *, tiers: TierConfig, tier: Tier, today: date
) -> dict[str, Any]:
    """What an agent needs to know about the customer: tier, RFM figures, orders, open tickets."""
    facts: dict[str, Any] = {"tier": tier.id, "tier_label": tier.label_in("en"), "customer_id": customer_id}
    if customer_id is None:
        return facts
    customer = session.get(Customer, customer_id)
    if customer is None:
        return facts
    rfm = customer_rfm(session, customer_id=customer_id, tiers=tiers, today=today)
    orders = session.scalars(
        select(Order).where(Order.customer_id == customer_id).order_by(Order.placed_at.desc()).limit(10)
    )
    facts.update(
        name=customer.name,
        phone=customer.phone,
        email=customer.email,
        language=customer.language,
        rfm={"recency_days": rfm.recency_days, "frequency": rfm.frequency, "monetary": str(rfm.monetary)},
        orders=[
            {
                "id": o.id,
                "placed_at": o.placed_at.isoformat(),
                "amount": str(o.amount),
                "status": o.status,
                "items": o.items,
                "shipment_status": o.shipment_status,
                "carrier": o.carrier,
                "tracking_number": o.tracking_number,
                "promised_date": o.promised_date.isoformat(),
                "delivered_at": o.delivered_at.isoformat() if o.delivered_at else None,
            }
            for o in orders
        ],
        open_tickets=[
            {"number": t.number, "category": t.category, "status": t.status, "sla_due_at": t.sla_due_at.isoformat()}
            for t in open_tickets_of(session, customer_id=customer_id)
        ],
    )
    return facts


def summarize(packet: dict[str, Any]) -> str:
    """One line an agent reads in five seconds: who, why, and what the bot already tried."""
    customer = packet.get("customer") or {}
    who = f"{customer.get('tier_label', '?')} {customer.get('name') or 'guest'}"
    parts = [who, _REASONS.get(packet.get("reason", ""), packet.get("reason", ""))]
    draft = packet.get("ticket_draft") or {}
    if draft.get("category"):
        about = category_label(draft["category"], "en").lower()
        parts.append(f"{about} on order {draft['order_id']}" if draft.get("order_id") else about)
    tried = packet.get("bot_tried") or {}
    if tried.get("failures"):
        parts.append(f"bot failed {tried['failures']}x")
    last = next((t["text"] for t in reversed(packet.get("transcript") or []) if t["author"] == "customer"), None)
    if last:
        parts.append(f'last said "{last[:80]}"')
    return " · ".join(p for p in parts if p)


_REASONS = {
    "requested": "asked for a person",
    "insisted": "insisted on a person",
    "complaint": "complaint",
    "bot_failed": "the bot could not help",
}


def open_handoff(
    session: Session,
    *,
    sender_id: str,
    channel: str,
    customer_id: str | None,
    tier: Tier,
    language: str,
    reason: str,
    packet: dict[str, Any],
    now: datetime | None = None,
) -> Handoff:
    """Queues the conversation for an agent; a conversation already queued keeps its place."""
    existing = open_handoff_of(session, sender_id)
    if existing is not None:
        return existing
    packet = {**packet, "reason": reason}
    handoff = Handoff(
        sender_id=sender_id,
        channel=channel,
        customer_id=customer_id,
        tier=tier.id,
        language=language,
        status=WAITING,
        priority=tier.policy.queue_priority,
        reason=reason,
        summary=summarize(packet),
        packet=packet,
        created_at=now or utcnow(),
    )
    session.add(handoff)
    session.flush()
    return handoff


def add_customer_message(session: Session, handoff: Handoff, text: str) -> HandoffMessage:
    message = HandoffMessage(handoff_id=handoff.id, author="customer", text=text[:MAX_MESSAGE], delivered_at=utcnow())
    session.add(message)
    session.flush()
    return message


def relay_customer_message(session: Session, *, handoff_id: int, sender_id: str, text: str) -> bool:
    """Adds the customer's message to their handoff; False if it is none of this conversation's."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None or handoff.sender_id != sender_id:
        return False
    add_customer_message(session, handoff, text)
    return True


@dataclass(frozen=True)
class Notice:
    """A stored agent or system message, as the customer is to be told it."""

    kind: str  # "agent" (text is the agent's words), "joined", "closed", "expired" or "ticketed"
    text: str
    agent: str | None  # the agent's display name; None for the company itself
    handoff_id: int
    ticket_number: str | None
    ticket_due: datetime | None


def notice_for(session: Session, *, message_id: int, sender_id: str) -> Notice | None:
    """Stored message ``message_id`` of this conversation's handoff; None if it is not this conversation's."""
    message = session.get(HandoffMessage, message_id)
    if message is None or message.handoff.sender_id != sender_id:
        return None
    handoff, ticket = message.handoff, message.handoff.ticket
    return Notice(
        kind="agent" if message.author == "agent" else message.text,
        text=message.text,
        agent=handoff.agent.display_name if handoff.agent else None,
        handoff_id=handoff.id,
        ticket_number=ticket.number if ticket else None,
        ticket_due=ticket.sla_due_at if ticket else None,
    )


def _get(session: Session, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id, with_for_update=True)
    if handoff is None:
        raise HandoffNotFound(f"no handoff {handoff_id}")
    return handoff


def _system(session: Session, handoff: Handoff, event: str) -> HandoffMessage:
    message = HandoffMessage(handoff_id=handoff.id, author="system", text=event)
    session.add(message)
    return message


def accept(session: Session, handoff_id: int, agent: AgentRef) -> Handoff:
    handoff = _get(session, handoff_id)
    if handoff.status != WAITING:
        raise HandoffConflict(f"handoff {handoff_id} is {handoff.status}, not waiting")
    handoff.status, handoff.agent_id, handoff.accepted_at = ACTIVE, agent.id, utcnow()
    _system(session, handoff, "joined")
    session.flush()
    return handoff


def post_agent_message(
    session: Session, handoff_id: int, agent: AgentRef, text: str, key: str | None = None
) -> HandoffMessage:
    """Stores an agent's reply for delivery; only the agent who accepted the handoff may write.

    A reply sent again with the ``key`` of one stored already is that one, not another.
    """
    text = text.strip()
    if not text:
        raise ValueError("the message is empty")
    if len(text) > MAX_MESSAGE:
        raise ValueError(f"the message is longer than {MAX_MESSAGE} characters")
    handoff = _get(session, handoff_id)
    if key is not None and (sent := _sent_with(session, handoff.id, key)) is not None:
        if sent.text != text or sent.agent_id != agent.id:
            raise HandoffConflict(f"the key {key!r} was used for another message of handoff {handoff_id}")
        return sent
    if handoff.status != ACTIVE:
        raise HandoffConflict(f"handoff {handoff_id} is {handoff.status}: accept it before replying")
    if handoff.agent_id != agent.id:
        raise HandoffConflict(f"handoff {handoff_id} was accepted by another agent")
    message = HandoffMessage(handoff_id=handoff.id, author="agent", agent_id=agent.id, text=text, client_key=key)
    session.add(message)
    session.flush()
    return message


def _sent_with(session: Session, handoff_id: int, key: str) -> HandoffMessage | None:
    return session.scalar(
        select(HandoffMessage).where(HandoffMessage.handoff_id == handoff_id, HandoffMessage.client_key == key)
    )


def _ended_by(session: Session, handoff_id: int, agent: AgentRef) -> Handoff:
    """The open handoff ``agent`` may end: a waiting one, or one they accepted; it is theirs from now."""
    handoff = _get(session, handoff_id)
    if handoff.status not in OPEN:
        raise HandoffConflict(f"handoff {handoff_id} is already {handoff.status}")
    if handoff.status == ACTIVE and handoff.agent_id != agent.id:
        raise HandoffConflict(f"handoff {handoff_id} was accepted by another agent")
    handoff.agent_id = handoff.agent_id or agent.id
    return handoff


def close(session: Session, handoff_id: int, agent: AgentRef) -> Handoff:
    """Hands the conversation back to the bot, which asks the customer for a rating."""
    handoff = _ended_by(session, handoff_id, agent)
    handoff.status, handoff.closed_at = CLOSED, utcnow()
    _system(session, handoff, "closed")
    session.flush()
    return handoff


def _to_ticket(session: Session, handoff: Handoff, *, tiers: TierConfig, status: str, now: datetime) -> Ticket:
    """Ends a handoff as a ticket drafted from what the bot and the customer said."""
    tier = tiers.get(handoff.tier) or tiers.guest
    draft = (handoff.packet or {}).get("ticket_draft") or {}
    said = [m.text for m in handoff.messages if m.author == "customer"]
    ticket = open_ticket(
        session,
        policy=tier.policy,
        tier=tier.id,
        sender_id=handoff.sender_id,
        channel=handoff.channel,
        customer_id=handoff.customer_id,
        language=handoff.language,
        category=draft.get("category") or "other",
        order_id=draft.get("order_id"),
        description="\n".join(filter(None, [draft.get("description"), handoff.summary, *said])),
        now=now,
    )
    handoff.status, handoff.closed_at, handoff.ticket_id = status, now, ticket.id
    _system(session, handoff, status)
    return ticket


def expire_overdue(
    session: Session, *, timeout: timedelta, tiers: TierConfig, now: datetime | None = None
) -> list[Handoff]:
    """Turns handoffs no agent accepted within ``timeout`` into tickets; the customer is told."""
    now = now or utcnow()
    overdue = session.scalars(
        select(Handoff)
        .where(Handoff.status == WAITING, Handoff.created_at <= now - timeout)
        # Another worker's, or an agent accepting it: theirs to finish; this one is left for the next pass.
        .with_for_update(skip_locked=True)
    ).all()
    for handoff in overdue:
        _to_ticket(session, handoff, tiers=tiers, status=EXPIRED, now=now)
    session.flush()
    return list(overdue)


def convert_to_ticket(session: Session, handoff_id: int, agent: AgentRef, *, tiers: TierConfig) -> Ticket:
    """An agent ends a handoff as a ticket, to follow up later; the customer is told its number."""
    handoff = _ended_by(session, handoff_id, agent)
    ticket = _to_ticket(session, handoff, tiers=tiers, status=TICKETED, now=utcnow())
    session.flush()
    return ticket


def pending_deliveries(session: Session, sender_id: str | None = None) -> list[HandoffMessage]:
    """Agent and system messages not yet delivered, of one conversation or of all; oldest first per conversation."""
    query = select(HandoffMessage).where(HandoffMessage.author != "customer", HandoffMessage.delivered_at.is_(None))
    if sender_id is not None:
        query = query.join(Handoff).where(Handoff.sender_id == sender_id)
    return list(session.scalars(query.order_by(HandoffMessage.handoff_id, HandoffMessage.id)))


# What agents read: one shape for the console's pages, its API and its live events.


@dataclass(frozen=True)
class MessageView:
    """A relayed message; ``delivered`` is false until Rasa has taken an agent's or system message."""

    id: int
    author: str  # "customer", "agent" or "system" (then the text is the event, as in Notice.kind)
    text: str
    created_at: datetime
    delivered: bool

    @classmethod
    def of(cls, message: HandoffMessage) -> MessageView:
        return cls(
            id=message.id,
            author=message.author,
            text=message.text,
            created_at=message.created_at,
            delivered=message.delivered_at is not None,
        )


@dataclass(frozen=True)
class HandoffView:
    """A handoff as the queue shows it."""

    id: int
    status: str
    tier: str
    priority: int
    reason: str
    summary: str
    customer_id: str | None
    customer_name: str | None
    language: str
    channel: str
    position: int | None  # in the queue, while waiting
    waiting_seconds: int  # until an agent accepted, or until now
    agent_id: int | None
    agent: str | None  # the username of the agent who has it
    agent_name: str | None  # and their display name
    created_at: datetime
    accepted_at: datetime | None
    closed_at: datetime | None
    ticket: str | None  # the number of the ticket it became
    rating: int | None


@dataclass(frozen=True)
class HandoffRecord(HandoffView):
    """A handoff with all an agent reads: the packet the bot gathered and the messages relayed since."""

    packet: dict[str, Any]
    messages: list[MessageView]


def _view_fields(session: Session, handoff: Handoff, now: datetime) -> dict[str, Any]:
    customer = (handoff.packet or {}).get("customer") or {}
    agent = handoff.agent
    return {
        "id": handoff.id,
        "status": handoff.status,
        "tier": handoff.tier,
        "priority": handoff.priority,
        "reason": handoff.reason,
        "summary": handoff.summary,
        "customer_id": handoff.customer_id,
        "customer_name": customer.get("name"),
        "language": handoff.language,
        "channel": handoff.channel,
        "position": queue_position(session, handoff) if handoff.status == WAITING else None,
        "waiting_seconds": int(((handoff.accepted_at or now) - handoff.created_at).total_seconds()),
        "agent_id": handoff.agent_id,
        "agent": agent.username if agent else None,
        "agent_name": agent.display_name if agent else None,
        "created_at": handoff.created_at,
        "accepted_at": handoff.accepted_at,
        "closed_at": handoff.closed_at,
        "ticket": handoff.ticket.number if handoff.ticket else None,
        "rating": handoff.rating,
    }


def queue_view(session: Session, statuses: Sequence[str] = OPEN) -> list[HandoffView]:
    """The queue as agents see it, in the order they should take it."""
    now = utcnow()
    return [HandoffView(**_view_fields(session, handoff, now)) for handoff in queue(session, statuses)]


def handoff_record(session: Session, handoff_id: int) -> HandoffRecord:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise HandoffNotFound(f"no handoff {handoff_id}")
    return HandoffRecord(
        **_view_fields(session, handoff, utcnow()),
        packet=handoff.packet,
        messages=[MessageView.of(message) for message in handoff.messages],
    )


def customer_way_up(
    session: Session, handoff: HandoffView, *, tiers: TierConfig, today: date
) -> tuple[Tier, Gap] | None:
    """The tier above the handoff's customer's and what they lack to reach it; None for a guest or at the top."""
    if handoff.customer_id is None or session.get(Customer, handoff.customer_id) is None:
        return None
    return way_up(session, customer_id=handoff.customer_id, tier=tiers.get(handoff.tier), tiers=tiers, today=today)


def queue_state(session: Session) -> tuple[tuple[int, str], ...]:
    """The id and status of each open handoff: what tells a watcher that the queue changed."""
    return tuple(session.execute(select(Handoff.id, Handoff.status).where(Handoff.status.in_(OPEN))).tuples())


def conversation_since(session: Session, handoff_id: int, after: int) -> tuple[list[MessageView], str | None]:
    """The messages of a handoff after message ``after``, and its status; None if there is no such handoff."""
    messages = session.scalars(
        select(HandoffMessage)
        .where(HandoffMessage.handoff_id == handoff_id, HandoffMessage.id > after)
        .order_by(HandoffMessage.id)
    )
    handoff = session.get(Handoff, handoff_id)
    return [MessageView.of(message) for message in messages], handoff.status if handoff else None
