"""Complaints: their categories, the tickets they become, and the standard cases the bot settles.

Nothing here knows Rasa; the action server and the console both use it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Order, Ticket, utcnow
from bot.service.orders import delivery_of
from bot.service.tiers import Policy

__all__ = [
    "CATEGORIES",
    "MAX_DESCRIPTION",
    "TICKET_CATEGORIES",
    "Settlement",
    "TicketReceipt",
    "category_label",
    "detect_category",
    "open_ticket",
    "settle",
]

CATEGORIES = {
    "late_delivery": {"en": "Late delivery", "zh": "物流延误"},
    "damaged_item": {"en": "Damaged item", "zh": "商品损坏"},
    "wrong_item": {"en": "Wrong item", "zh": "发错商品"},
    "refund_not_received": {"en": "Refund not received", "zh": "退款未到账"},
    "service_attitude": {"en": "Service attitude", "zh": "服务态度"},
    "other": {"en": "Other", "zh": "其他问题"},
}
# Tickets are complaints, or a request to be called back when no agent is working.
TICKET_CATEGORIES = {**CATEGORIES, "callback": {"en": "Call-back request", "zh": "回电请求"}}

# Checked in this order: "I haven't received my refund" is about a refund, not a parcel.
_KEYWORDS = {
    "refund_not_received": r"refund|money back|退款|退钱|钱没退|没退钱",
    "wrong_item": r"wrong (item|size|colou?r|product|one|thing)|not what i (ordered|bought)|different (item|product)"
    r"|sent (me )?the wrong|发错|错发|不是我(买|订|要)的|尺码不对|颜色不对|型号不对|少发|漏发",
    "damaged_item": r"damaged|broken|cracked|smashed|shattered|dented|scratched|defective|faulty|doesn'?t work|leak"
    r"|坏了|损坏|破损|摔坏|碎了|裂了|划痕|瑕疵|质量问题|不能用|漏了",
    "service_attitude": r"rude|attitude|impolite|unprofessional|yelled|shouted|disrespect"
    r"|态度|不礼貌|骂|凶|不耐烦|服务太差|服务差",
    "late_delivery": r"\blate\b|delay|hasn'?t (arrived|come)|not (arrived|here|delivered)|never (arrived|came)"
    r"|still waiting|taking (so|too) long|where is my (order|parcel|package)|slow (delivery|shipping)"
    r"|没到|还没到|没收到|未收到|迟迟|延误|延迟|太慢|好慢|晚到|超时|一直没",
}
# Words that name a category outright, as typed back to the form's question.
_NAMES = {key: {labels["en"].lower(), labels["zh"], key} for key, labels in CATEGORIES.items()}

MAX_DESCRIPTION = 2000


def category_label(category: str, language: str) -> str:
    labels = TICKET_CATEGORIES.get(category) or CATEGORIES["other"]
    return labels.get(language, labels["en"])


def detect_category(text: str) -> str | None:
    """The complaint category a message names or describes, if any."""
    cleaned = text.strip().lower()
    for key, names in _NAMES.items():
        if cleaned in names:
            return key
    for key, pattern in _KEYWORDS.items():
        if re.search(pattern, cleaned):
            return key
    return None


@dataclass(frozen=True)
class TicketReceipt:
    """What a customer is told of the ticket just opened for them."""

    number: str
    category: str
    sla_due_at: datetime

    @classmethod
    def of(cls, ticket: Ticket) -> TicketReceipt:
        return cls(ticket.number, ticket.category, ticket.sla_due_at)


@dataclass(frozen=True)
class Settlement:
    """What the bot tells at once of a complaint's order, as a service desk settles the standard cases.

    ``case`` is "delivered" (the carrier shows it delivered in time), "arrived_late",
    "late" or "on_time" (still on its way), "refund_issued", "refund_after_inspection" or "refund_not_started";
    ``coupon`` is the tier's for the days the parcel is, or arrived, past its promised date.
    """

    case: str
    order_id: str
    status: str
    expected: date | None = None
    days_late: int = 0
    coupon: int = 0


_REFUND_CASES = {"refunded": "refund_issued", "returned": "refund_after_inspection"}


def settle(
    session: Session, *, customer_id: str | None, order_id: str | None, category: str, policy: Policy, today: date
) -> Settlement | None:
    """The standard case of a complaint about the customer's own order, if it is one."""
    order = (
        session.scalar(select(Order).where(Order.id == order_id, Order.customer_id == customer_id))
        if customer_id and order_id
        else None
    )
    if order is None:
        return None
    if category == "late_delivery":
        delivery = delivery_of(order, today)
        if delivery.closed:
            # Cancelled, refunded or sent back: no parcel is on its way, so no standard case.
            return None
        if delivery.delivered:
            case = "arrived_late" if delivery.days_late else "delivered"
        else:
            case = "late" if delivery.days_late else "on_time"
        # A parcel that arrived late earns the same coupon as one still on its way.
        return Settlement(
            case,
            order.id,
            order.status,
            expected=delivery.expected,
            days_late=delivery.days_late,
            coupon=policy.late_delivery_coupon(delivery.days_late),
        )
    if category == "refund_not_received":
        return Settlement(_REFUND_CASES.get(order.status, "refund_not_started"), order.id, order.status)
    return None


def _ticket_number(now: datetime) -> str:
    # Date first so agents can read the age; 4 random base-32 characters keep numbers unguessable.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return f"T{now:%y%m%d}-" + "".join(secrets.choice(alphabet) for _ in range(4))


def open_ticket(
    session: Session,
    *,
    policy: Policy,
    tier: str,
    sender_id: str,
    channel: str,
    customer_id: str | None,
    language: str,
    category: str,
    order_id: str | None,
    description: str,
    now: datetime | None = None,
) -> Ticket:
    """Stores a ticket with a readable number, and priority and SLA from the tier's policy."""
    if category not in TICKET_CATEGORIES:
        raise ValueError(f"unknown complaint category {category!r}")
    now = now or utcnow()
    for _ in range(5):
        ticket = Ticket(
            number=_ticket_number(now),
            customer_id=customer_id,
            sender_id=sender_id,
            channel=channel,
            tier=tier,
            language=language,
            category=category,
            order_id=order_id,
            description=description[:MAX_DESCRIPTION],
            priority=policy.queue_priority,
            sla_due_at=now + timedelta(hours=policy.ticket_sla_hours),
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(ticket)
                session.flush()
            return ticket
        except IntegrityError:
            continue
    raise RuntimeError("could not find a free ticket number")
