from datetime import date, timedelta
from decimal import Decimal

import pytest
import yaml

from actions.orders import ActionTrackOrder
from bot.db.models import ConversationOutcome, Order
from bot.settings import ROOT
from tests.actions.conftest import run, tracker
from tests.factories import add_customer

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
TODAY = date.today()


def _add(db, order_id: str, customer_id: str = "C1", *, days_ago: int, **facts) -> None:
    with db.begin() as session:
        session.add(
            Order(
                id=order_id,
                customer_id=customer_id,
                placed_at=TODAY - timedelta(days=days_ago),
                amount=Decimal("129.00"),
                status=facts.pop("status", "shipped"),
                items=facts.pop("items", "Vacuum flask 500ml x1"),
                **facts,
            )
        )


@pytest.fixture
def customers(db):
    with db.begin() as session:
        add_customer(session, "C1", name="Ann", tier="normal")
        add_customer(session, "C2", name="Bo", tier="normal")


def _ask(
    text: str = "/order_status",
    *,
    customer_id: str | None = "C1",
    lang: str = "en",
    channel: str = "rest",
    entities=None,
):
    slots = {"customer_id": customer_id, "tier": "normal", "language": lang} if customer_id else {"language": lang}
    return run(ActionTrackOrder(), tracker("s1", text=text, slots=slots, entities=entities, channel=channel), DOMAIN)


def test_a_customer_with_several_orders_sees_them_with_a_button_each(db, customers):
    _add(db, "O2026112900007", days_ago=1, status="paid")
    _add(
        db,
        "O2026112500031",
        days_ago=5,
        shipment_status="out_for_delivery",
        carrier="SF Express",
        tracking_number="SF1234567890123",
    )
    _add(db, "O2026100100002", days_ago=60, status="delivered", delivered_at=TODAY - timedelta(days=57))
    _add(db, "O2026112800001", "C2", days_ago=2)
    [said], _ = _ask("where is my order?")
    assert said["response"] == "utter_orders_recent"
    assert said["orders"].splitlines() == [
        f"• O2026112900007 · {TODAY - timedelta(days=1)} · Vacuum flask 500ml x1 · paid, being packed",
        f"• O2026112500031 · {TODAY - timedelta(days=5)} · Vacuum flask 500ml x1 · out for delivery",
        f"• O2026100100002 · {TODAY - timedelta(days=60)} · Vacuum flask 500ml x1 · delivered",
    ]
    assert [b["payload"] for b in said["buttons"]] == [
        '/order_status{"complaint_order": "O2026112900007"}',
        '/order_status{"complaint_order": "O2026112500031"}',
        '/order_status{"complaint_order": "O2026100100002"}',
    ]


def test_an_order_named_shows_its_parcel_carrier_tracking_number_and_due_date(db, customers):
    _add(
        db,
        "O2026112800001",
        days_ago=2,
        shipment_status="in_transit",
        carrier="顺丰速运",
        tracking_number="SF1234567890123",
    )
    _add(db, "O2026112000001", days_ago=10, status="delivered")
    said, _ = _ask("我的订单 o2026112800001 到哪了", lang="zh")
    assert [m["response"] for m in said] == ["utter_order_on_its_way", "utter_order_carrier", "utter_order_expected"]
    assert (said[0]["order"], said[0]["shipment"]) == ("O2026112800001", "运输中")
    assert (said[1]["carrier"], said[1]["tracking"]) == ("顺丰速运", "SF1234567890123")
    assert said[2]["expected"] == f"{TODAY + timedelta(days=3):%Y-%m-%d}"
    with db() as session:
        assert [o.outcome for o in session.query(ConversationOutcome)] == ["self_served"]


def test_a_button_picks_the_order_by_its_entity(db, customers):
    _add(db, "O2026112800001", days_ago=2)
    _add(db, "O2026100100002", days_ago=60, status="delivered", delivered_at=TODAY - timedelta(days=57))
    entities = [{"entity": "complaint_order", "value": "O2026100100002"}]
    said, _ = _ask('/order_status{"complaint_order": "O2026100100002"}', entities=entities)
    assert [m["response"] for m in said] == ["utter_order_delivered"]
    assert said[0]["delivered"] == f"{TODAY - timedelta(days=57):%Y-%m-%d}"


def test_someone_elses_order_is_not_found_among_yours_and_reveals_nothing(db, customers):
    _add(db, "O2026112800001", days_ago=2)
    _add(db, "O2026112700009", "C2", days_ago=3, carrier="DHL Express", tracking_number="1234567890")
    said, _ = _ask("has O2026112700009 shipped?")
    assert [m["response"] for m in said] == ["utter_order_not_found", "utter_orders_recent"]
    assert said[0]["order"] == "O2026112700009"
    assert "O2026112700009" not in said[1]["orders"] and "1234567890" not in str(said)
    never_stored, _ = _ask("has O2026112799999 shipped?")
    assert [m["response"] for m in never_stored] == ["utter_order_not_found", "utter_orders_recent"]


def test_a_late_parcel_says_how_late_and_offers_the_late_delivery_complaint(db, customers):
    _add(db, "O2026111800005", days_ago=12, carrier="ZTO Express", tracking_number="75312345678901")
    said, _ = _ask()
    assert [m["response"] for m in said] == ["utter_order_on_its_way", "utter_order_carrier", "utter_order_late"]
    assert (said[2]["days"], said[2]["expected"]) == (7, f"{TODAY - timedelta(days=7):%Y-%m-%d}")
    [button] = said[2]["buttons"]
    assert button == {
        "title": "Report the late delivery",
        "payload": '/complain{"complaint_category": "late_delivery", "complaint_order": "O2026111800005"}',
    }


def test_a_parcel_that_arrived_late_says_so(db, customers):
    _add(
        db,
        "O2026111000001",
        days_ago=20,
        status="delivered",
        shipment_status="delivered",
        shipped_at=TODAY - timedelta(days=19),
        delivered_at=TODAY - timedelta(days=12),
        carrier="EMS",
        tracking_number="EA123456785CN",
    )
    said, _ = _ask("O2026111000001", lang="zh")
    assert [m["response"] for m in said] == ["utter_order_delivered", "utter_order_carrier", "utter_order_arrived_late"]
    assert said[2]["days"] == 3 and said[2]["buttons"][0]["title"] == "登记延误投诉"


def test_a_cancelled_order_is_told_as_cancelled(db, customers):
    _add(db, "O2026112800001", days_ago=2, status="cancelled")
    said, _ = _ask()
    assert [(m["response"], m["status"]) for m in said] == [("utter_order_closed", "cancelled")]


def test_a_customer_without_orders_is_told_so(db, customers):
    said, _ = _ask()
    assert [m["response"] for m in said] == ["utter_no_orders"]


def test_a_guest_on_the_web_is_told_to_sign_in_and_on_wechat_to_bind(db, customers):
    _add(db, "O2026112800001", days_ago=2)
    web, _ = _ask("has O2026112800001 shipped?", customer_id=None)
    wechat, _ = _ask("has O2026112800001 shipped?", customer_id=None, channel="wechat")
    assert [m["response"] for m in web] == ["utter_orders_sign_in"]
    assert [m["response"] for m in wechat] == ["utter_orders_bind"]


def test_every_response_the_action_uses_speaks_both_languages():
    for name in (n for n in DOMAIN["responses"] if n.startswith(("utter_order", "utter_no_orders"))):
        conditions = [v.get("condition") for v in DOMAIN["responses"][name]]
        assert len(conditions) == 2 and conditions[1] is None, name
    assert "action_track_order" in DOMAIN["actions"]
