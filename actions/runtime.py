"""What every action needs, made on first use rather than at import.

rasa-sdk imports every module of this package at start; settings, the tier file
and the database are read when the first action runs.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rasa_sdk import Tracker
from sqlalchemy.orm import Session, sessionmaker

from bot.db.session import sessions_for
from bot.settings import Settings, load_settings
from bot.tiers import Tier, TierConfig, load_tiers

if TYPE_CHECKING:
    from knowledge.service import KnowledgeBase

__all__ = ["knowledge_base", "language", "money", "sessions", "settings", "tier_of", "tiers", "today"]


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def tiers() -> TierConfig:
    return load_tiers(settings().tiers_file)


def sessions() -> sessionmaker[Session]:
    return sessions_for(settings().database_url)


def today() -> date:
    return date.today()


def language(tracker: Tracker) -> str:
    return tracker.get_slot("language") or "en"


def tier_of(tracker: Tracker) -> Tier:
    """The conversation's tier as identified at session start; a guest's if unknown."""
    return tiers().get(tracker.get_slot("tier")) or tiers().guest


def money(amount: Any, lang: str) -> str:
    symbol = tiers().currency.get(lang, "")
    places = 0 if amount == int(amount) else 2
    return f"{symbol}{amount:,.{places}f}"


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    from knowledge.service import KnowledgeBase

    return KnowledgeBase(settings().kb_dir)
