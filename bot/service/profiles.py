"""Who is talking: the customer behind a conversation, their tier and its policy."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from bot.db.models import Customer
from bot.service.customers import customer_for_channel, customer_rfm
from bot.service.tiers import Tier, TierConfig
from bot.tokens import InvalidToken, verify_token

__all__ = ["Profile", "identify", "profile_of"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profile:
    tier: Tier
    customer_id: str | None = None
    name: str | None = None
    language: str | None = None

    @property
    def is_guest(self) -> bool:
        return self.customer_id is None

    def slots(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "customer_name": self.name,
            "tier": self.tier.id,
            "tier_policy": self.tier.policy.as_slot(),
        }


def profile_of(session: Session, customer: Customer, *, tiers: TierConfig, today: date) -> Profile:
    """A customer's profile with their stored tier, or the tier their orders earn if none is stored."""
    tier = tiers.get(customer.tier)
    if tier is None or tier.id == tiers.guest_id:
        tier = tiers.tier_for(customer_rfm(session, customer_id=customer.id, tiers=tiers, today=today))
    return Profile(tier=tier, customer_id=customer.id, name=customer.name, language=customer.language)


def identify(
    session: Session, *, metadata: dict[str, Any] | None, secret: str, tiers: TierConfig, today: date
) -> Profile:
    """The profile for a conversation's first message metadata; a guest unless it proves otherwise.

    ``metadata["token"]`` is a customer token signed by the site; ``metadata["channel_token"]``
    is a ``channel:user`` subject signed by one of our channels after it verified the platform.
    A bad token is logged and makes a guest: the customer never sees an error for it.
    """
    metadata = metadata if isinstance(metadata, dict) else {}
    customer = None
    try:
        if "token" in metadata:
            customer_id = verify_token(secret, metadata["token"], kind="customer")
            customer = session.get(Customer, customer_id)
            if customer is None:
                logger.warning("valid token for unknown customer %r: treated as a guest", customer_id)
        elif "channel_token" in metadata:
            subject = verify_token(secret, metadata["channel_token"], kind="channel")
            channel, _, user_id = subject.partition(":")
            customer = customer_for_channel(session, channel=channel, user_id=user_id)
    except InvalidToken as error:
        logger.warning("identity token refused (%s): treated as a guest", error)
    if customer is None:
        return Profile(tier=tiers.guest)
    return profile_of(session, customer, tiers=tiers, today=today)
