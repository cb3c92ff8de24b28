"""Customer look-ups and tier recomputation over the business database."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import ChannelIdentity, Customer, Order, utcnow
from bot.service.tiers import RFM, Gap, Tier, TierConfig

__all__ = ["TierMoves", "callback_contact", "customer_for_channel", "customer_rfm", "recompute_tiers", "way_up"]


def customer_for_channel(session: Session, *, channel: str, user_id: str) -> Customer | None:
    """The customer a channel user (a WeChat OpenID, say) was bound to, if any."""
    return session.scalars(
        select(Customer)
        .join(ChannelIdentity)
        .where(ChannelIdentity.channel == channel, ChannelIdentity.channel_user_id == user_id)
    ).one_or_none()


def way_up(
    session: Session, *, customer_id: str, tier: Tier | None, tiers: TierConfig, today: date
) -> tuple[Tier, Gap] | None:
    """The tier above the customer's and what they lack to reach it; None at the top."""
    above = tiers.next_above(tier) if tier else None
    if above is None:
        return None
    return above, above.rules.gap(customer_rfm(session, customer_id=customer_id, tiers=tiers, today=today))


def callback_contact(session: Session, customer_id: str | None) -> tuple[str, str] | None:
    """The name and phone number a call-back goes to; None for a guest or a customer without a phone."""
    customer = session.get(Customer, customer_id) if customer_id else None
    if customer is None or not customer.phone:
        return None
    return customer.name, customer.phone


def customer_rfm(session: Session, *, customer_id: str, tiers: TierConfig, today: date) -> RFM:
    rows = session.execute(select(Order.placed_at, Order.amount, Order.status).where(Order.customer_id == customer_id))
    return tiers.rfm(rows.tuples(), today)


@dataclass
class TierMoves:
    up: int = 0
    down: int = 0
    unchanged: int = 0
    by_tier: Counter[str] = field(default_factory=Counter)


def recompute_tiers(
    session: Session, *, tiers: TierConfig, today: date, customer_ids: list[str] | None = None
) -> TierMoves:
    """Store every customer's tier as their orders up to ``today`` earn it."""
    orders: dict[str, list[tuple]] = {}
    query = select(Order.customer_id, Order.placed_at, Order.amount, Order.status)
    customers = select(Customer)
    if customer_ids is not None:
        query = query.where(Order.customer_id.in_(customer_ids))
        customers = customers.where(Customer.id.in_(customer_ids))
    for customer_id, placed_at, amount, status in session.execute(query):
        orders.setdefault(customer_id, []).append((placed_at, amount, status))

    moves = TierMoves()
    now = utcnow()
    for customer in session.scalars(customers):
        tier: Tier = tiers.tier_for(tiers.rfm(orders.get(customer.id, []), today))
        direction = tiers.move(customer.tier, tier)
        if direction > 0:
            moves.up += 1
        elif direction < 0:
            moves.down += 1
        else:
            moves.unchanged += 1
        moves.by_tier[tier.id] += 1
        if customer.tier != tier.id:
            customer.tier, customer.tier_updated_at = tier.id, now
    return moves
