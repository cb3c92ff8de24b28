"""Customers and orders for tests, made to reach a given tier of the shipped tiers.yml."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from bot.db.models import Customer, Order


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
