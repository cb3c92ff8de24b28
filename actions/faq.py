"""Questions answered from the knowledge base, in the customer's language.

Confident: the answer and "did this help?". Unsure: the closest entries to pick
from. Lost: an honest "I don't know", the question logged as a gap, and what the
tier's policy offers instead.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from bot.kb_log import record_feedback, record_gap

logger = logging.getLogger(__name__)

SUGGESTIONS = 3
# Messages the NLU did not take for a question still get an answer when the
# knowledge base is sure; otherwise they get these replies, and no gap is logged.
NOT_QUESTIONS = {"out_of_scope": "utter_out_of_scope", "nlu_fallback": "utter_default"}


def _question(tracker: Tracker) -> str:
    return (tracker.latest_message.get("text") or "").strip()


def _chosen_entry(tracker: Tracker) -> str | None:
    """The entry a customer picked from the suggestion buttons (``/faq{"faq_id": ...}``)."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "faq_id":
            return str(entity.get("value"))
    return None


def _offer_alternatives(dispatcher: CollectingDispatcher, tracker: Tracker) -> EventType:
    """Counts a bot failure and offers what the tier's policy allows instead of the bot.

    Everyone may open a ticket; a person is offered to tiers served by people first,
    and to the others once the bot has failed them more often than their policy allows.
    """
    policy = runtime.tier_of(tracker).policy
    failures = int(tracker.get_slot("bot_failures") or 0) + 1
    if policy.human_first or failures > policy.failures_before_escalation:
        dispatcher.utter_message(response="utter_offer_ticket_or_human")
    else:
        dispatcher.utter_message(response="utter_offer_ticket")
    return SlotSet("bot_failures", failures)


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = runtime.language(tracker)
        tier = runtime.tier_of(tracker)
        searcher = runtime.knowledge_base().searcher()
        if searcher is None:
            logger.error("no knowledge base built: run `bot kb build`")
            return self._unknown(dispatcher, tracker, None)

        chosen = _chosen_entry(tracker)
        if chosen is not None:
            entry = next((e for e in searcher.index.entries if e.id == chosen), None)
            if entry is None or not entry.visible_to(tier.id):
                return self._unknown(dispatcher, tracker, None)
            return self._answer(dispatcher, entry, lang, question=entry.question_in(lang), score=None)

        question = _question(tracker)
        result = searcher.search(question, k=SUGGESTIONS, tier=tier.id)
        settings = runtime.settings()
        best = result.best
        logger.info(
            "faq %r: %s (score %.3f, confidence %.2f)",
            question[:80], best.entry.id if best else None, best.score if best else 0, result.confidence,
        )
        if best and result.confidence >= settings.kb_answer_threshold:
            return self._answer(dispatcher, best.entry, lang, question=question, score=best.score)
        intent = tracker.get_intent_of_latest_message()
        if intent in NOT_QUESTIONS:
            dispatcher.utter_message(response=NOT_QUESTIONS[intent])
            return []
        if best and result.confidence >= settings.kb_suggest_threshold:
            buttons = [
                {"title": hit.entry.question_in(lang), "payload": f'/faq{{"faq_id": "{hit.entry.id}"}}'}
                for hit in result.hits
            ]
            dispatcher.utter_message(response="utter_faq_suggest", buttons=buttons)
            return [SlotSet("last_faq", None)]
        return self._unknown(dispatcher, tracker, best.score if best else None)

    @staticmethod
    def _answer(
        dispatcher: CollectingDispatcher, entry: Any, lang: str, *, question: str, score: float | None
    ) -> list[EventType]:
        _, answer = entry.answer_in(lang)
        dispatcher.utter_message(response="utter_faq_answer", answer=answer)
        return [SlotSet("last_faq", {"entry_id": entry.id, "score": score, "question": question})]

    @staticmethod
    def _unknown(dispatcher: CollectingDispatcher, tracker: Tracker, score: float | None) -> list[EventType]:
        tier = runtime.tier_of(tracker)
        with runtime.sessions().begin() as session:
            record_gap(
                session,
                sender_id=tracker.sender_id,
                customer_id=tracker.get_slot("customer_id"),
                tier=tier.id,
                language=runtime.language(tracker),
                question=_question(tracker),
                best_score=score,
            )
        dispatcher.utter_message(response="utter_faq_unknown")
        return [SlotSet("last_faq", None), _offer_alternatives(dispatcher, tracker)]


class ActionFaqFeedback(Action):
    """Records whether the last answer helped."""

    def name(self) -> str:
        return "action_faq_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        last = tracker.get_slot("last_faq")
        if not last:
            dispatcher.utter_message(response="utter_how_can_i_help")
            return []
        helpful = tracker.get_intent_of_latest_message() == "affirm"
        with runtime.sessions().begin() as session:
            record_feedback(
                session,
                entry_id=last["entry_id"],
                helpful=helpful,
                sender_id=tracker.sender_id,
                customer_id=tracker.get_slot("customer_id"),
                tier=runtime.tier_of(tracker).id,
                language=runtime.language(tracker),
                question=last.get("question") or "",
                score=last.get("score"),
            )
        if helpful:
            dispatcher.utter_message(response="utter_glad_it_helped")
            return [SlotSet("last_faq", None)]
        dispatcher.utter_message(response="utter_sorry_not_helpful")
        return [SlotSet("last_faq", None), _offer_alternatives(dispatcher, tracker)]
