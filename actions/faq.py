"""Questions answered from the knowledge base, in the customer's language.

Confident: the answer and "did this help?". Unsure: the closest entries to pick
from. Lost: an honest "I don't know", the question logged as a gap, and what the
tier's policy offers instead, whatever intent the NLU gave the message: a product
question taken, unsurely, for out-of-scope chat is still a gap supervisors see. Inside a form
the answer comes without "did this help?", and the form resumes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import query_vector, runtime
from actions.clarify import ask_which, torn_between_choices
from actions.handoff import escalate
from bot.db.session import Session
from bot.service.escalation import ESCALATE, OFFER_PERSON, after_failure
from bot.service.kb_log import record_answer, record_feedback, record_gap
from bot.service.outcomes import ABANDONED, SELF_SERVED

logger = logging.getLogger(__name__)

SUGGESTIONS = 3
KB_ATTEMPTS_KEPT = 5
# Messages the NLU did not take for a question still get an answer when the
# knowledge base is sure; otherwise these replies instead of "I don't know".
NOT_QUESTIONS = {"out_of_scope": "utter_out_of_scope", "nlu_fallback": "utter_default"}
# Off-topic this surely (a broker, the weather) gets a polite no: not a gap, no ticket offered.
OFF_TOPIC_SURE = 0.8


def _bot_failed(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    attempts: list[dict[str, Any]] | None = None,
    record: Callable[[Session], object] | None = None,
) -> list[EventType]:
    """Counts a turn the bot could not help with, and offers what the tier's policy allows instead.

    A customer who already asked for a person gets one once the bot has failed them as
    often as their policy allows; others are offered a person then, and a ticket always.
    ``record`` stores why (a gap, a "no" to an answer) in the same transaction as the
    conversation's outcome, so the reports never count one without the other.
    """
    policy = runtime.tier_of(tracker).policy
    failures = int(tracker.get_slot("bot_failures") or 0) + 1
    requests = int(tracker.get_slot("human_requests") or 0)
    with runtime.sessions().begin() as session:
        if record is not None:
            record(session)
        runtime.note_outcome(session, tracker, ABANDONED)
    next_step = after_failure(policy, failures=failures, requests=requests)
    if next_step == ESCALATE:
        tried: dict[str, Any] = {"failures": failures}
        if attempts is not None:
            tried["knowledge_base"] = attempts
        return [SlotSet("bot_failures", failures), *escalate(dispatcher, tracker, reason="bot_failed", tried=tried)]
    if next_step == OFFER_PERSON:
        dispatcher.utter_message(response="utter_offer_ticket_or_human")
    else:
        dispatcher.utter_message(response="utter_offer_ticket")
    return [SlotSet("bot_failures", failures)]


def _attempt(question: str, result: Any, answered: bool) -> dict[str, Any]:
    """One knowledge-base search as an agent will see it in the handoff record."""
    return {
        "question": question[:300],
        "confidence": round(float(result.confidence), 3),
        "answered": answered,
        "matches": [
            {"id": hit.entry.id, "question": hit.entry.question_in("en"), "score": round(float(hit.score), 3)}
            for hit in result.hits
        ],
    }


def _remember(tracker: Tracker, attempt: dict[str, Any]) -> EventType:
    attempts = list(tracker.get_slot("kb_attempts") or [])[-(KB_ATTEMPTS_KEPT - 1) :]
    return SlotSet("kb_attempts", [*attempts, attempt])


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        lang = runtime.language(tracker)
        tier = runtime.tier_of(tracker)
        searcher = runtime.knowledge_base().searcher()
        if searcher is None:
            logger.error("no knowledge base built: run `bot kb build`")
            return self._unknown(dispatcher, tracker, None)

        # The entry a customer picked from the suggestion buttons (``/faq{"faq_id": ...}``).
        chosen = runtime.entity(tracker, "faq_id")
        if chosen is not None:
            entry = next((e for e in searcher.index.entries if e.id == chosen), None)
            if entry is None or not entry.visible_to(tier.id):
                return self._unknown(dispatcher, tracker, None)
            return self._answer(dispatcher, entry, lang, question=entry.question_in(lang), score=None, tracker=tracker)

        question = runtime.text(tracker)
        vector = query_vector.from_nlu(tracker, question, searcher.embedder)
        if vector is None:
            result = searcher.search(question, k=SUGGESTIONS, tier=tier.id)
        else:
            result = searcher.search_vector(question, vector, k=SUGGESTIONS, tier=tier.id)
        settings = runtime.settings()
        best = result.best
        logger.info(
            "faq %r: %s (score %.3f, confidence %.2f, %s)",
            question[:80],
            best.entry.id if best else None,
            best.score if best else 0,
            result.confidence,
            "embedded by the NLU" if vector is not None else "embedded here",
        )
        if best and result.confidence >= settings.kb_answer_threshold:
            events = self._answer(
                dispatcher,
                best.entry,
                lang,
                question=question,
                score=best.score,
                tracker=tracker,
                confidence=result.confidence,
            )
            return [*events, _remember(tracker, _attempt(question, result, answered=True))]
        remembered = _remember(tracker, _attempt(question, result, answered=False))
        intent = tracker.latest_message.get("intent") or {}
        intent_name = str(intent.get("name"))
        in_form = tracker.active_loop_name is not None
        if intent_name == "nlu_fallback" and not in_form and torn_between_choices(tracker):
            ask_which(dispatcher, tracker, domain)
            return [remembered]
        off_topic = intent_name == "out_of_scope" and float(intent.get("confidence") or 0) >= OFF_TOPIC_SURE
        if best and result.confidence >= settings.kb_suggest_threshold and not off_topic:
            buttons = [
                {"title": hit.entry.question_in(lang), "payload": f'/faq{{"faq_id": "{hit.entry.id}"}}'}
                for hit in result.hits
            ]
            dispatcher.utter_message(response="utter_faq_suggest", buttons=buttons)
            return [SlotSet("last_faq", None), remembered]
        if off_topic:
            dispatcher.utter_message(response=NOT_QUESTIONS[intent_name])
            return [remembered]
        return [
            remembered,
            *self._unknown(
                dispatcher,
                tracker,
                best.score if best else None,
                remembered["value"],
                reply=NOT_QUESTIONS.get(intent_name, "utter_faq_unknown"),
                offer=not in_form,
            ),
        ]

    def _answer(
        self,
        dispatcher: CollectingDispatcher,
        entry: Any,
        lang: str,
        *,
        question: str,
        score: float | None,
        tracker: Tracker,
        confidence: float | None = None,
    ) -> list[EventType]:
        _, answer = entry.answer_in(lang)
        if tracker.active_loop_name is not None:
            # The form's question follows: a "did this help?" would be taken for its answer.
            dispatcher.utter_message(response="utter_faq_answer_only", answer=answer)
        else:
            dispatcher.utter_message(response="utter_faq_answer", answer=answer)
        with runtime.sessions().begin() as session:
            runtime.note_outcome(session, tracker, SELF_SERVED)
            record_answer(
                session,
                entry_id=entry.id,
                sender_id=tracker.sender_id,
                tier=runtime.tier_of(tracker).id,
                language=lang,
                question=question,
                confidence=confidence,
            )
        if tracker.active_loop_name is not None:
            return []
        return [SlotSet("last_faq", {"entry_id": entry.id, "score": score, "question": question})]

    @staticmethod
    def _unknown(
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        score: float | None,
        attempts: list[dict[str, Any]] | None = None,
        *,
        reply: str = "utter_faq_unknown",
        offer: bool = True,
    ) -> list[EventType]:
        """Logs the message as a gap; ``offer`` counts the turn as failed, with the tier's offer."""
        gap = partial(
            record_gap,
            sender_id=tracker.sender_id,
            customer_id=tracker.get_slot("customer_id"),
            tier=runtime.tier_of(tracker).id,
            language=runtime.language(tracker),
            question=runtime.text(tracker),
            best_score=score,
        )
        dispatcher.utter_message(response=reply)
        if not offer:
            with runtime.sessions().begin() as session:
                gap(session)
            return [SlotSet("last_faq", None)]
        return [SlotSet("last_faq", None), *_bot_failed(dispatcher, tracker, attempts=attempts, record=gap)]


class ActionFaqFeedback(Action):
    """Records whether the last answer helped."""

    def name(self) -> str:
        return "action_faq_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        last = tracker.get_slot("last_faq")
        if not last:
            dispatcher.utter_message(response="utter_how_can_i_help")
            return []
        helpful = tracker.get_intent_of_latest_message() == "affirm"
        feedback = partial(
            record_feedback,
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
            with runtime.sessions().begin() as session:
                feedback(session)
            dispatcher.utter_message(response="utter_glad_it_helped")
            return [SlotSet("last_faq", None)]
        dispatcher.utter_message(response="utter_sorry_not_helpful")
        return [SlotSet("last_faq", None), *_bot_failed(dispatcher, tracker, record=feedback)]
