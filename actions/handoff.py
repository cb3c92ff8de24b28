"""The way to a person: asking for one, the queue, the relay while an agent helps, and the rating.

While a handoff is open the dialogue policy (bot/rasa_addons/dialogue/handoff_policy.py) sends
every customer message to ``action_relay_to_agent``, so the bot says nothing of its
own. The worker delivers what agents write by triggering the ``handoff_event``
intent, one stored message at a time.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from bot.service.customers import callback_contact
from bot.service.escalation import on_request
from bot.service.handoffs import (
    MAX_MESSAGE,
    Notice,
    customer_facts,
    expected_wait_minutes,
    notice_for,
    open_handoff,
    queue_position,
    relay_customer_message,
)
from bot.service.outcomes import ESCALATED, TICKET, record_rating

logger = logging.getLogger(__name__)

TRANSCRIPT_TURNS = 60
RATING_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
}


def _transcript(tracker: Tracker) -> list[dict[str, Any]]:
    """The conversation so far as an agent reads it: who said what, and when."""
    lines = []
    for event in tracker.events:
        kind, text = event.get("event"), event.get("text")
        if kind not in ("user", "bot") or not text or text.startswith("EXTERNAL:"):
            continue
        entry = {"author": "customer" if kind == "user" else "bot", "text": text, "at": event.get("timestamp")}
        if kind == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            entry["intent"] = intent.get("name")
            entry["confidence"] = round(float(intent.get("confidence") or 0), 3)
        lines.append(entry)
    return lines[-TRANSCRIPT_TURNS:]


def _packet(
    session: Any, tracker: Tracker, draft: dict[str, Any] | None, tried: dict[str, Any] | None
) -> dict[str, Any]:
    tier = runtime.tier_of(tracker)
    return {
        "customer": customer_facts(
            session, tracker.get_slot("customer_id"), tiers=runtime.tiers(), tier=tier, today=runtime.today()
        ),
        "language": runtime.language(tracker),
        "channel": runtime.channel(tracker),
        "transcript": _transcript(tracker),
        "bot_tried": {
            "failures": int(tracker.get_slot("bot_failures") or 0),
            "human_requests": int(tracker.get_slot("human_requests") or 0),
            "knowledge_base": tracker.get_slot("kb_attempts") or [],
            # What the current turn found, not yet in the tracker's slots.
            **(tried or {}),
        },
        "ticket_draft": draft,
    }


def escalate(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    reason: str,
    draft: dict[str, Any] | None = None,
    tried: dict[str, Any] | None = None,
) -> list[EventType]:
    """Puts the customer in the agents' queue, or offers a ticket or call-back when nobody works."""
    settings = runtime.settings()
    lang = runtime.language(tracker)
    tier = runtime.tier_of(tracker)
    if not settings.hours.is_open(runtime.utcnow()):
        dispatcher.utter_message(response="utter_agents_closed", hours=settings.hours.describe())
        customer = tracker.get_slot("customer_id")
        dispatcher.utter_message(response="utter_ticket_or_callback" if customer else "utter_ticket_when_back")
        return []
    with runtime.sessions().begin() as session:
        handoff = open_handoff(
            session,
            sender_id=tracker.sender_id,
            channel=runtime.channel(tracker),
            customer_id=tracker.get_slot("customer_id"),
            tier=tier,
            language=lang,
            reason=reason,
            packet=_packet(session, tracker, draft, tried),
        )
        position = queue_position(session, handoff)
        runtime.note_outcome(session, tracker, ESCALATED)
        handoff_id = handoff.id
    logger.info("handoff %s for %s (%s, %s): position %s", handoff_id, tracker.sender_id, tier.id, reason, position)
    dispatcher.utter_message(
        response="utter_handoff_queued",
        position=position,
        minutes=expected_wait_minutes(position, settings.handoff_minutes_each),
    )
    return [SlotSet("handoff_id", handoff_id), SlotSet("bot_failures", 0)]


def ask_for_person(tracker: Tracker) -> tuple[EventType, str | None]:
    """This request for a person, counted, and the handoff's reason if the tier's rules grant one now."""
    policy = runtime.tier_of(tracker).policy
    failures = int(tracker.get_slot("bot_failures") or 0)
    requests = int(tracker.get_slot("human_requests") or 0) + 1
    return SlotSet("human_requests", requests), on_request(policy, failures=failures, requests=requests)


class ActionRequestHuman(Action):
    """A person at once for tiers served by people first; the bot's help first for the others."""

    def name(self) -> str:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        asked, reason = ask_for_person(tracker)
        if reason is not None:
            return [asked, *escalate(dispatcher, tracker, reason=reason)]
        dispatcher.utter_message(response="utter_try_bot_first")
        return [asked]


