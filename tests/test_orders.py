from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot.db.models import Order
from bot.service.handoffs import customer_facts
from bot.service.orders import OrderLookup, delivery_of, find_own_order, look_up_orders, orders_for_choice
from tests.factories import add_customer

TODAY = date(2026, 11, 30)


def _order(session, order_id: str, customer_id: str = "C1", *, days_ago: int = 3, **facts) -> Order:
    order = Order(
        id=order_id,
        customer_id=customer_id,
        placed_at=TODAY - timedelta(days=days_ago),
        amount=Decimal("59.00"),
        status=facts.pop("status", "shipped"),
        items="Lamp x1",
        **facts,
    )
    session.add(order)
    session.flush()
    return order


@pytest.fixture
def ann(session):
    add_customer(session, "C1", name="Ann")
    add_customer(session, "C2", name="Bo")
    return session


def test_an_order_stored_without_shipment_facts_gets_the_shops_promise_and_a_state_from_its_status(ann):
    shipped = _order(ann, "ANN-01", days_ago=3)
    paid = _order(ann, "ANN-02", days_ago=1, status="paid")
    refunded = _order(ann, "ANN-03", days_ago=40, status="refunded")
    assert (shipped.shipment_status, shipped.promised_date) == ("in_transit", TODAY + timedelta(days=2))
    assert (paid.shipment_status, refunded.shipment_status) == ("pending", "returned")


def test_the_latest_orders_are_the_customers_own_newest_first(ann):
    for n in range(7):
        _order(ann, f"ANN-0{n}", days_ago=n)
    _order(ann, "BO-000", "C2", days_ago=0)
    assert [o.id for o in orders_for_choice(ann, "C1")] == ["ANN-00", "ANN-01", "ANN-02", "ANN-03", "ANN-04"]


def test_an_order_is_found_by_its_number_or_its_tracking_number_in_any_case(ann):
    _order(ann, "O2026112800012", carrier="SF Express", tracking_number="SF1234567890123")
    assert find_own_order(ann, "C1", "has o2026112800012 shipped?").id == "O2026112800012"
    assert find_own_order(ann, "C1", "我的快递SF1234567890123到哪了").id == "O2026112800012"
    assert find_own_order(ann, "C1", "where is sf1234567890123").id == "O2026112800012"


def test_someone_elses_order_is_not_found_by_number_or_tracking_number(ann):
    _order(ann, "BO-001", "C2", carrier="SF Express", tracking_number="SF9999999999999")
    _order(ann, "ANN-01")
    _order(ann, "ANN-02", days_ago=5)
    assert find_own_order(ann, "C1", "BO-001 SF9999999999999") is None
    lookup = look_up_orders(ann, customer_id="C1", text="has BO-001 shipped?", today=TODAY)
    assert lookup.tracked is None and lookup.not_theirs == "BO-001"
    assert [d.order_id for d in lookup.recent] == ["ANN-01", "ANN-02"]


def test_without_a_number_a_customer_with_one_order_sees_it_and_with_several_a_list(ann):
    _order(ann, "ANN-01")
    assert look_up_orders(ann, customer_id="C1", text="where is my order?", today=TODAY).tracked.order_id == "ANN-01"
    _order(ann, "ANN-02", days_ago=9)
    lookup = look_up_orders(ann, customer_id="C1", text="where is my order?", today=TODAY)
    assert lookup.tracked is None and lookup.not_theirs is None
    assert [d.order_id for d in lookup.recent] == ["ANN-01", "ANN-02"]
    assert look_up_orders(ann, customer_id="C1", text="我的快递到哪了 ann-02", today=TODAY).tracked.order_id == "ANN-02"


def test_a_customer_without_orders_gets_nothing_to_show(ann):
    _order(ann, "BO-001", "C2")
    assert look_up_orders(ann, customer_id="C1", text="where is my order", today=TODAY) == OrderLookup()


def test_a_parcel_on_its_way_is_late_by_the_days_past_its_promised_date(ann):
    order = _order(
        ann,
        "ANN-01",
        days_ago=12,
        promised_date=TODAY - timedelta(days=4),
        carrier="ZTO",
        tracking_number="75312345678901",
    )
    delivery = delivery_of(order, TODAY)
    assert (delivery.expected, delivery.days_late, delivery.delivered) == (TODAY - timedelta(days=4), 4, False)
    assert (delivery.carrier, delivery.tracking_number) == ("ZTO", "75312345678901")
    assert delivery_of(order, TODAY - timedelta(days=5)).days_late == 0


def test_a_delivered_parcel_is_late_by_the_days_it_arrived_after_the_promise(ann):
    late = _order(
        ann,
        "ANN-01",
        days_ago=20,
        status="delivered",
        shipment_status="delivered",
        promised_date=TODAY - timedelta(days=15),
        delivered_at=TODAY - timedelta(days=12),
    )
    undated = _order(ann, "ANN-02", days_ago=30, status="delivered")
    assert delivery_of(late, TODAY).days_late == 3
    assert delivery_of(undated, TODAY).days_late == 0


@pytest.mark.parametrize(
    ("status", "shipment"), [("cancelled", "pending"), ("refunded", "returned"), ("shipped", "returned")]
)
def test_an_order_that_will_not_arrive_is_never_late(ann, status, shipment):
    order = _order(ann, "ANN-01", days_ago=30, status=status, shipment_status=shipment)
    delivery = delivery_of(order, TODAY)
    assert delivery.closed and delivery.days_late == 0


def test_the_agent_sees_each_orders_parcel_among_the_customers_facts(ann, tiers):
    _order(ann, "ANN-01", carrier="SF Express", tracking_number="SF1234567890123")
    facts = customer_facts(ann, "C1", tiers=tiers, tier=tiers.get("normal"), today=TODAY)
    [order] = facts["orders"]
    assert (order["shipment_status"], order["carrier"], order["tracking_number"]) == (
        "in_transit",
        "SF Express",
        "SF1234567890123",
    )
    assert (order["promised_date"], order["delivered_at"]) == ("2026-12-02", None)
