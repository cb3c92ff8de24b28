"""Service figures per tier and per day, for supervisors: the ``bot report`` command and the console.

A day is a calendar date in the service time zone, because that is the day the
supervisors and the customers lived; times are stored as naive UTC. Rows are
selected by the UTC bounds of the local period and counted here, in Python, so
the same code gives the same figures on SQLite and PostgreSQL.

Today's figures include conversations still going, counted by their outcome so far.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import ConversationOutcome, Handoff, KbAnswer, KbGap, Ticket
from bot.service.outcomes import ABANDONED, ESCALATED, SELF_SERVED, TICKET
from bot.service.wording import normalize_question

__all__ = [
    "CLOSED_TICKET_STATUSES",
    "MAX_PERIOD_DAYS",
    "DayRow",
    "Figures",
    "Report",
    "TierTotal",
    "TopGap",
    "TopQuestion",
    "build_report",
]

CLOSED_TICKET_STATUSES = ("resolved", "closed")
# A year, leap day included: the console draws every day, and 0001 to 9999 would be a page of 750 MB.
MAX_PERIOD_DAYS = 366


@dataclass(frozen=True)
class Figures:
    """What a supervisor reads for one tier and one day, one tier over the period, or everyone.

    ``ticketed`` counts conversations whose outcome was a ticket; ``tickets_opened``
    counts tickets, wherever they came from. Rates, the wait and satisfaction are
    None when there is nothing to measure them on.
    """

    conversations: int = 0
    self_served: int = 0
    ticketed: int = 0
    escalated: int = 0
    abandoned: int = 0
    median_wait_seconds: float | None = None
    ratings: int = 0
    satisfaction: float | None = None
    tickets_opened: int = 0
    tickets_closed: int = 0
    closed_within_sla: int = 0

    @property
    def self_service_rate(self) -> float | None:
        return self.self_served / self.conversations if self.conversations else None

    @property
    def escalation_rate(self) -> float | None:
        return self.escalated / self.conversations if self.conversations else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversations": self.conversations,
            "self_served": self.self_served,
            "ticketed": self.ticketed,
            "escalated": self.escalated,
            "abandoned": self.abandoned,
            "self_service_rate": _round(self.self_service_rate, 3),
            "escalation_rate": _round(self.escalation_rate, 3),
            "median_wait_seconds": _round(self.median_wait_seconds, 1),
            "ratings": self.ratings,
            "satisfaction": _round(self.satisfaction, 3),
            "tickets_opened": self.tickets_opened,
            "tickets_closed": self.tickets_closed,
            "closed_within_sla": self.closed_within_sla,
        }


@dataclass(frozen=True)
class DayRow:
    day: date
    tier: str
    figures: Figures


@dataclass(frozen=True)
class TierTotal:
    tier: str
    figures: Figures


@dataclass(frozen=True)
class TopQuestion:
    """A knowledge-base entry and how often it answered a customer."""

    entry_id: str
    count: int
    example: str


@dataclass(frozen=True)
class TopGap:
    """An unanswered question, as normalised ``text``, with its latest wording as ``example``."""

    text: str
    count: int
    example: str


@dataclass(frozen=True)
class Report:
    """Figures for the local dates ``since`` up to, not including, ``until``."""

    since: date
    until: date
    zone: ZoneInfo
    days: list[DayRow]
    totals: list[TierTotal]
    overall: Figures
    top_questions: list[TopQuestion]
    top_gaps: list[TopGap]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO strings, rates rounded to 3 places."""
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "zone": self.zone.key,
            "days": [{"date": r.day.isoformat(), "tier": r.tier, **r.figures.to_dict()} for r in self.days],
            "totals": [{"tier": t.tier, **t.figures.to_dict()} for t in self.totals],
            "overall": self.overall.to_dict(),
            "top_questions": [
                {"entry_id": q.entry_id, "count": q.count, "example": q.example} for q in self.top_questions
            ],
            "top_gaps": [{"text": g.text, "count": g.count, "example": g.example} for g in self.top_gaps],
        }

    def conversations_per_day(self) -> list[tuple[date, int]]:
        """Conversations of all tiers on each day of the period, days without any included."""
        counts: Counter[date] = Counter()
        for row in self.days:
            counts[row.day] += row.figures.conversations
        days = (self.since + timedelta(days=n) for n in range((self.until - self.since).days))
        return [(day, counts[day]) for day in days]

    def format_text(self) -> str:
        """The report as a terminal shows it: aligned columns, rates as percentages, "-" for missing."""
        last = self.until - timedelta(days=1)
        period = str(self.since) if last == self.since else f"{self.since} to {last}"
        lines = [f"Service report, {period} ({self.zone.key})", "", "By tier"]
        lines += _table(
            ["tier", *_FIGURE_HEADERS],
            [[t.tier, *_figure_cells(t.figures)] for t in self.totals] + [["all", *_figure_cells(self.overall)]],
            left=1,
        )
        lines += ["", "By day"]
        if self.days:
            lines += _table(
                ["date", "tier", *_FIGURE_HEADERS],
                [[str(r.day), r.tier, *_figure_cells(r.figures)] for r in self.days],
                left=2,
            )
        else:
            lines.append("  (no activity)")
        lines += ["", "Top questions"]
        if self.top_questions:
            lines += _table(
                ["entry", "count", "example"],
                [[q.entry_id, str(q.count), q.example] for q in self.top_questions],
                left=1,
                free_last=True,
            )
        else:
            lines.append("  (none)")
        lines += ["", "Top unanswered questions"]
        if self.top_gaps:
            lines += _table(
                ["count", "latest wording"], [[str(g.count), g.example] for g in self.top_gaps], left=0, free_last=True
            )
        else:
            lines.append("  (none)")
        return "\n".join(lines)


