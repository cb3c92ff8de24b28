"""What every action needs, made on first use rather than at import.

rasa-sdk imports every module of this package at start; settings, the tier file
and the database are read when the first action runs.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rasa_sdk import Tracker

from bot.clock import utcnow
from bot.db.session import Session, Sessions, sessions_for
from bot.service.complaints import TicketReceipt, open_ticket
from bot.service.outcomes import record_outcome
from bot.service.tiers import Tier, TierConfig, load_tiers
from bot.settings import Settings, load_settings

if TYPE_CHECKING:
    from knowledge.service import KnowledgeBase

__all__ = [
    "channel",
    "company_name",
    "conversation_started",
    "entity",
    "is_cancel",
    "knowledge_base",
    "language",
    "local_time",
    "money",
    "note_outcome",
    "open_ticket_for",
    "phrase",
    "sessions",
    "settings",
    "tier_of",
    "tiers",
    "today",
    "utcnow",
]


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def tiers() -> TierConfig:
    return load_tiers(settings().tiers_file)


def sessions() -> Sessions:
    return sessions_for(settings().database_url)


def today() -> date:
    return date.today()


def language(tracker: Tracker) -> str:
    return tracker.get_slot("language") or "en"


def tier_of(tracker: Tracker) -> Tier:
    """The conversation's tier as identified at session start; a guest's if unknown."""
    return tiers().get(tracker.get_slot("tier")) or tiers().guest


def company_name(lang: str) -> str:
    return settings().company_name_zh if lang == "zh" else settings().company_name


def phrase(domain: dict[str, Any], response: str, lang: str) -> str:
    """The text of a domain.yml response in ``lang``, for words an action puts into its own
    messages (a button's title): its variation for that language, or the unconditioned one."""
    variations = domain["responses"][response]
    for variation in variations:
        conditions = variation.get("condition") or []
        if any(c.get("name") == "language" and c.get("value") == lang for c in conditions):
            return variation["text"]
    return next(v["text"] for v in variations if not v.get("condition"))


def money(amount: Any, lang: str) -> str:
    symbol = tiers().currency.get(lang, "")
    places = 0 if amount == int(amount) else 2
    return f"{symbol}{amount:,.{places}f}"


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    from knowledge.service import KnowledgeBase

    return KnowledgeBase(settings().kb_dir)


def channel(tracker: Tracker) -> str:
    return tracker.get_latest_input_channel() or "rest"


def conversation_started(tracker: Tracker) -> datetime:
    """When this conversation (Rasa session) began, as action_session_start noted it."""
    raw = tracker.get_slot("conversation_started")
    try:
        return datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        # Sessions from before the slot existed: the start of the tracker's day is close enough.
        return utcnow().replace(hour=0, minute=0, second=0, microsecond=0)


def note_outcome(session: Session, tracker: Tracker, outcome: str) -> None:
    record_outcome(
        session,
        sender_id=tracker.sender_id,
        started_at=conversation_started(tracker),
        channel=channel(tracker),
        customer_id=tracker.get_slot("customer_id"),
        tier=tier_of(tracker).id,
        outcome=outcome,
    )


def local_time(moment: datetime) -> str:
    """A stored UTC time as the customer reads it: in the service's time zone, which is named."""
    hours = settings().hours
    return f"{hours.local(moment):%Y-%m-%d %H:%M} ({hours.zone.key})"


def open_ticket_for(
    session: Session, tracker: Tracker, *, category: str, order_id: str | None, description: str
) -> TicketReceipt:
    """A ticket for this conversation's customer, on their tier's policy."""
    tier = tier_of(tracker)
    ticket = open_ticket(
        session,
        policy=tier.policy,
        tier=tier.id,
        sender_id=tracker.sender_id,
        channel=channel(tracker),
        customer_id=tracker.get_slot("customer_id"),
        language=language(tracker),
        category=category,
        order_id=order_id,
        description=description,
    )
    return TicketReceipt.of(ticket)


def text(tracker: Tracker) -> str:
    """What the customer wrote in the latest message, trimmed.

    A button that asked what they meant (actions/clarify.py) carries their earlier message
    as the ``clarified`` entity: that is what they wrote.
    """
    clarified = entity(tracker, "clarified")
    return (clarified if clarified is not None else tracker.latest_message.get("text") or "").strip()


def entity(tracker: Tracker, name: str) -> str | None:
    """The first value of entity ``name`` in the latest message, as text."""
    value = next(tracker.get_latest_entity_values(name), None)
    return None if value is None else str(value)


# What a customer says, as the whole message, to leave a form (a complaint, a binding) half-filled.
_CANCEL = re.compile(
    r"(?:(?:no|nah|ok|okay|oh|well|actually) )*"
    r"(?:cancel(?: (?:it|that|this|the complaint|my complaint))?|stop|quit|exit|never ?mind|forget (?:it|about it)"
    r"|no thanks|not anymore|i changed my mind|drop it|leave it"
    r"|i (?:don'?t|do not) want to (?:complain|continue|go on|do this)(?: anymore)?)"
    r"(?: (?:please|thanks|thank you|then))*"
    r"|(?:那|那就|还是)?(?:取消|算了|不用了|不投诉了|退出|没事了|不需要了|不要了|先不了|不弄了|不想投诉了|我不想投诉了|取消投诉|不绑定了)"
    r"(?: ?(?:吧|啦|了|谢谢|谢了))*"
)


def is_cancel(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    said = re.sub(r"[\s,，、;；]+", " ", value.strip().lower().strip(".!?,。！？，~ "))
    return _CANCEL.fullmatch(said) is not None
