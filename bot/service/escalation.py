"""When a customer reaches a person: the one place the tier policy and the agents' hours decide it."""

from __future__ import annotations

from datetime import datetime

from bot.hours import ServiceHours
from bot.service.tiers import Policy

__all__ = [
    "ESCALATE",
    "OFFER_PERSON",
    "OFFER_TICKET",
    "after_failure",
    "complaint_goes_to_person",
    "complaint_to_person_now",
    "may_reach_person",
    "on_request",
]

# Asking for a person this many times in one conversation is insisting.
INSIST_AFTER_REQUESTS = 2
# What a turn the bot could not help with leads to.
ESCALATE, OFFER_PERSON, OFFER_TICKET = "escalate", "offer_person", "offer_ticket"


def may_reach_person(policy: Policy, *, failures: int, requests: int) -> bool:
    """Whether a customer who asks for a person gets one rather than the bot's help first.

    Tiers served by people first always do; the others once the bot has failed them as
    often as their policy allows, or when they insist by asking again.
    """
    return policy.human_first or failures >= policy.failures_before_escalation or requests >= INSIST_AFTER_REQUESTS


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
