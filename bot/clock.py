"""The time as the database stores it: UTC, without a time zone attached."""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["utcnow"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
