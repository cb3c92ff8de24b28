"""Binding a messaging account (a WeChat OpenID) to a customer, with a limit on attempts.

The customer proves who they are with their membership number and the last four
digits of their phone. A wrong pair says only that it does not match, never which
half was wrong; after MAX_FAILURES wrong pairs in WINDOW, no more tries for a while.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import BindAttempt, ChannelIdentity, Customer, utcnow

__all__ = ["MAX_FAILURES", "WINDOW", "BindResult", "bind"]

MAX_FAILURES = 5
WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class BindResult:
    customer: Customer | None
    attempts_left: int

    @property
    def bound(self) -> bool:
        return self.customer is not None


def _failures(session: Session, channel: str, user_id: str, now: datetime) -> int:
    return int(
        session.scalar(
            select(func.count(BindAttempt.id)).where(
                BindAttempt.channel == channel,
                BindAttempt.channel_user_id == user_id,
                BindAttempt.succeeded.is_(False),
                BindAttempt.at > now - WINDOW,
            )
        )
        or 0
    )


def bind(session: Session, *, channel: str, user_id: str, member_id: str, phone_last4: str) -> BindResult:
    """Binds ``user_id`` of ``channel`` to the customer these details prove, if they do."""
    now = utcnow()
    failures = _failures(session, channel, user_id, now)
    if failures >= MAX_FAILURES:
        return BindResult(None, 0)
    customer = session.get(Customer, member_id.strip().upper())
    digits = re.sub(r"\D", "", customer.phone or "") if customer else ""
    matches = customer is not None and len(phone_last4) == 4 and phone_last4.isdigit() and digits.endswith(phone_last4)
    session.add(BindAttempt(channel=channel, channel_user_id=user_id, succeeded=matches, at=now))
    if customer is None or not matches:
        return BindResult(None, MAX_FAILURES - failures - 1)
    identity = session.scalar(
        select(ChannelIdentity).where(ChannelIdentity.channel == channel, ChannelIdentity.channel_user_id == user_id)
    )
    if identity is None:
        session.add(ChannelIdentity(channel=channel, channel_user_id=user_id, customer_id=customer.id))
    else:
        identity.customer_id, identity.bound_at = customer.id, now
    session.flush()
    return BindResult(customer, MAX_FAILURES - failures)
