"""What a customer does inside a form instead of answering it is dealt with, and the form resumes or ends."""

from sqlalchemy import select

from actions.interruptions import ActionFormInterrupted
from bot.db.models import Handoff
from tests.actions.conftest import run, tracker

COMPLAINT = {"complaint_category": "damaged_item", "complaint_order": "none", "tier": "normal"}


def _names(said):
    return [m["response"] for m in said]


def _event(events, kind, **fields):
    return any(e["event"] == kind and all(e.get(k) == v for k, v in fields.items()) for e in events)


def test_small_talk_gets_its_reply_and_the_complaint_resumes():
    said, events = run(ActionFormInterrupted(), tracker(text="how are you?", intent="chitchat", form="complaint_form"))
    assert _names(said) == ["utter_chitchat", "utter_resume_complaint"]
    assert _event(events, "followup", name="complaint_form")


def test_thanks_inside_the_binding_form_resumes_the_binding():
    said, events = run(ActionFormInterrupted(), tracker(text="thanks", intent="thank", form="bind_form"))
    assert _names(said) == ["utter_you_are_welcome", "utter_resume_binding"]
    assert _event(events, "followup", name="bind_form")


def test_goodbye_drops_the_complaint_and_says_goodbye():
    said, events = run(
        ActionFormInterrupted(), tracker(text="bye", intent="goodbye", form="complaint_form", slots=COMPLAINT)
    )
    assert _names(said) == ["utter_complaint_cancelled", "utter_goodbye"]
    assert _event(events, "active_loop", name=None)
    assert _event(events, "slot", name="complaint_category", value=None)
    assert _event(events, "followup", name="action_listen")


def test_a_first_request_for_a_person_from_a_bot_first_tier_keeps_the_complaint_going(db):
    said, events = run(
        ActionFormInterrupted(),
        tracker(text="a human please", intent="request_human", form="complaint_form", slots=COMPLAINT),
    )
    assert _names(said) == ["utter_try_bot_first_in_form", "utter_resume_complaint"]
    assert _event(events, "slot", name="human_requests", value=1)
    assert _event(events, "followup", name="complaint_form")
    with db() as session:
        assert session.scalars(select(Handoff)).first() is None


def test_insisting_on_a_person_hands_over_the_complaint_so_far_and_ends_the_form(db):
    state = tracker(
        "s9",
        text="I said a human!",
        intent="request_human",
        form="complaint_form",
        slots={**COMPLAINT, "human_requests": 1},
    )
    said, events = run(ActionFormInterrupted(), state)
    assert _names(said) == ["utter_handoff_queued"]
    assert _event(events, "active_loop", name=None)
    assert _event(events, "followup", name="action_listen")
    with db() as session:
        handoff = session.scalars(select(Handoff).where(Handoff.sender_id == "s9")).one()
        assert handoff.reason == "insisted"
        assert handoff.packet["ticket_draft"]["category"] == "damaged_item"


def test_the_vip_tier_gets_a_person_at_the_first_asking_even_inside_a_form(db):
    state = tracker(text="person", intent="request_human", form="bind_form", slots={"tier": "vip"})
    said, events = run(ActionFormInterrupted(), state)
    assert _names(said) == ["utter_handoff_queued"]
    assert _event(events, "active_loop", name=None)


def test_thanks_and_goodbye_together_is_goodbye():
    said, events = run(ActionFormInterrupted(), tracker(text="thanks, bye!", intent="thank", form="complaint_form"))
    assert _names(said) == ["utter_complaint_cancelled", "utter_goodbye"]
    assert _event(events, "active_loop", name=None)
