"""Who the customer is: the session start that identifies them, and the greeting."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from bot.db.models import utcnow
from bot.handoffs import open_handoff_of
from bot.outcomes import ABANDONED, ESCALATED, record_outcome
from bot.profiles import identify

logger = logging.getLogger(__name__)


class ActionSessionStart(Action):
    """Starts a session knowing the customer, their tier and its policy.

    The identity comes only from the first message's signed metadata (or a
    channel identity our own channel signed); anything else makes a guest.
    """

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        metadata = tracker.get_slot("session_started_metadata")
        with runtime.sessions()() as session:
            profile = identify(
                session,
                metadata=metadata,
                secret=runtime.settings().identity_secret,
                tiers=runtime.tiers(),
                today=runtime.today(),
            )
        logger.info("session %s: %s", tracker.sender_id, profile.customer_id or "guest")
        started = utcnow().replace(microsecond=0)
        events: list[EventType] = [SessionStarted(), SlotSet("conversation_started", started.isoformat())]
        events += [SlotSet(name, value) for name, value in profile.slots().items()]
        with runtime.sessions().begin() as session:
            handoff = open_handoff_of(session, tracker.sender_id)
            record_outcome(
                session,
                sender_id=tracker.sender_id,
                started_at=started,
                channel=runtime.channel(tracker),
                customer_id=profile.customer_id,
                tier=profile.tier.id,
                outcome=ESCALATED if handoff else ABANDONED,
            )
        if handoff is not None:
            # A new session must not drop a customer who is still with, or waiting for, a person.
            events.append(SlotSet("handoff_id", handoff.id))
        # The page's language is a fair first guess for a guest; nothing is trusted from it.
        hint = metadata.get("language") if isinstance(metadata, dict) else None
        language = profile.language or (hint if hint in ("zh", "en") else None)
        if language:
            events.append(SlotSet("language", language))
        events.append(ActionExecuted("action_listen"))
        return events


class ActionGreet(Action):
    """Greets a known customer by name and tier, a guest as a guest."""

    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        name = tracker.get_slot("customer_name")
        if tracker.get_slot("customer_id") and name:
            tier = runtime.tier_of(tracker)
            dispatcher.utter_message(
                response="utter_greet_customer",
                customer_name=name,
                tier_label=tier.label_in(runtime.language(tracker)),
            )
        else:
            dispatcher.utter_message(response="utter_greet_guest")
        return []
