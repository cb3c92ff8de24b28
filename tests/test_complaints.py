from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from bot.db.models import Order
from bot.service.complaints import detect_category, open_ticket, settle
from bot.service.orders import find_own_order
from bot.service.tickets import tickets_of_conversation
from tests.factories import add_customer, add_ticket

NOW = datetime(2026, 11, 23, 8, 0)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("my parcel is late", "late_delivery"),
        ("the order still hasn't arrived after a week", "late_delivery"),
        ("I haven't received my refund", "refund_not_received"),
        ("the mug arrived broken", "damaged_item"),
        ("you sent me the wrong size", "wrong_item"),
        ("the agent was rude to me", "service_attitude"),
        ("快递三天了还没到", "late_delivery"),
        ("退款一直没到账", "refund_not_received"),
        ("收到的杯子碎了", "damaged_item"),
        ("发错货了", "wrong_item"),
        ("客服态度太差", "service_attitude"),
        ("Damaged item", "damaged_item"),
        ("其他问题", "other"),
        ("I want to complain", None),
    ],
)
def test_the_category_is_read_from_what_the_customer_writes(text, category):
    assert detect_category(text) == category


def test_the_tier_policy_sets_the_late_delivery_coupon(tiers):
    policy = tiers.get("normal").policy
    assert [policy.late_delivery_coupon(d) for d in (0, 2, 3, 6, 7, 30)] == [0, 0, 10, 10, 30, 30]


def test_a_ticket_gets_a_readable_number_priority_and_sla_from_the_tier(session, tiers):
    gold = tiers.get("gold")
    ticket = open_ticket(
        session,
        policy=gold.policy,
        tier=gold.id,
        sender_id="s1",
        channel="rest",
        customer_id=None,
        language="en",
        category="damaged_item",
        order_id=None,
        description="cracked",
        now=NOW,
    )
    assert ticket.number.startswith("T261123-") and len(ticket.number) == 12
    assert ticket.priority == gold.policy.queue_priority
    assert ticket.sla_due_at == NOW + timedelta(hours=8)


def test_an_unknown_category_is_refused(session, tiers):
    with pytest.raises(ValueError, match="unknown complaint category"):
        open_ticket(
            session,
            policy=tiers.guest.policy,
            tier="guest",
            sender_id="s1",
            channel="rest",
            customer_id=None,
            language="en",
            category="lost_my_keys",
            order_id=None,
            description="",
        )


def test_only_the_customers_own_orders_are_found(session):
    add_customer(session, "C1", name="A", orders=1, spend=10)
    add_customer(session, "C2", name="B", orders=1, spend=10)
    assert find_own_order(session, "C1", "it is order c1-o0 please").id == "C1-O0"
    assert find_own_order(session, "C1", "order C2-O0") is None


def _count_queries(session) -> list[str]:
    from sqlalchemy import event

    statements: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


def test_a_message_full_of_order_numbers_costs_one_query(session):
    add_customer(session, "C1", name="A", orders=2, spend=10)
    statements = _count_queries(session)
    assert find_own_order(session, "C1", "O1234 " * 12_000) is None
    assert find_own_order(session, "C1", " ".join(f"O{n:04d}" for n in range(5000)) + " C1-O1") is None
    assert len(statements) == 2


def test_the_first_order_named_is_found_among_many_words(session):
    add_customer(session, "C1", name="A", orders=2, spend=10)
    assert find_own_order(session, "C1", "my order c1-o1, not C1-O0, is late").id == "C1-O1"


def test_a_guest_sees_only_the_guest_tickets_of_the_conversation(session, tiers):
    add_customer(session, "C1", name="A")
    guest = add_ticket(session, tiers, sender="s1", customer_id=None)
    add_ticket(session, tiers, sender="s1", customer_id="C1")
    add_ticket(session, tiers, sender="s2", customer_id=None)
    assert tickets_of_conversation(session, customer_id=None, sender_id="s1") == [guest]


def test_a_customer_sees_their_open_tickets_from_any_conversation_and_asks_for_any_of_theirs(session, tiers):
    add_customer(session, "C1", name="A")
    first = add_ticket(session, tiers, sender="s1", customer_id="C1")
    closed = add_ticket(session, tiers, sender="s2", customer_id="C1", status="closed")
    other = add_ticket(session, tiers, sender="s3", customer_id=None)
    assert tickets_of_conversation(session, customer_id="C1", sender_id="s9") == [first]
    assert tickets_of_conversation(session, customer_id="C1", sender_id="s9", number=closed.number.lower()) == [closed]
    assert tickets_of_conversation(session, customer_id="C1", sender_id="s3", number=other.number) == []