def build_report(
    session: Session, *, since: date, until: date, zone: ZoneInfo, tier_order: Sequence[str], top: int = 10
) -> Report:
    """Figures for the local dates [``since``, ``until``) in ``zone``.

    Tiers come in ``tier_order`` (lowest first); a tier found in the data but no
    longer configured comes after them, so no figure is lost. The totals list
    every configured tier, the days only those with something to show. A period
    that is empty, longer than :data:`MAX_PERIOD_DAYS` or beyond the calendar
    raises ValueError.
    """
    if since >= until:
        raise ValueError(f"the period is empty: {since} is not before {until}")
    if (until - since).days > MAX_PERIOD_DAYS:
        raise ValueError(f"the period {since} to {until} is longer than {MAX_PERIOD_DAYS} days")
    try:
        start, end = _utc_midnight(since, zone), _utc_midnight(until, zone)
    except OverflowError:
        raise ValueError(f"the period {since} to {until} is outside the calendar in {zone.key}") from None
    tallies: defaultdict[tuple[date, str], _Tally] = defaultdict(_Tally)

    def tally(at: datetime, tier: str) -> _Tally:
        return tallies[(_local_day(at, zone), tier)]

    outcome = ConversationOutcome
    for started_at, tier, result, rating in session.execute(
        select(outcome.started_at, outcome.tier, outcome.outcome, outcome.rating).where(
            outcome.started_at >= start, outcome.started_at < end
        )
    ):
        row = tally(started_at, tier)
        row.outcomes[result] += 1
        if rating is not None:
            row.ratings.append(rating)

    for created_at, accepted_at, tier in session.execute(
        select(Handoff.created_at, Handoff.accepted_at, Handoff.tier).where(
            Handoff.created_at >= start, Handoff.created_at < end, Handoff.accepted_at.is_not(None)
        )
    ):
        tally(created_at, tier).waits.append((accepted_at - created_at).total_seconds())

    for created_at, tier in session.execute(
        select(Ticket.created_at, Ticket.tier).where(Ticket.created_at >= start, Ticket.created_at < end)
    ):
        tally(created_at, tier).opened += 1

    for resolved_at, sla_due_at, tier in session.execute(
        select(Ticket.resolved_at, Ticket.sla_due_at, Ticket.tier).where(
            Ticket.resolved_at >= start, Ticket.resolved_at < end, Ticket.status.in_(CLOSED_TICKET_STATUSES)
        )
    ):
        row = tally(resolved_at, tier)
        row.closed += 1
        if resolved_at <= sla_due_at:
            row.within_sla += 1

    rank = {tier: n for n, tier in enumerate(tier_order)}

    def tier_key(tier: str) -> tuple[int, str]:
        return (rank.get(tier, len(rank)), tier)

    by_tier: defaultdict[str, _Tally] = defaultdict(_Tally)
    for (_, tier), row in tallies.items():
        by_tier[tier].merge(row)
    overall = _Tally()
    for row in by_tier.values():
        overall.merge(row)

    return Report(
        since=since,
        until=until,
        zone=zone,
        days=[
            DayRow(day=day, tier=tier, figures=tallies[(day, tier)].figures())
            for day, tier in sorted(tallies, key=lambda key: (key[0], tier_key(key[1])))
        ],
        totals=[
            TierTotal(tier=tier, figures=by_tier[tier].figures())
            for tier in sorted({*tier_order, *by_tier}, key=tier_key)
        ],
        overall=overall.figures(),
        top_questions=_top_questions(session, start, end, top),
        top_gaps=_top_gaps(session, start, end, top),
    )


