"""What a customer does inside a form instead of answering it (see actions/forms.py).

A question, a look at their orders, tickets or tier, a greeting, small talk or thanks are answered
and the form resumes with its question. Asking for a person follows the same rules as
outside the form, and a person who takes over gets the complaint so far. Goodbye ends
the form; so does "cancel" in the customer's own words, which the form's validation reads.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.complaints import FORM_SLOTS, ActionTicketStatus, draft_of
from actions.faq import ActionAnswerFaq
from actions.handoff import ask_for_person, escalate
from actions.identity import BIND_SLOTS, ActionGreet
from actions.orders import ActionTrackOrder
from actions.tiers import ActionTierInfo

__all__ = ["ActionFormInterrupted"]

FORMS = {
    "complaint_form": {"slots": FORM_SLOTS, "resume": "utter_resume_complaint", "dropped": "utter_complaint_cancelled"},
    "bind_form": {"slots": BIND_SLOTS, "resume": "utter_resume_binding", "dropped": "utter_bind_cancelled"},
}
# "Thanks, bye" is taken for thanks, and means goodbye.
FAREWELL = re.compile(r"\bbye\b|good-?bye|see you|再见|拜拜|回见", re.IGNORECASE)
# Answered by another action, after which the form resumes.
ANSWERED_BY: dict[str, type[Action]] = {
    "faq": ActionAnswerFaq,
    "out_of_scope": ActionAnswerFaq,
    "ticket_status": ActionTicketStatus,
    "ask_tier": ActionTierInfo,
    "greet": ActionGreet,
    "order_status": ActionTrackOrder,
}
# Answered with a response, after which the form resumes.
REPLIES = {"thank": "utter_you_are_welcome", "chitchat": "utter_chitchat"}


def _leave(form: str) -> list[EventType]:
    """Ends the form with its slots cleared."""
    return [ActiveLoop(None), SlotSet("requested_slot", None), *(SlotSet(name, None) for name in FORMS[form]["slots"])]


# After leaving a form the rules have nothing to say: the customer speaks next.
LISTEN = FollowupAction("action_listen")


def _resume(dispatcher: CollectingDispatcher, form: str) -> list[EventType]:
    dispatcher.utter_message(response=FORMS[form]["resume"])
    return [FollowupAction(form)]


class ActionFormInterrupted(Action):
    def name(self) -> str:
        return "action_form_interrupted"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        form = tracker.active_loop_name
        if form not in FORMS:
            return []
        intent = tracker.get_intent_of_latest_message()
        if intent == "goodbye" or (intent == "thank" and FAREWELL.search(runtime.text(tracker))):
            dispatcher.utter_message(response=FORMS[form]["dropped"])
            dispatcher.utter_message(response="utter_goodbye")
            return [*_leave(form), LISTEN]
        if intent == "request_human":
            return self._person(dispatcher, tracker, form)
        events: list[EventType] = []
        if intent in ANSWERED_BY:
            events = await ANSWERED_BY[intent]().run(dispatcher, tracker, domain)
        elif intent in REPLIES:
            dispatcher.utter_message(response=REPLIES[intent])
        return [*events, *_resume(dispatcher, form)]

    @staticmethod
    def _person(dispatcher: CollectingDispatcher, tracker: Tracker, form: str) -> list[EventType]:
        asked, reason = ask_for_person(tracker)
        if reason is None:
            dispatcher.utter_message(response="utter_try_bot_first_in_form")
            return [asked, *_resume(dispatcher, form)]
        draft = draft_of(tracker) if form == "complaint_form" else None
        handed = escalate(dispatcher, tracker, reason=reason, draft=draft)
        return [asked, *_leave(form), *handed, LISTEN]
