"""Customer tiers: RFM figures from orders, the tier they reach, and each tier's policy.

Everything about tiers comes from ``tiers.yml``; no tier is named in code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "RFM",
    "Gap",
    "Policy",
    "Rules",
    "Tier",
    "TierConfig",
    "TierConfigError",
    "load_tiers",
]

MODES = ("bot_first", "human_first")


class TierConfigError(Exception):
    """tiers.yml is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class RFM:
    """Recency (days since the last counted order), frequency and monetary value in the window."""

    recency_days: int | None
    frequency: int
    monetary: Decimal


@dataclass(frozen=True)
class Rules:
    min_orders: int = 0
    min_spend: Decimal = Decimal(0)
    max_recency_days: int | None = None

    def met_by(self, rfm: RFM) -> bool:
        return not self.gap(rfm)

    def gap(self, rfm: RFM) -> Gap:
        orders = max(0, self.min_orders - rfm.frequency)
        spend = max(Decimal(0), self.min_spend - rfm.monetary)
        stale = self.max_recency_days is not None and (
            rfm.recency_days is None or rfm.recency_days > self.max_recency_days
        )
        # A recent order is one more order: the customer is told how many to place, not when.
        if stale:
            orders = max(orders, 1)
        return Gap(orders=orders, spend=spend)


@dataclass(frozen=True)
class Gap:
    """What a customer lacks to reach a tier: more orders, more spend, or both."""

    orders: int
    spend: Decimal

    def __bool__(self) -> bool:
        return self.orders > 0 or self.spend > 0


@dataclass(frozen=True)
class Policy:
    mode: str
    failures_before_escalation: int
    queue_priority: int
    ticket_sla_hours: int
    human_categories: tuple[str, ...]
    benefits: dict[str, tuple[str, ...]]
    late_delivery_coupons: tuple[tuple[int, int], ...] = ()

    def late_delivery_coupon(self, days_late: int) -> int:
        """The coupon a delivery this many days late earns: the largest step reached, or 0."""
        return max((amount for days, amount in self.late_delivery_coupons if days_late >= days), default=0)

    @property
    def human_first(self) -> bool:
        return self.mode == "human_first"

    def as_slot(self) -> dict[str, Any]:
        """The policy as the plain dict the dialogue keeps in a slot."""
        return {
            "mode": self.mode,
            "failures_before_escalation": self.failures_before_escalation,
            "queue_priority": self.queue_priority,
            "ticket_sla_hours": self.ticket_sla_hours,
            "human_categories": list(self.human_categories),
        }


@dataclass(frozen=True)
class Tier:
    id: str
    rank: int
    label: dict[str, str]
    rules: Rules
    policy: Policy

    def label_in(self, language: str) -> str:
        return self.label.get(language) or next(iter(self.label.values()))

    def benefits_in(self, language: str) -> tuple[str, ...]:
        benefits = self.policy.benefits
        return benefits.get(language) or next(iter(benefits.values()), ())


@dataclass(frozen=True)
class TierConfig:
    tiers: tuple[Tier, ...]
    window_days: int
    counted_statuses: frozenset[str]
    guest_id: str
    currency: dict[str, str]

    @property
    def guest(self) -> Tier:
        return next(t for t in self.tiers if t.id == self.guest_id)

    def get(self, tier_id: str | None) -> Tier | None:
        return next((t for t in self.tiers if t.id == tier_id), None)

    def next_above(self, tier: Tier) -> Tier | None:
        above = [t for t in self.tiers if t.rank > tier.rank and t.id != self.guest_id]
        return above[0] if above else None

    def rfm(self, orders: Iterable[tuple[date, Decimal, str]], today: date) -> RFM:
        """RFM over ``(placed_at, amount, status)`` rows, counting the window before ``today``."""
        start = today - timedelta(days=self.window_days)
        counted = [
            (placed, amount)
            for placed, amount, status in orders
            if status in self.counted_statuses and start < placed <= today
        ]
        last = max((placed for placed, _ in counted), default=None)
        return RFM(
            recency_days=(today - last).days if last else None,
            frequency=len(counted),
            monetary=sum((amount for _, amount in counted), Decimal(0)),
        )

    def tier_for(self, rfm: RFM) -> Tier:
        """The highest tier an identified customer with these figures reaches."""
        reached = [t for t in self.tiers if t.id != self.guest_id and t.rules.met_by(rfm)]
        return reached[-1]

    def move(self, old: str | None, new: Tier) -> int:
        """+1 if ``new`` is above the stored tier ``old``, -1 if below, 0 otherwise."""
        before = self.get(old)
        if before is None:
            return 0
        return (new.rank > before.rank) - (new.rank < before.rank)


def load_tiers(path: Path) -> TierConfig:
    """Read and check ``tiers.yml``."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise TierConfigError(f"{path}: {error}") from None
    try:
        return _parse(raw)
    except (KeyError, TypeError, ValueError, InvalidOperation) as error:
        raise TierConfigError(f"{path}: {_describe(error)}") from None


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing key {error}"
    return str(error)


def _parse(raw: dict[str, Any]) -> TierConfig:
    if not isinstance(raw, dict) or not raw.get("tiers"):
        raise ValueError("needs a non-empty 'tiers' list")
    tiers = tuple(_tier(rank, item) for rank, item in enumerate(raw["tiers"]))
    ids = [t.id for t in tiers]
    if len(set(ids)) != len(ids):
        raise ValueError(f"tier ids repeat: {ids}")
    guest_id = raw["guest_tier"]
    if guest_id not in ids:
        raise ValueError(f"guest_tier {guest_id!r} is not one of the tiers {ids}")
    identified = [t for t in tiers if t.id != guest_id]
    if not identified or identified[0].rules != Rules():
        raise ValueError("the lowest tier above the guest tier must have no rules, so every customer has a tier")
    return TierConfig(
        tiers=tiers,
        window_days=int(raw["window_days"]),
        counted_statuses=frozenset(raw["counted_statuses"]),
        guest_id=guest_id,
        currency=dict(raw.get("currency") or {}),
    )


def _tier(rank: int, item: dict[str, Any]) -> Tier:
    tier_id = str(item["id"])
    rules = item.get("rules") or {}
    unknown = set(rules) - {"min_orders", "min_spend", "max_recency_days"}
    if unknown:
        raise ValueError(f"tier {tier_id!r}: unknown rules {sorted(unknown)}")
    policy = item["policy"]
    if policy["mode"] not in MODES:
        raise ValueError(f"tier {tier_id!r}: mode must be one of {MODES}, not {policy['mode']!r}")
    numbers = {key: int(policy[key]) for key in ("failures_before_escalation", "queue_priority", "ticket_sla_hours")}
    coupons = tuple(
        sorted((int(days), int(amount)) for days, amount in (policy.get("late_delivery_coupons") or {}).items())
    )
    if any(value < 0 for value in numbers.values()):
        raise ValueError(f"tier {tier_id!r}: policy numbers must not be negative")
    recency = rules.get("max_recency_days")
    return Tier(
        id=tier_id,
        rank=rank,
        label={str(k): str(v) for k, v in item["label"].items()},
        rules=Rules(
            min_orders=int(rules.get("min_orders", 0)),
            min_spend=Decimal(str(rules.get("min_spend", 0))),
            max_recency_days=None if recency is None else int(recency),
        ),
        policy=Policy(
            mode=policy["mode"],
            human_categories=tuple(policy.get("human_categories") or ()),
            benefits={k: tuple(v) for k, v in (policy.get("benefits") or {}).items()},
            late_delivery_coupons=coupons,
            **numbers,
        ),
    )
