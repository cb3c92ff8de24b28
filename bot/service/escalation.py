"""When a customer reaches a person: the one place the tier policy and the agents' hours decide it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.service.tiers import Policy

__all__ = [
    "ESCALATE",
    "OFFER_PERSON",
    "OFFER_TICKET",
    "ServiceHours",
    "ServiceHoursError",
    "after_failure",
    "complaint_goes_to_person",
    "complaint_to_person_now",
    "may_reach_person",
    "on_request",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Asking for a person this many times in one conversation is insisting.
INSIST_AFTER_REQUESTS = 2
# What a turn the bot could not help with leads to.
ESCALATE, OFFER_PERSON, OFFER_TICKET = "escalate", "offer_person", "offer_ticket"


class ServiceHoursError(ValueError):
    """SERVICE_HOURS, SERVICE_DAYS or SERVICE_TIMEZONE is malformed."""


@dataclass(frozen=True)
class ServiceHours:
    """When agents work: a daily window on some weekdays, in one time zone."""

    opens: time
    closes: time | None  # None: until midnight
    days: frozenset[int]
    zone: ZoneInfo

    @classmethod
    def parse(cls, hours: str, days: str, zone: str) -> ServiceHours:
        """``hours`` like "09:00-21:00" ("00:00-24:00" is all day), ``days`` like "mon-fri" or "mon,wed,sat"."""
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", hours)
        if not match:
            raise ServiceHoursError(f"SERVICE_HOURS must look like 09:00-21:00, not {hours!r}")
        h1, m1, h2, m2 = map(int, match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise ServiceHoursError(f"SERVICE_HOURS has an impossible time: {hours!r}")
        opens, closes = time(h1, m1), None if h2 == 24 else time(h2, m2)
        if closes is not None and closes <= opens:
            raise ServiceHoursError(f"SERVICE_HOURS must close after it opens: {hours!r}")
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ServiceHoursError(f"SERVICE_TIMEZONE is not a known time zone: {zone!r}") from None
        return cls(opens=opens, closes=closes, days=_days(days), zone=tz)

    def local(self, now: datetime) -> datetime:
        """``now`` (aware, or naive UTC) in the agents' time zone."""
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
        return now.astimezone(self.zone)

    def is_open(self, now: datetime) -> bool:
        local = self.local(now)
        if local.weekday() not in self.days:
            return False
        clock = local.time()
        return self.opens <= clock and (self.closes is None or clock < self.closes)

    def describe(self) -> str:
        closes = "24:00" if self.closes is None else f"{self.closes:%H:%M}"
        return f"{self.opens:%H:%M}-{closes} ({self.zone.key})"


def _days(spec: str) -> frozenset[int]:
    chosen: set[int] = set()
    for part in filter(None, (p.strip().lower() for p in spec.split(","))):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ServiceHoursError(f"SERVICE_DAYS must name days like mon-fri or sat,sun, not {spec!r}")
        start, end = DAYS.index(first), DAYS.index(last or first)
        span = range(start, end + 1) if start <= end else [*range(start, 7), *range(0, end + 1)]
        chosen.update(span)
    if not chosen:
        raise ServiceHoursError("SERVICE_DAYS names no day")
    return frozenset(chosen)


def may_reach_person(policy: Policy, *, failures: int, requests: int) -> bool:
    """Whether a customer who asks for a person gets one rather than the bot's help first.

    Tiers served by people first always do; the others once the bot has failed them as
    often as their policy allows, or when they insist by asking again.
    """
    return (
        policy.human_first
        or failures >= policy.failures_before_escalation
        or requests >= INSIST_AFTER_REQUESTS
    )


def complaint_goes_to_person(policy: Policy, category: str | None) -> bool:
    """Human-first tiers take every complaint to a person; others only their listed categories."""
    return policy.human_first or (category is not None and category in policy.human_categories)


def complaint_to_person_now(policy: Policy, category: str | None, hours: ServiceHours, now: datetime) -> bool:
    """Whether a complaint goes to a person at once: the policy says so, and agents are at work."""
    return complaint_goes_to_person(policy, category) and hours.is_open(now)


def on_request(policy: Policy, *, failures: int, requests: int) -> str | None:
    """The handoff's reason when a customer asking for a person (for the ``requests``-th time) gets one; else None.

    "requested" when the policy grants it at the first asking, "insisted" when asking again did.
    """
    if not may_reach_person(policy, failures=failures, requests=requests):
        return None
    return "requested" if policy.human_first or failures >= policy.failures_before_escalation else "insisted"


def after_failure(policy: Policy, *, failures: int, requests: int) -> str:
    """What the ``failures``-th turn the bot could not help with leads to.

    A customer who already asked for a person gets one once the bot has failed them as
    often as their policy allows (ESCALATE); others are offered a person then
    (OFFER_PERSON), and a ticket otherwise (OFFER_TICKET).
    """
    if not may_reach_person(policy, failures=failures, requests=0):
        return OFFER_TICKET
    return ESCALATE if requests else OFFER_PERSON
