"""A customer's orders: the latest ones, the one a message names, and where its parcel stands.

Only the customer's own orders are ever found: an order number of someone else's
is "not among yours", exactly as one that does not exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.db.models import Order

__all__ = [
    "CLOSED_STATUSES",
    "ORDER_STATUS_LABELS",
    "RECENT_ORDERS",
    "SHIPMENT_LABELS",
    "SHIPMENT_STATUSES",
    "Delivery",
    "OrderLookup",
    "delivery_of",
    "find_own_order",
    "look_up_orders",
    "orders_for_choice",
]

ORDER_STATUS_LABELS = {
    "placed": {"en": "placed, awaiting payment", "zh": "已下单，待付款"},
    "paid": {"en": "paid, being packed", "zh": "已付款，正在打包"},
    "shipped": {"en": "shipped", "zh": "已发货"},
    "delivered": {"en": "delivered", "zh": "已签收"},
    "returned": {"en": "returned", "zh": "已退货"},
    "refunded": {"en": "refunded", "zh": "已退款"},
    "cancelled": {"en": "cancelled", "zh": "已取消"},
}
# The parcel's states, in the order a parcel goes through them; "returned" is back at the shop.
SHIPMENT_LABELS = {
    "pending": {"en": "not shipped yet", "zh": "待发货"},
    "shipped": {"en": "handed to the carrier", "zh": "已发货，待揽收"},
    "in_transit": {"en": "in transit", "zh": "运输中"},
    "out_for_delivery": {"en": "out for delivery", "zh": "派送中"},
    "delivered": {"en": "delivered", "zh": "已签收"},
    "returned": {"en": "returned to us", "zh": "已退回"},
}
SHIPMENT_STATUSES = tuple(SHIPMENT_LABELS)
# Orders that will not (or no longer) reach the customer: no delivery promise stands.
CLOSED_STATUSES = frozenset({"cancelled", "refunded", "returned"})
RECENT_ORDERS = 5

_ORDER_LIKE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{3,31}")
# A message names an order among its first few order-like words, or not at all.
MAX_ORDER_CANDIDATES = 10


def orders_for_choice(session: Session, customer_id: str, limit: int = RECENT_ORDERS) -> list[Order]:
    """The customer's latest orders, newest first, to pick one from."""
    return list(
        session.scalars(
            select(Order)
            .where(Order.customer_id == customer_id)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(limit)
        )
    )


def _order_words(text: str) -> list[str]:
    words: list[str] = []
    for match in _ORDER_LIKE.finditer(text):
        if match.group(0) not in words:
            words.append(match.group(0))
            if len(words) == MAX_ORDER_CANDIDATES:
                break
    return words


def find_own_order(session: Session, customer_id: str, text: str) -> Order | None:
    """The customer's own order named in ``text`` by its number or its parcel's tracking number;
    never another customer's.

    One query over the first few distinct order-like words, however long the text.
    """
    # Order ids and tracking numbers are stored upper case; a CRM's own mixed-case ids are found as typed.
    candidates = list(dict.fromkeys(spelling for word in _order_words(text) for spelling in (word.upper(), word)))
    if not candidates:
        return None
    found: dict[str, Order] = {}
    for order in session.scalars(
        select(Order).where(
            Order.customer_id == customer_id,
            or_(Order.id.in_(candidates), Order.tracking_number.in_(candidates)),
        )
    ):
        found[order.id] = order
        if order.tracking_number:
            found.setdefault(order.tracking_number, order)
    return next((found[c] for c in candidates if c in found), None)


def _named_number(text: str) -> str | None:
    """The first word of ``text`` that reads as an order number: order-like, with a digit."""
    return next((word for word in _order_words(text) if any(ch.isdigit() for ch in word)), None)


@dataclass(frozen=True)
class Delivery:
    """Where an order and its parcel stand against the delivery date promised."""

    order_id: str
    placed_at: date
    amount: Decimal
    items: str
    status: str
    shipment_status: str
    carrier: str | None
    tracking_number: str | None
    shipped_at: date | None
    expected: date
    delivered_at: date | None
    days_late: int

    @property
    def delivered(self) -> bool:
        return self.shipment_status == "delivered"

    @property
    def closed(self) -> bool:
        return self.status in CLOSED_STATUSES or self.shipment_status == "returned"


def delivery_of(order: Order, today: date) -> Delivery:
    """The order's delivery: late by the days past its promised date, until the day it arrived."""
    if order.status in CLOSED_STATUSES or order.shipment_status == "returned":
        late_by = 0
    elif order.delivered_at is not None:
        late_by = (order.delivered_at - order.promised_date).days
    elif order.shipment_status == "delivered":
        # Delivered on a day the records do not say: no lateness can be shown.
        late_by = 0
    else:
        late_by = (today - order.promised_date).days
    return Delivery(
        order_id=order.id,
        placed_at=order.placed_at,
        amount=order.amount,
        items=order.items,
        status=order.status,
        shipment_status=order.shipment_status,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        shipped_at=order.shipped_at,
        expected=order.promised_date,
        delivered_at=order.delivered_at,
        days_late=max(late_by, 0),
    )


@dataclass(frozen=True)
class OrderLookup:
    """What a customer asking about their orders is shown: one order's delivery, or their
    latest orders to pick from, after an order number that is not among theirs if they named one."""

    tracked: Delivery | None = None
    recent: tuple[Delivery, ...] = ()
    not_theirs: str | None = None


def look_up_orders(session: Session, *, customer_id: str, text: str, today: date) -> OrderLookup:
    """The order ``text`` names, or the customer's only one, or their latest ones."""
    order = find_own_order(session, customer_id, text)
    if order is not None:
        return OrderLookup(tracked=delivery_of(order, today))
    named = _named_number(text)
    recent = tuple(delivery_of(o, today) for o in orders_for_choice(session, customer_id))
    if len(recent) == 1 and named is None:
        return OrderLookup(tracked=recent[0])
    return OrderLookup(recent=recent, not_theirs=named)
