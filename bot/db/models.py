"""Tables of the business database (SQLAlchemy 2 declarative, typed).

Times are naive UTC, the one form SQLite and PostgreSQL both keep as written.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.clock import utcnow

__all__ = [
    "PROMISED_DAYS",
    "SHIPMENT_OF_STATUS",
    "Agent",
    "Base",
    "BindAttempt",
    "ChannelIdentity",
    "ChannelMessageSeen",
    "ConsoleSession",
    "ConversationOutcome",
    "Customer",
    "Handoff",
    "HandoffMessage",
    "KbAnswer",
    "KbFeedback",
    "KbGap",
    "Order",
    "SignInFailure",
    "Ticket",
    "TicketUpdate",
    "utcnow",
]


class Base(DeclarativeBase):
    # Stable constraint names, so migrations can alter them on SQLite and PostgreSQL alike.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="zh")
    tier: Mapped[str | None] = mapped_column(String(32), index=True)
    tier_updated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    orders: Mapped[list[Order]] = relationship(back_populates="customer", order_by="Order.placed_at.desc()")
    identities: Mapped[list[ChannelIdentity]] = relationship(back_populates="customer")

    def __repr__(self) -> str:
        return f"Customer(id={self.id!r}, name={self.name!r}, tier={self.tier!r})"


class ChannelIdentity(Base):
    """A user of a messaging channel (a WeChat OpenID, say) bound to a customer."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    channel_user_id: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    bound_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="identities")

    def __repr__(self) -> str:
        return f"ChannelIdentity({self.channel}:{self.channel_user_id} -> {self.customer_id})"


# The shop's delivery promise when an order's data name no date of their own.
PROMISED_DAYS = 5
# Where the parcel of an order in each status stands, when the data say nothing more:
# "returned" is a parcel back at the shop, whether refused, undeliverable or sent back.
SHIPMENT_OF_STATUS = {
    "placed": "pending",
    "paid": "pending",
    "cancelled": "pending",
    "shipped": "in_transit",
    "delivered": "delivered",
    "returned": "returned",
    "refunded": "returned",
}


def _promised_by_rule(context: DefaultExecutionContext) -> date:
    placed_at: date = context.get_current_parameters()["placed_at"]
    return placed_at + timedelta(days=PROMISED_DAYS)


def _shipment_of_status(context: DefaultExecutionContext) -> str:
    return SHIPMENT_OF_STATUS.get(context.get_current_parameters()["status"], "pending")


class Order(Base):
    """An order and the parcel it became: the shop's status, and the carrier's facts once shipped."""

    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    placed_at: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    status: Mapped[str] = mapped_column(String(16))
    items: Mapped[str] = mapped_column(Text, default="")
    # pending, shipped (handed to the carrier), in_transit, out_for_delivery, delivered or returned.
    shipment_status: Mapped[str] = mapped_column(String(16), default=_shipment_of_status)
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(40))
    shipped_at: Mapped[date | None]
    promised_date: Mapped[date] = mapped_column(default=_promised_by_rule)
    delivered_at: Mapped[date | None]

    customer: Mapped[Customer] = relationship(back_populates="orders")

    def __repr__(self) -> str:
        return f"Order(id={self.id!r}, amount={self.amount}, status={self.status!r})"


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    sender_id: Mapped[str] = mapped_column(String(128), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    tier: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="en")
    category: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    priority: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="open")
    sla_due_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    resolved_at: Mapped[datetime | None]

    updates: Mapped[list[TicketUpdate]] = relationship(back_populates="ticket", order_by="TicketUpdate.id")

    def __repr__(self) -> str:
        return f"Ticket(number={self.number!r}, status={self.status!r})"


