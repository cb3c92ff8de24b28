from datetime import datetime, timezone

from actions import runtime
from actions.handoff import (
    ActionHandoffEvent,
    ActionRate,
    ActionRelayToAgent,
    ActionRequestCallback,
    ActionRequestHuman,
)
from bot.db.models import Handoff, Ticket
from bot.hours import DAYS
from bot.service.agents import add_agent
from bot.service.handoffs import accept, post_agent_message
from tests.actions.conftest import run, tracker
from tests.factories import add_customer, add_handoff


def _handoff(db, tiers, sender="s1"):
    with db.begin() as session:
        agent, _ = add_agent(session, username="anna", display_name="Anna", role="agent", password="long-enough")
        handoff = add_handoff(session, tiers, sender=sender, tier="gold")
        accept(session, handoff.id, agent)
        message = post_agent_message(session, handoff.id, agent, "Hello, Anna here")
        return handoff.id, message.id


def test_while_an_agent_helps_the_customers_words_are_relayed_and_the_bot_says_nothing(db, tiers):
    handoff_id, _ = _handoff(db, tiers)
    said, events = run(ActionRelayToAgent(), tracker("s1", text="my order is late", slots={"handoff_id": handoff_id}))
    assert said == [] and events == []
    with db() as session:
        assert [m.text for m in session.get(Handoff, handoff_id).messages if m.author == "customer"] == [
            "my order is late"
        ]


def test_a_handoff_of_another_conversation_is_let_go(db, tiers):
    handoff_id, _ = _handoff(db, tiers, sender="someone-else")
    said, events = run(ActionRelayToAgent(), tracker("s1", text="hi", slots={"handoff_id": handoff_id}))
    assert said == [] and events == [{"event": "slot", "timestamp": None, "name": "handoff_id", "value": None}]


def test_an_agents_message_is_told_once(db, tiers):
    _, message_id = _handoff(db, tiers)
    entities = [{"entity": "handoff_message_id", "value": str(message_id)}]
    [said], _ = run(ActionHandoffEvent(), tracker("s1", entities=entities))
    assert (said["response"], said["agent"], said["message"]) == ("utter_from_agent", "Anna", "Hello, Anna here")
    again, _ = run(ActionHandoffEvent(), tracker("s1", entities=entities, slots={"handoff_last_event": message_id}))
    assert again == []
    stolen, _ = run(ActionHandoffEvent(), tracker("s2", entities=entities))
    assert stolen == []


def test_a_rating_is_kept_for_the_handoff(db, tiers):
    handoff_id, _ = _handoff(db, tiers)
    [said], _ = run(ActionRate(), tracker("s1", text="5", slots={"rating_for": handoff_id}))
    assert said["response"] == "utter_thanks_for_rating"
    with db() as session:
        assert session.get(Handoff, handoff_id).rating == 5
    [again], _ = run(ActionRate(), tracker("s1", text="nine"))
    assert again["response"] == "utter_ask_rating"


def test_a_call_back_goes_to_the_phone_on_record_masked(db):
    with db.begin() as session:
        add_customer(session, "C1", name="Ann", phone="13800138000")
    [said], _ = run(ActionRequestCallback(), tracker("s1", slots={"customer_id": "C1"}))
    assert said["response"] == "utter_callback_booked" and said["phone"] == "138****8000"
    with db() as session:
        [ticket] = session.query(Ticket).all()
    assert ticket.category == "callback" and ticket.number == said["number"]
    [guest], _ = run(ActionRequestCallback(), tracker("s2"))
    assert guest["response"] == "utter_callback_needs_phone"


def test_out_of_hours_a_customer_is_offered_a_ticket_or_a_call_back_and_a_guest_a_ticket(monkeypatch, tiers):
    today = DAYS[datetime.now(timezone.utc).weekday()]
    monkeypatch.setenv("SERVICE_TIMEZONE", "UTC")
    monkeypatch.setenv("SERVICE_DAYS", ",".join(d for d in DAYS if d != today))
    runtime.settings.cache_clear()
    vip = {"customer_id": "V1", "tier": "vip"}
    said, _ = run(ActionRequestHuman(), tracker("s1", text="a person please", slots=vip))
    assert [m["response"] for m in said] == ["utter_agents_closed", "utter_ticket_or_callback"]
    said, _ = run(ActionRequestHuman(), tracker("s2", text="a person please", slots={"tier": "gold"}))
    assert [m["response"] for m in said] == ["utter_agents_closed", "utter_ticket_when_back"]
