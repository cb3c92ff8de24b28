"""Forms that let go: what is not an answer to the form's question gives the turn back."""

from typing import Any

import pytest
import yaml

from actions.complaints import ValidateComplaintForm
from actions.forms import INTERRUPTING
from actions.identity import ValidateBindForm
from actions.runtime import is_cancel
from bot.settings import ROOT
from tests.actions.conftest import run, tracker
from tests.factories import add_customer

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def _answering(slot: str, value: Any, form: str, **kwargs: Any):
    """A tracker as Rasa sends it to a form's validation: the value it took from the message for ``slot``."""
    state = tracker(text=str(value), form=form, **kwargs)
    state.events.append({"event": "slot", "name": slot, "value": value})
    state.slots.update({slot: value, "requested_slot": slot})
    return state


def _rejected(events: list[dict[str, Any]], form: str) -> bool:
    return any(e["event"] == "action_execution_rejected" and e["name"] == form for e in events)


def test_a_question_at_the_category_step_is_given_back_even_when_it_names_a_refund():
    state = _answering(
        "complaint_category", "how long do refunds take?", "complaint_form", intent="faq", confidence=0.9
    )
    said, events = run(ValidateComplaintForm(), state, DOMAIN)
    assert said == []
    assert _rejected(events, "complaint_form")
    # What Rasa took from the message is set back, so the form asks again afterwards.
    assert {"event": "slot", "name": "complaint_category", "value": None, "timestamp": None} in events


@pytest.mark.parametrize(
    ("text", "intent"),
    [("talk to a real person", "request_human"), ("thanks, bye", "goodbye"), ("how are you today", "chitchat")],
)
def test_a_request_for_a_person_a_goodbye_or_small_talk_at_the_category_step_is_given_back(text, intent):
    said, events = run(
        ValidateComplaintForm(),
        _answering("complaint_category", text, "complaint_form", intent=intent, confidence=0.8),
        DOMAIN,
    )
    assert said == [] and _rejected(events, "complaint_form")


def test_a_problem_described_at_the_category_step_is_its_category():
    state = _answering("complaint_category", "it came broken", "complaint_form", intent="complain", confidence=0.9)
    _said, events = run(ValidateComplaintForm(), state, DOMAIN)
    assert not _rejected(events, "complaint_form")
    assert {"event": "slot", "name": "complaint_category", "value": "damaged_item", "timestamp": None} in events


def test_a_complaint_the_bot_cannot_place_gets_the_buttons_again_rather_than_leaving():
    state = _answering("complaint_category", "it is just bad", "complaint_form", intent="complain", confidence=0.9)
    said, events = run(ValidateComplaintForm(), state, DOMAIN)
    assert [m["response"] for m in said] == ["utter_complaint_category_unclear"]
    assert not _rejected(events, "complaint_form")


def test_an_unsure_guess_is_not_worth_leaving_the_form_for():
    state = _answering("complaint_category", "hmm", "complaint_form", intent="faq", confidence=0.3)
    said, _events = run(ValidateComplaintForm(), state, DOMAIN)
    assert [m["response"] for m in said] == ["utter_complaint_category_unclear"]


def test_a_question_at_the_order_step_is_given_back(db):
    with db.begin() as session:
        add_customer(session, "C1", name="Ann", orders=1, spend=100)
    state = _answering(
        "complaint_order",
        "do you ship to Chengdu?",
        "complaint_form",
        intent="faq",
        confidence=0.8,
        slots={"customer_id": "C1", "complaint_category": "late_delivery"},
    )
    said, events = run(ValidateComplaintForm(), state, DOMAIN)
    assert said == [] and _rejected(events, "complaint_form")


def test_a_description_that_reads_like_a_question_is_kept_as_the_description():
    text = "why has my parcel not arrived after two weeks?"
    state = _answering("complaint_description", text, "complaint_form", intent="order_status", confidence=0.9)
    _, events = run(ValidateComplaintForm(), state, DOMAIN)
    assert not _rejected(events, "complaint_form")
    assert {"event": "slot", "name": "complaint_description", "value": text, "timestamp": None} in events


def test_asking_for_a_person_instead_of_describing_is_given_back():
    state = _answering(
        "complaint_description", "just get me a human", "complaint_form", intent="request_human", confidence=0.9
    )
    said, events = run(ValidateComplaintForm(), state, DOMAIN)
    assert said == [] and _rejected(events, "complaint_form")


@pytest.mark.parametrize(
    "text", ["never mind", "No, forget it.", "算了吧", "不用了，谢谢", "I don't want to complain anymore"]
)
def test_cancelling_in_ones_own_words_drops_the_complaint(text):
    _, events = run(
        ValidateComplaintForm(), _answering("complaint_category", text, "complaint_form", intent="deny"), DOMAIN
    )
    assert {"event": "slot", "name": "complaint_cancelled", "value": True, "timestamp": None} in events


@pytest.mark.parametrize("text", ["cancel my order please", "no", "stop sending me the wrong sizes", "好的"])
def test_words_that_only_contain_a_cancel_word_do_not_cancel(text):
    assert not is_cancel(text)


def test_thanks_at_the_member_number_step_is_given_back_but_a_member_number_is_taken():
    said, events = run(
        ValidateBindForm(), _answering("bind_member_id", "thanks", "bind_form", intent="thank", confidence=0.9), DOMAIN
    )
    assert said == [] and _rejected(events, "bind_form")
    _, events = run(ValidateBindForm(), _answering("bind_member_id", "C00012", "bind_form", intent="faq"), DOMAIN)
    assert {"event": "slot", "name": "bind_member_id", "value": "C00012", "timestamp": None} in events


def test_the_rules_hand_the_form_every_interruption_the_validation_gives_back():
    rules = yaml.safe_load((ROOT / "data" / "rules.yml").read_text(encoding="utf-8"))["rules"]
    for form in ("complaint_form", "bind_form"):
        [rule] = [r for r in rules if r.get("condition") == [{"active_loop": form}] and "or" in r["steps"][0]]
        intents = {step["intent"] for step in rule["steps"][0]["or"]}
        assert intents == INTERRUPTING
        assert rule["steps"][1] == {"action": "action_form_interrupted"}


def test_an_order_number_that_is_not_theirs_is_an_answer_whatever_the_nlu_says(db):
    with db.begin() as session:
        add_customer(session, "C1", name="Ann", orders=1, spend=100)
    state = _answering(
        "complaint_order",
        "N200-LATE",
        "complaint_form",
        intent="goodbye",
        confidence=0.6,
        slots={"customer_id": "C1", "complaint_category": "wrong_item"},
    )
    said, events = run(ValidateComplaintForm(), state, DOMAIN)
    assert [m["response"] for m in said] == ["utter_complaint_order_unknown"]
    assert not _rejected(events, "complaint_form")
