"""Forms that let go: a message that is not an answer to the form's question is not forced into it.

Rasa fills a form's requested slot from any text. A customer half-way through a
complaint who asks a question, asks for a person or says goodbye is not answering
"which kind of problem?", so the validation rejects the turn; the rules then hand it
to ``action_form_interrupted`` (actions/interruptions.py), which deals with it and
resumes or ends the form.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

__all__ = ["ANSWERS_ANYTHING", "INTERRUPTING", "LET_GO", "LettingGoForm", "asks_a_question", "interrupts"]

# What a customer may do inside a form instead of answering it.
INTERRUPTING = frozenset(
    {
        "faq",
        "order_status",
        "greet",
        "request_human",
        "goodbye",
        "thank",
        "chitchat",
        "out_of_scope",
        "ticket_status",
        "ask_tier",
    }
)
# Free-text answers (a complaint's description) take anything but these, said with confidence:
# a description often reads like a question or a status enquiry.
ANSWERS_ANYTHING = {"request_human": 0.7, "goodbye": 0.7}
# Below this the NLU's guess is not worth leaving the form for.
INTERRUPT_CONFIDENCE = 0.5
# A question the customer asks while a form waits for a free-text answer.
QUESTIONS = frozenset({"faq", "order_status"})
QUESTION_CONFIDENCE = 0.7
QUESTION_MARK = re.compile(
    r"[?？]\s*$|[吗呢么嘛]\s*[?？]?\s*$|^(?:how|what|when|where|why|which|who|can|could|do|does|is|are|will|should)\b",
    re.IGNORECASE,
)
_MARKER = "form_let_go"
LET_GO: dict[str, Any] = {_MARKER: True}


def _intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def interrupts(tracker: Tracker, *, free_text: bool) -> bool:
    """Whether the latest message is something other than an answer to the form's question.

    Callers ask only once the message failed to parse as an answer, except for free-text
    answers, which parse from anything.
    """
    name, confidence = _intent(tracker)
    if free_text:
        return name in ANSWERS_ANYTHING and confidence >= ANSWERS_ANYTHING[name]
    return name in INTERRUPTING and confidence >= INTERRUPT_CONFIDENCE


def asks_a_question(tracker: Tracker) -> bool:
    """A question, surely: the NLU is confident and the customer wrote it as one."""
    name, confidence = _intent(tracker)
    text = (tracker.latest_message.get("text") or "").strip()
    return name in QUESTIONS and confidence >= QUESTION_CONFIDENCE and QUESTION_MARK.search(text) is not None


class LettingGoForm(FormValidationAction):
    """A form's validation that gives the turn back when the customer is doing something else.

    A slot's validator returns ``LET_GO`` for a message it could not use that
    ``interrupts``; the whole validation then returns only the rejection, so nothing is
    filled and nothing is said. A validator given None returns nothing: an action emptied
    that slot (starting the form), the customer did not answer it. (The marker travels in the validator's result because
    rasa-sdk shares one instance of the action between concurrent runs.)
    """

    @abstractmethod
    def name(self) -> str:
        """``validate_<form>``; abstract, so rasa-sdk registers the forms, not this class."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        # What Rasa took from the message for the requested slot, which was empty: Rasa sets it
        # unless the validation says otherwise, so letting go sets it back.
        taken = list(tracker.slots_to_validate())
        held = CollectingDispatcher()
        events = await super().run(held, tracker, domain)
        if any(event.get("event") == "slot" and event.get("name") == _MARKER for event in events):
            return [*(SlotSet(name, None) for name in taken), ActionExecutionRejected(self.form_name())]
        dispatcher.messages.extend(held.messages)
        return events