@dataclass
class _Tally:
    outcomes: Counter[str] = field(default_factory=Counter)
    # Raw values rather than running figures: a median or mean over a tier's period needs them all.
    waits: list[float] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)
    opened: int = 0
    closed: int = 0
    within_sla: int = 0

    def merge(self, other: _Tally) -> None:
        self.outcomes.update(other.outcomes)
        self.waits += other.waits
        self.ratings += other.ratings
        self.opened += other.opened
        self.closed += other.closed
        self.within_sla += other.within_sla

    def figures(self) -> Figures:
        return Figures(
            conversations=sum(self.outcomes.values()),
            self_served=self.outcomes[SELF_SERVED],
            ticketed=self.outcomes[TICKET],
            escalated=self.outcomes[ESCALATED],
            abandoned=self.outcomes[ABANDONED],
            median_wait_seconds=statistics.median(self.waits) if self.waits else None,
            ratings=len(self.ratings),
            satisfaction=statistics.fmean(self.ratings) if self.ratings else None,
            tickets_opened=self.opened,
            tickets_closed=self.closed,
            closed_within_sla=self.within_sla,
        )


def _top_questions(session: Session, start: datetime, end: datetime, top: int) -> list[TopQuestion]:
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    # Oldest first, so the example kept is the latest wording.
    for entry_id, question in session.execute(
        select(KbAnswer.entry_id, KbAnswer.question)
        .where(KbAnswer.created_at >= start, KbAnswer.created_at < end)
        .order_by(KbAnswer.created_at, KbAnswer.id)
    ):
        counts[entry_id] += 1
        examples[entry_id] = question
    return [TopQuestion(entry_id=e, count=n, example=examples[e]) for e, n in _most_common(counts, top)]


def _top_gaps(session: Session, start: datetime, end: datetime, top: int) -> list[TopGap]:
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for (question,) in session.execute(
        select(KbGap.question)
        .where(KbGap.created_at >= start, KbGap.created_at < end, KbGap.resolved_entry_id.is_(None))
        .order_by(KbGap.created_at, KbGap.id)
    ):
        text = normalize_question(question)
        counts[text] += 1
        examples[text] = question
    return [TopGap(text=t, count=n, example=examples[t]) for t, n in _most_common(counts, top)]


def _most_common(counts: Counter[str], top: int) -> list[tuple[str, int]]:
    # Ties broken by key, so the same data always gives the same list.
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]


def _utc_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(timezone.utc).replace(tzinfo=None)


def _local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.replace(tzinfo=timezone.utc).astimezone(zone).date()


def _round(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


_FIGURE_HEADERS = [
    "conversations",
    "self-served",
    "escalated",
    "ticket",
    "abandoned",
    "median wait",
    "satisfaction",
    "tickets opened",
    "closed",
    "in SLA",
]


def _figure_cells(figures: Figures) -> list[str]:
    return [
        str(figures.conversations),
        _percent(figures.self_service_rate),
        _percent(figures.escalation_rate),
        str(figures.ticketed),
        str(figures.abandoned),
        _duration(figures.median_wait_seconds),
        "-" if figures.satisfaction is None else f"{figures.satisfaction:.2f} ({figures.ratings})",
        str(figures.tickets_opened),
        str(figures.tickets_closed),
        str(figures.closed_within_sla),
    ]


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def _table(header: list[str], rows: Iterable[list[str]], *, left: int, free_last: bool = False) -> list[str]:
    """Columns padded to their widest cell: the first ``left`` to the left, the rest to the right.

    With ``free_last`` the last column is free text (a customer's question), left as it is.
    """
    table = [header, *rows]
    padded = len(header) - 1 if free_last else len(header)
    widths = [max(len(row[i]) for row in table) for i in range(padded)]
    lines = []
    for row in table:
        cells = [cell.ljust(w) if i < left else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))]
        lines.append("  " + "  ".join(cells + row[padded:]).rstrip())
    return lines