class ActionRelayToAgent(Action):
    """Appends the customer's message to their handoff, and says nothing."""

    def name(self) -> str:
        return "action_relay_to_agent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        handoff_id = tracker.get_slot("handoff_id")
        text = runtime.text(tracker)
        if not handoff_id or not text:
            return []
        with runtime.sessions().begin() as session:
            relayed = relay_customer_message(
                session, handoff_id=int(handoff_id), sender_id=tracker.sender_id, text=text[:MAX_MESSAGE]
            )
        return [] if relayed else [SlotSet("handoff_id", None)]


def _agent_name(notice: Notice, lang: str) -> str:
    return notice.agent or runtime.company_name(lang)


class ActionHandoffEvent(Action):
    """Delivers one stored agent or system message to the customer, once.

    The console may deliver a message again when it did not hear Rasa's answer;
    the last delivered id in the conversation makes the second time a no-op.
    """

    def name(self) -> str:
        return "action_handoff_event"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        try:
            message_id = int(runtime.entity(tracker, "handoff_message_id") or "")
        except ValueError:
            logger.warning("handoff_event without a message id for %s", tracker.sender_id)
            return []
        if message_id <= int(tracker.get_slot("handoff_last_event") or 0):
            return []
        events: list[EventType] = [SlotSet("handoff_last_event", message_id)]
        with runtime.sessions()() as session:
            notice = notice_for(session, message_id=message_id, sender_id=tracker.sender_id)
        if notice is None:
            logger.warning("handoff message %s is not for %s", message_id, tracker.sender_id)
            return []
        if notice.kind == "agent":
            dispatcher.utter_message(
                response="utter_from_agent", agent=_agent_name(notice, runtime.language(tracker)), message=notice.text
            )
        elif notice.kind == "joined":
            dispatcher.utter_message(
                response="utter_agent_joined", agent=_agent_name(notice, runtime.language(tracker))
            )
        elif notice.kind == "closed":
            dispatcher.utter_message(response="utter_handoff_closed")
            dispatcher.utter_message(response="utter_ask_rating")
            events += [SlotSet("handoff_id", None), SlotSet("rating_for", notice.handoff_id)]
        elif notice.kind in ("expired", "ticketed"):
            dispatcher.utter_message(
                response="utter_handoff_expired" if notice.kind == "expired" else "utter_handoff_ticketed",
                agent=_agent_name(notice, runtime.language(tracker)),
                number=notice.ticket_number or "-",
                due=runtime.local_time(notice.ticket_due) if notice.ticket_due else "-",
            )
            events.append(SlotSet("handoff_id", None))
        return events


def _rating(tracker: Tracker) -> int | None:
    chosen = next(tracker.get_latest_entity_values("rating"), None)
    if chosen is not None:
        try:
            return int(chosen)
        except (TypeError, ValueError):
            return None
    text = runtime.text(tracker).lower()
    digits = re.findall(r"\d+", text)
    if digits:
        return int(digits[0])
    return next((value for word, value in RATING_WORDS.items() if word in text), None)


class ActionRate(Action):
    """Records a 1-5 satisfaction rating for the conversation and the handoff it follows."""

    def name(self) -> str:
        return "action_rate"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        rating = _rating(tracker)
        if rating is None or not 1 <= rating <= 5:
            dispatcher.utter_message(response="utter_ask_rating")
            return []
        handoff_id = tracker.get_slot("rating_for")
        with runtime.sessions().begin() as session:
            record_rating(
                session,
                sender_id=tracker.sender_id,
                started_at=runtime.conversation_started(tracker),
                rating=rating,
                handoff_id=int(handoff_id) if handoff_id else None,
            )
        dispatcher.utter_message(response="utter_thanks_for_rating")
        return [SlotSet("rating_for", None)]


class ActionRequestCallback(Action):
    """Out of hours: a call-back ticket to the phone number on the customer's record."""

    def name(self) -> str:
        return "action_request_callback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        customer_id = tracker.get_slot("customer_id")
        with runtime.sessions().begin() as session:
            contact = callback_contact(session, customer_id)
            if contact is None:
                dispatcher.utter_message(response="utter_callback_needs_phone")
                return []
            name, phone = contact
            ticket = runtime.open_ticket_for(
                session, tracker, category="callback", order_id=None, description=f"Call back {name} on {phone}"
            )
            runtime.note_outcome(session, tracker, TICKET)
            number = ticket.number
        masked = phone[:3] + "*" * max(0, len(phone) - 7) + phone[-4:]
        dispatcher.utter_message(
            response="utter_callback_booked", number=number, phone=masked, hours=runtime.settings().hours.describe()
        )
        return []
