"""What tests make: settings, customers and orders that reach a given tier of the shipped tiers.yml, tickets."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from bot.db.models import Customer, Handoff, Order, Ticket
from bot.service.complaints import open_ticket
from bot.service.handoffs import open_handoff
from bot.service.tiers import TierConfig
from bot.settings import Settings, load_settings

# Secrets of the length production asks for, not the demo's.
SECRETS = {name: name[0].lower() * 32 for name in ("IDENTITY_SECRET", "RASA_TOKEN", "CONSOLE_SECRET", "ACTION_TOKEN")}


def console_settings(database_url: str, **env: str) -> Settings:
    """Settings for a console in a test, on ``database_url``, with no Rasa to reach (port 9)."""
    return load_settings({**SECRETS, "DATABASE_URL": database_url, "RASA_PORT": "9", **env})


def add_handoff(
    session: Session,
    tiers: TierConfig,
    *,
    sender: str,
    tier: str,
    name: str | None = None,
    now: datetime | None = None,
) -> Handoff:
    """A guest's request for a person, queued in conversation ``sender`` with ``tier``'s priority."""
    customer: dict[str, Any] = {"tier_label": tier, **({"name": name} if name else {})}
    return open_handoff(
        session,
        sender_id=sender,
        channel="rest",
        customer_id=None,
        tier=tiers.get(tier),
        language="en",
        reason="requested",
        packet={"customer": customer},
        now=now,
    )


def add_ticket(
    session: Session,
    tiers: TierConfig,
    *,
    sender: str,
    customer_id: str | None,
    status: str = "open",
    category: str = "other",
    order_id: str | None = None,
) -> Ticket:
    """A guest-tier ticket (by default of category "other", about no order) opened in conversation ``sender``."""
    ticket = open_ticket(
        session,
        policy=tiers.guest.policy,
        tier="guest",
        sender_id=sender,
        channel="rest",
        customer_id=customer_id,
        language="en",
        category=category,
        order_id=order_id,
        description="it broke",
    )
    ticket.status = status
    return ticket


def add_order(session: Session, order_id: str, customer_id: str, *, days_ago: int, items: str = "Lamp x1") -> Order:
    """A ¥59 order placed ``days_ago`` and shipped, its parcel on the way."""
    order = Order(
        id=order_id,
        customer_id=customer_id,
        placed_at=date.today() - timedelta(days=days_ago),
        amount=Decimal("59.00"),
        status="shipped",
        items=items,
    )
    session.add(order)
    return order


def add_customer(
    session: Session,
    customer_id: str,
    *,
    name: str,
    language: str = "en",
    phone: str | None = None,
    orders: int = 0,
    spend: Decimal | int = 0,
    days_ago: int = 5,
    tier: str | None = None,
) -> Customer:
    """A customer with ``orders`` delivered orders worth ``spend`` in all, the newest ``days_ago``."""
    customer = Customer(id=customer_id, name=name, language=language, phone=phone, tier=tier)
    session.add(customer)
    for n in range(orders):
        session.add(
            Order(
                id=f"{customer_id}-O{n}",
                customer_id=customer_id,
                placed_at=date.today() - timedelta(days=days_ago + 7 * n),
                amount=Decimal(spend) / orders,
                status="delivered",
                items="test item x1",
            )
        )
    session.flush()
    return customer
