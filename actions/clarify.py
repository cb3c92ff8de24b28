"""Asking instead of guessing: when the NLU cannot tell a complaint from a question or a
request for a person, the customer picks, with buttons that carry their words along.

A button sends ``/faq{"clarified": "<their message>"}`` (or ``/complain``, ``/request_human``),
so the action that follows reads the original message through ``runtime.text``.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime

__all__ = ["CHOICES", "ask_which", "carrying", "doubtful_complaint", "torn_between_choices"]

# The intents a customer is asked to choose between, with the title of each button.
CHOICES = {
    "faq": "utter_button_a_question",
    "complain": "utter_button_a_complaint",
    "request_human": "utter_button_a_person",
}
# A complaint named with less confidence than this, or this close to another choice, is asked about.
SURE = 0.7
MARGIN = 0.2
# Enough of the message to answer or file it; a button's payload stays well under a message's limit.
CARRIED = 500


def _ranking(tracker: Tracker) -> list[tuple[str, float]]:
    ranking = tracker.latest_message.get("intent_ranking") or []
    return [(r.get("name"), float(r.get("confidence") or 0.0)) for r in ranking if r.get("name") != "nlu_fallback"]


def _chosen(tracker: Tracker) -> bool:
    """The message is a button's answer, not the customer's own words."""
    return runtime.entity(tracker, "clarified") is not None or (tracker.latest_message.get("text") or "").startswith(
        "/"
    )


def doubtful_complaint(tracker: Tracker) -> bool:
    """Taken for a complaint, but barely, or nearly as much for a question or a request for a person."""
    if _chosen(tracker):
        return False
    ranking = _ranking(tracker)
    complain = next((c for name, c in ranking if name == "complain"), 0.0)
    rival = max((c for name, c in ranking if name in CHOICES and name != "complain"), default=0.0)
    return complain < SURE or complain - rival < MARGIN


def torn_between_choices(tracker: Tracker) -> bool:
    """The NLU gave up (nlu_fallback) on a message whose best guesses were among the choices."""
    if _chosen(tracker):
        return False
    top = [name for name, _ in _ranking(tracker)[:2]]
    return bool(top) and top[0] in CHOICES and any(name in CHOICES for name in top[1:])


def carrying(intent: str, said: str, **entities: str) -> str:
    """A button's payload: ``intent`` with ``entities`` and the customer's message as ``clarified``."""
    return f"/{intent}" + json.dumps({**entities, "clarified": said[:CARRIED]}, ensure_ascii=False)


def ask_which(dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> None:
    lang = runtime.language(tracker)
    said = runtime.text(tracker)
    buttons = [
        {"title": runtime.phrase(domain, title, lang), "payload": carrying(intent, said)}
        for intent, title in CHOICES.items()
    ]
    dispatcher.utter_message(response="utter_which_do_you_mean", buttons=buttons)