class TicketUpdate(Base):
    """A change of a ticket's status by an agent, with their note.

    An update the customer must hear of (their ticket resolved) is delivered to
    their channel like an agent's message: stored first, ``delivered_at`` set once
    Rasa took it.
    """

    __tablename__ = "ticket_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    notify: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    ticket: Mapped[Ticket] = relationship(back_populates="updates")
    agent: Mapped[Agent | None] = relationship()

    def __repr__(self) -> str:
        return f"TicketUpdate(ticket_id={self.ticket_id}, status={self.status!r})"


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    # SHA-256 of the agent's API token: the token is random, so a fast hash is enough.
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"Agent(username={self.username!r}, role={self.role!r})"


class ConsoleSession(Base):
    """An agent's sign-in to the console, so signing out (or being removed) ends it on the server."""

    __tablename__ = "console_sessions"

    # SHA-256 of the random id the cookie carries: a stolen table opens no session.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]

    agent: Mapped[Agent] = relationship()


class SignInFailure(Base):
    """A wrong console password, for the limits per account and per address; shared by replicas."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Handoff(Base):
    """A conversation waiting for, or with, a human agent."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    tier: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    priority: Mapped[int]
    reason: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    packet: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    # The ticket a handoff no agent accepted in time became.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    rating: Mapped[int | None]

    messages: Mapped[list[HandoffMessage]] = relationship(back_populates="handoff", order_by="HandoffMessage.id")
    agent: Mapped[Agent | None] = relationship()
    ticket: Mapped[Ticket | None] = relationship()

    def __repr__(self) -> str:
        return f"Handoff(id={self.id}, sender_id={self.sender_id!r}, status={self.status!r})"


class HandoffMessage(Base):
    """One message of a handoff, by the customer, an agent or the system.

    Agent and system messages are stored first and delivered to the customer's
    channel after, in id order; ``delivered_at`` stays empty until Rasa took them.
    A system message's text is the event: "joined", "closed", "expired" or "ticketed".
    ``client_key`` is the Idempotency-Key an agents' tool sent the message with: one per handoff.
    """

    __tablename__ = "handoff_messages"
    __table_args__ = (Index("ix_handoff_messages_client_key", "handoff_id", "client_key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"), index=True)
    author: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    client_key: Mapped[str | None] = mapped_column(String(64))

    handoff: Mapped[Handoff] = relationship(back_populates="messages")

    def __repr__(self) -> str:
        return f"HandoffMessage(id={self.id}, author={self.author!r})"


class ConversationOutcome(Base):
    """How a conversation ended: self_served, ticket, escalated or abandoned."""

    __tablename__ = "conversation_outcomes"
    __table_args__ = (UniqueConstraint("sender_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    tier: Mapped[str] = mapped_column(String(32), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime] = mapped_column(default=utcnow)
    rating: Mapped[int | None]

    def __repr__(self) -> str:
        return f"ConversationOutcome(sender_id={self.sender_id!r}, outcome={self.outcome!r})"


class KbGap(Base):
    """A question the knowledge base could not answer."""

    __tablename__ = "kb_gaps"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    tier: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(Text)
    best_score: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The entry written to answer it, once someone did.
    resolved_entry_id: Mapped[str | None] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"KbGap(id={self.id}, question={self.question[:30]!r})"


class KbAnswer(Base):
    """A question the knowledge base answered, for the most asked questions."""

    __tablename__ = "kb_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(64), index=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    tier: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"KbAnswer(entry_id={self.entry_id!r})"


class BindAttempt(Base):
    """A try at binding a messaging account to a customer, for the limit on attempts."""

    __tablename__ = "bind_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    channel_user_id: Mapped[str] = mapped_column(String(128), index=True)
    succeeded: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelMessageSeen(Base):
    """A platform message already taken, so a retried delivery is handled once.

    Written by our Rasa channels (several replicas may share it); Redis does the
    same job when REDIS_URL is set.
    """

    __tablename__ = "channel_messages_seen"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class KbFeedback(Base):
    """A customer's answer to "did this help?" after a knowledge-base answer."""

    __tablename__ = "kb_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(64), index=True)
    helpful: Mapped[bool]
    sender_id: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    tier: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(Text)
    score: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"KbFeedback(entry_id={self.entry_id!r}, helpful={self.helpful})"
