"""When agents work: a daily window on some weekdays, in one time zone (SERVICE_HOURS,
SERVICE_DAYS, SERVICE_TIMEZONE). Standard library only: settings parse it, and the
service decides with it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DAYS", "ServiceHours", "ServiceHoursError"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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
