import yaml

from actions.complaints import ActionAskComplaintOrder, ActionSubmitComplaint, ActionTicketStatus
from bot.db.models import Ticket
from bot.settings import ROOT
from tests.actions.conftest import run, tracker
from tests.factories import add_customer, add_order, add_ticket


def _open(db, tiers, sender, customer_id):
    with db.begin() as session:
        return add_ticket(session, tiers, sender=sender, customer_id=customer_id).number


def test_a_guest_asking_for_tickets_sees_none_a_signed_in_customer_opened_in_the_conversation(db, tiers):
    with db.begin() as session:
        add_customer(session, "C1", name="Ann")
    _open(db, tiers, "s1", "C1")
    said, _ = run(ActionTicketStatus(), tracker("s1", text="ticket status"))
    assert [m["response"] for m in said] == ["utter_ticket_status_guest"]


def test_a_customer_sees_their_open_tickets(db, tiers):
    with db.begin() as session:
        add_customer(session, "C1", name="Ann")
    number = _open(db, tiers, "elsewhere", "C1")
    [said], _ = run(ActionTicketStatus(), tracker("s1", text="ticket status", slots={"customer_id": "C1"}))
    assert said["response"] == "utter_open_tickets" and number in said["tickets"]


def test_a_ticket_number_that_is_not_theirs_shows_nothing(db, tiers):
    number = _open(db, tiers, "s2", None)
    [said], _ = run(ActionTicketStatus(), tracker("s1", text=f"status of {number}", slots={"customer_id": "C1"}))
    assert said["response"] == "utter_ticket_not_found" and said["number"] == number


def test_a_late_parcel_complaint_becomes_a_ticket_with_the_tiers_coupon(db, tiers):
    with db.begin() as session:
        add_customer(session, "C1", name="Ann", orders=1, spend=100, days_ago=40)
        add_order(session, "LATE1", "C1", days_ago=12)
    slots = {
        "customer_id": "C1",
        "tier": "normal",
        "complaint_category": "late_delivery",
        "complaint_order": "LATE1",
        "complaint_description": "my lamp has not arrived",
    }
    said, events = run(ActionSubmitComplaint(), tracker("s1", slots=slots))
    assert [m["response"] for m in said] == ["utter_ticket_opened", "utter_delivery_late", "utter_late_coupon"]
    assert said[1]["days"] == 7 and said[2]["amount"] == "¥30"
    with db() as session:
        [ticket] = session.query(Ticket).all()
    assert (ticket.number, ticket.order_id, ticket.customer_id) == (said[0]["number"], "LATE1", "C1")
    assert all(e["value"] is None for e in events if e["event"] == "slot")


def test_the_order_buttons_end_with_one_for_no_order_in_the_customers_language(db):
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    with db.begin() as session:
        add_customer(session, "C1", name="Ann", orders=2, spend=100)
    for lang, label in (("zh", "与订单无关"), ("en", "Not about an order")):
        [said], _ = run(ActionAskComplaintOrder(), tracker("s1", slots={"customer_id": "C1", "language": lang}), domain)
        assert [b["title"] for b in said["buttons"]][-1] == label and len(said["buttons"]) == 3