def test_a_late_parcel_is_settled_with_the_tiers_coupon(session, tiers):
    add_customer(session, "C1", name="A")
    session.add(Order(id="L1", customer_id="C1", placed_at=date(2026, 11, 10), amount=Decimal(10), status="shipped"))
    normal = tiers.get("normal").policy
    late = settle(
        session, customer_id="C1", order_id="L1", category="late_delivery", policy=normal, today=date(2026, 11, 22)
    )
    assert (late.case, late.days_late, late.coupon, late.expected) == ("late", 7, 30, date(2026, 11, 15))
    assert (
        settle(
            session, customer_id="C2", order_id="L1", category="late_delivery", policy=normal, today=date(2026, 11, 22)
        )
        is None
    )
    assert (
        settle(session, customer_id="C1", order_id="L1", category="other", policy=normal, today=date(2026, 11, 22))
        is None
    )


def _late_delivery(session, tiers, order_id: str, today: date):
    return settle(
        session,
        customer_id="C1",
        order_id=order_id,
        category="late_delivery",
        policy=tiers.get("normal").policy,
        today=today,
    )


def test_a_late_delivery_is_counted_from_the_date_the_order_promised(session, tiers):
    add_customer(session, "C1", name="A")
    session.add(
        Order(
            id="L2",
            customer_id="C1",
            placed_at=date(2026, 11, 10),
            amount=Decimal(10),
            status="shipped",
            shipment_status="in_transit",
            carrier="DHL Express",
            tracking_number="1234567890",
            shipped_at=date(2026, 11, 11),
            promised_date=date(2026, 11, 20),
        )
    )
    on_time = _late_delivery(session, tiers, "L2", date(2026, 11, 19))
    assert (on_time.case, on_time.days_late, on_time.coupon, on_time.expected) == ("on_time", 0, 0, date(2026, 11, 20))
    late = _late_delivery(session, tiers, "L2", date(2026, 11, 27))
    assert (late.case, late.days_late, late.coupon) == ("late", 7, 30)


def test_a_parcel_that_arrived_late_earns_the_coupon_and_one_on_time_none(session, tiers):
    add_customer(session, "C1", name="A")
    for order_id, delivered_at in (("D1", date(2026, 11, 19)), ("D2", date(2026, 11, 14))):
        session.add(
            Order(
                id=order_id,
                customer_id="C1",
                placed_at=date(2026, 11, 10),
                amount=Decimal(10),
                status="delivered",
                shipment_status="delivered",
                shipped_at=date(2026, 11, 11),
                delivered_at=delivered_at,
            )
        )
    late = _late_delivery(session, tiers, "D1", date(2026, 11, 30))
    assert (late.case, late.days_late, late.coupon, late.expected) == ("arrived_late", 4, 10, date(2026, 11, 15))
    on_time = _late_delivery(session, tiers, "D2", date(2026, 11, 30))
    assert (on_time.case, on_time.days_late, on_time.coupon) == ("delivered", 0, 0)


def test_a_cancelled_order_is_no_standard_late_delivery(session, tiers):
    add_customer(session, "C1", name="A")
    session.add(Order(id="X1", customer_id="C1", placed_at=date(2026, 11, 1), amount=Decimal(10), status="cancelled"))
    assert _late_delivery(session, tiers, "X1", date(2026, 11, 30)) is None


@pytest.mark.parametrize(
    ("status", "case"),
    [("refunded", "refund_issued"), ("returned", "refund_after_inspection"), ("paid", "refund_not_started")],
)
def test_a_missing_refund_is_told_where_it_stands(session, tiers, status, case):
    add_customer(session, "C1", name="A")
    session.add(Order(id="R1", customer_id="C1", placed_at=date(2026, 11, 10), amount=Decimal(10), status=status))
    policy = tiers.get("normal").policy
    assert (
        settle(
            session,
            customer_id="C1",
            order_id="R1",
            category="refund_not_received",
            policy=policy,
            today=date(2026, 11, 22),
        ).case
        == case
    )
