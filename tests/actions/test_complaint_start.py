"""Starting a complaint: asking when unsure, and one ticket per problem."""

import json
from datetime import timedelta

import yaml
from sqlalchemy import func, select

from actions.complaints import ActionComplaintStart
from bot.db.models import Ticket, TicketUpdate
from bot.settings import ROOT
from tests.actions.conftest import run, tracker
from tests.factories import add_customer, add_order, add_ticket

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def _names(said):
    return [m["response"] for m in said]


def _payload(button):
    """A button's intent and entities, as Rasa reads ``/intent{json}``."""
    intent, _, entities = button["payload"][1:].partition("{")
    return intent, json.loads("{" + entities)


def _tickets(db):
    with db() as session:
        return session.scalar(select(func.count()).select_from(Ticket))


def _details(db):
    with db() as session:
        return [(u.ticket.number, u.note, u.agent_id) for u in session.scalars(select(TicketUpdate))]


def test_a_message_barely_taken_for_a_complaint_asks_what_the_customer_wants_with_their_words_on_the_buttons():
    text = "我要开发票报销"
    state = tracker(text=text, intent="complain", confidence=0.48, ranking={"complain": 0.48, "faq": 0.41})
    said, events = run(ActionComplaintStart(), state, DOMAIN)
    assert _names(said) == ["utter_which_do_you_mean"] and events == []
    choices = [_payload(b) for b in said[0]["buttons"]]
    assert [intent for intent, _ in choices] == ["faq", "complain", "request_human"]
    assert all(entities == {"clarified": text} for _, entities in choices)


def test_the_complaint_button_starts_the_form_with_the_words_the_customer_wrote():
    text = "the lamp I got is broken and the cable is missing"
    entities = [{"entity": "clarified", "value": text}]
    said, events = run(
        ActionComplaintStart(),
        tracker(text=f"/complain{json.dumps({'clarified': text})}", intent="complain", entities=entities),
        DOMAIN,
    )
    assert _names(said) == ["utter_complaint_sorry"]
    assert {"event": "slot", "name": "complaint_category", "value": "damaged_item", "timestamp": None} in events
    assert {"event": "slot", "name": "complaint_description", "value": text, "timestamp": None} in events


def test_a_sure_complaint_goes_straight_to_the_form():
    state = tracker(text="this is unacceptable", intent="complain", confidence=0.9, ranking={"complain": 0.9})
    said, events = run(ActionComplaintStart(), state, DOMAIN)
    assert _names(said) == ["utter_complaint_sorry"]
    assert {"event": "followup", "name": "complaint_form", "timestamp": None} in events


def test_a_further_detail_in_the_same_conversation_goes_to_the_open_ticket(db, tiers):
    with db.begin() as session:
        number = add_ticket(session, tiers, sender="s1", customer_id=None, category="damaged_item").number
    detail = "also the box was soaking wet when it came"
    said, _ = run(ActionComplaintStart(), tracker("s1", text=detail, intent="complain", confidence=0.9), DOMAIN)
    assert _names(said) == ["utter_detail_added"] and said[0]["number"] == number
    assert _tickets(db) == 1
    assert _details(db) == [(number, detail, None)]


def test_another_kind_of_problem_in_the_same_conversation_is_a_new_complaint(db, tiers):
    with db.begin() as session:
        add_ticket(session, tiers, sender="s1", customer_id=None, category="damaged_item")
    said, _events = run(
        ActionComplaintStart(),
        tracker("s1", text="and my refund never arrived either", intent="complain", confidence=0.9),
        DOMAIN,
    )
    assert _names(said) == ["utter_complaint_sorry"]
    assert _details(db) == []


def test_a_resolved_ticket_takes_no_more_details(db, tiers):
    with db.begin() as session:
        add_ticket(session, tiers, sender="s1", customer_id=None, category="damaged_item", status="resolved")
    said, _ = run(ActionComplaintStart(), tracker("s1", text="it broke again", intent="complain"), DOMAIN)
    assert _names(said) == ["utter_complaint_sorry"]


def _customer_with_order(db, tiers, *, ticket_days_ago: int = 0):
    with db.begin() as session:
        add_customer(session, "C1", name="Ann", orders=1, spend=100)
        add_order(session, "LAMP7", "C1", days_ago=3)
        ticket = add_ticket(
            session, tiers, sender="yesterday", customer_id="C1", category="late_delivery", order_id="LAMP7"
        )
        ticket.created_at -= timedelta(days=ticket_days_ago)
        return ticket.number


def test_a_second_complaint_about_the_same_order_within_a_day_asks_whether_it_is_the_same_problem(db, tiers):
    number = _customer_with_order(db, tiers)
    text = "order LAMP7 is broken"
    said, _ = run(
        ActionComplaintStart(),
        tracker("today", text=text, intent="complain", slots={"customer_id": "C1"}),
        DOMAIN,
    )
    assert _names(said) == ["utter_same_problem"] and said[0]["number"] == number
    same, new = (_payload(b) for b in said[0]["buttons"])
    assert same == ("complain", {"ticket_choice": number, "clarified": text})
    assert new == ("complain", {"ticket_choice": "new", "clarified": text})
    assert _tickets(db) == 1

    entities = [{"entity": "ticket_choice", "value": number}, {"entity": "clarified", "value": text}]
    said, _ = run(
        ActionComplaintStart(),
        tracker("today", text="/complain", intent="complain", entities=entities, slots={"customer_id": "C1"}),
        DOMAIN,
    )
    assert _names(said) == ["utter_detail_added"]
    assert _details(db) == [(number, text, None)]


def test_a_new_problem_about_the_same_order_gets_its_own_complaint(db, tiers):
    _customer_with_order(db, tiers)
    entities = [{"entity": "ticket_choice", "value": "new"}, {"entity": "clarified", "value": "order LAMP7 is broken"}]
    said, events = run(
        ActionComplaintStart(),
        tracker("today", text="/complain", intent="complain", entities=entities, slots={"customer_id": "C1"}),
        DOMAIN,
    )
    assert _names(said) == ["utter_complaint_sorry"]
    assert {"event": "slot", "name": "complaint_order", "value": "LAMP7", "timestamp": None} in events


def test_a_ticket_about_the_order_from_two_days_ago_is_another_problem(db, tiers):
    _customer_with_order(db, tiers, ticket_days_ago=2)
    said, _ = run(
        ActionComplaintStart(),
        tracker("today", text="order LAMP7 is broken", intent="complain", slots={"customer_id": "C1"}),
        DOMAIN,
    )
    assert _names(said) == ["utter_complaint_sorry"]


def test_a_ticket_choice_naming_someone_elses_ticket_adds_nothing_to_it(db, tiers):
    with db.begin() as session:
        other = add_ticket(session, tiers, sender="someone", customer_id=None).number
    entities = [{"entity": "ticket_choice", "value": other}, {"entity": "clarified", "value": "mine is broken too"}]
    said, _ = run(ActionComplaintStart(), tracker("s1", text="/complain", intent="complain", entities=entities), DOMAIN)
    assert _names(said) == ["utter_complaint_sorry"]
    assert _details(db) == []
