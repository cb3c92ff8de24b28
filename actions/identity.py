"""Who the customer is: the session start that identifies them, the greeting, and binding
a messaging account to a member account."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    EventType,
    FollowupAction,
    SessionStarted,
    SlotSet,
)
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.forms import LET_GO, LettingGoForm, interrupts
from bot.service.binding import bind
from bot.service.handoffs import open_handoff_of
from bot.service.outcomes import ABANDONED, ESCALATED, record_outcome
from bot.service.profiles import identify, profile_of

logger = logging.getLogger(__name__)


def _latest_user_metadata(tracker: Tracker) -> dict[str, Any] | None:
    return next((e.get("metadata") for e in reversed(tracker.events) if e.get("event") == "user"), None)


class ActionSessionStart(Action):
    """Starts a session knowing the customer, their tier and its policy.

    The identity comes only from the first message's signed metadata (or a
    channel identity our own channel signed); anything else makes a guest.
    """

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        # Rasa fills this slot when a session expires or begins; a "/session_start" sent
        # mid-conversation carries its metadata only on the message itself.
        metadata = tracker.get_slot("session_started_metadata") or _latest_user_metadata(tracker)
        with runtime.sessions()() as session:
            profile = identify(
                session,
                metadata=metadata,
                secret=runtime.settings().identity_secret,
                tiers=runtime.tiers(),
                today=runtime.today(),
            )
        logger.info("session %s: %s", tracker.sender_id, profile.customer_id or "guest")
        started = runtime.utcnow().replace(microsecond=0)
        settings = runtime.settings()
        events: list[EventType] = [
            SessionStarted(),
            SlotSet("conversation_started", started.isoformat()),
            SlotSet("company_en", settings.company_name),
            SlotSet("company_zh", settings.company_name_zh),
        ]
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
        # The page the customer reads says their language now, better than their profile; it
        # decides only the language. The language each message is written in wins after it.
        hint = metadata.get("language") if isinstance(metadata, dict) else None
        language = (hint if hint in ("zh", "en") else None) or profile.language
        if language:
            events.append(SlotSet("language", language))
        events.append(ActionExecuted("action_listen"))
        return events


class ActionGreet(Action):
    """Greets a known customer by name and tier, a guest as a guest."""

    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
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


# Channels whose user ids our own channel code verified and signs (bot/rasa_addons/channels/).
BINDABLE_CHANNELS = {"wechat"}
BIND_SLOTS = ("bind_member_id", "bind_phone_last4", "bind_cancelled")


class ActionBindStart(Action):
    """Starts binding a messaging account to a member account, where that means something."""

    def name(self) -> str:
        return "action_bind_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if runtime.channel(tracker) not in BINDABLE_CHANNELS:
            dispatcher.utter_message(response="utter_bind_on_web")
            return []
        if tracker.get_slot("customer_id"):
            dispatcher.utter_message(response="utter_already_bound", customer_name=tracker.get_slot("customer_name"))
            return []
        return [*(SlotSet(name, None) for name in BIND_SLOTS), FollowupAction("bind_form")]


class ValidateBindForm(LettingGoForm):
    def name(self) -> str:
        return "validate_bind_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return [] if tracker.get_slot("bind_cancelled") else domain_slots

    def validate_bind_member_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {}
        if runtime.is_cancel(value):
            return {"bind_member_id": None, "bind_cancelled": True}
        member_id = str(value or "").strip()
        # Member numbers carry digits: a word alone is the customer saying something else.
        if not re.search(r"\d", member_id) and interrupts(tracker, free_text=False):
            return LET_GO
        if not re.fullmatch(r"[A-Za-z0-9-]{3,32}", member_id):
            dispatcher.utter_message(response="utter_bind_member_id_format")
            return {"bind_member_id": None}
        return {"bind_member_id": member_id}

    def validate_bind_phone_last4(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {}
        if runtime.is_cancel(value):
            return {"bind_phone_last4": None, "bind_cancelled": True}
        digits = str(value or "").strip()
        if not re.fullmatch(r"\d{4}", digits) and interrupts(tracker, free_text=False):
            return LET_GO
        if not re.fullmatch(r"\d{4}", digits):
            dispatcher.utter_message(response="utter_bind_phone_format")
            return {"bind_phone_last4": None}
        return {"bind_phone_last4": digits}


class ActionBindSubmit(Action):
    """Checks the details against the customer records and binds the account if they match."""

    def name(self) -> str:
        return "action_bind_submit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        reset = [SlotSet(name, None) for name in BIND_SLOTS]
        if tracker.get_slot("bind_cancelled"):
            dispatcher.utter_message(response="utter_bind_cancelled")
            return reset
        channel = runtime.channel(tracker)
        if channel not in BINDABLE_CHANNELS:
            dispatcher.utter_message(response="utter_bind_on_web")
            return reset
        with runtime.sessions().begin() as session:
            result = bind(
                session,
                channel=channel,
                user_id=tracker.sender_id,
                member_id=tracker.get_slot("bind_member_id") or "",
                phone_last4=tracker.get_slot("bind_phone_last4") or "",
            )
            profile = (
                profile_of(session, result.customer, tiers=runtime.tiers(), today=runtime.today())
                if result.customer is not None
                else None
            )
        if profile is None:
            logger.info("binding %s:%s refused (%s attempts left)", channel, tracker.sender_id, result.attempts_left)
            response = "utter_bind_failed" if result.attempts_left else "utter_bind_locked"
            dispatcher.utter_message(response=response, left=result.attempts_left)
            return reset
        dispatcher.utter_message(
            response="utter_bind_done",
            customer_name=profile.name,
            tier_label=profile.tier.label_in(runtime.language(tracker)),
        )
        return [*reset, *(SlotSet(name, value) for name, value in profile.slots().items())]
