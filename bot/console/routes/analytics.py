"""Analytics for supervisors: a period's figures per tier and per day, with charts."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse

from bot.console.charts import OUTCOME_COLOURS, column_chart, stacked_bars
from bot.console.deps import SessionDep, SettingsDep, Supervisor, TiersDep
from bot.console.i18n import language_of
from bot.console.render import render, tier_label
from bot.service.analytics import build_report

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _date(raw: str, default: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"not a date: {raw!r}") from None


@router.get("/analytics")
def analytics_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    tiers: TiersDep,
    agent: Supervisor,
    since: str = "",
    until: str = "",
) -> HTMLResponse:
    zone = settings.hours.zone
    today = datetime.now(zone).date()
    start, last = _date(since, today - timedelta(days=6)), _date(until, today)
    if start > last:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the start must not be after the end")
    # The report runs to the day after the last one, and the calendar has none after its last.
    if last == date.max:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"the end must be before {date.max}")
    try:
        report = build_report(
            session, since=start, until=last + timedelta(days=1), zone=zone, tier_order=[t.id for t in tiers.tiers]
        )
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    lang = language_of(request)
    by_tier = [
        (tier_label(request, total.tier, lang), {key: getattr(total.figures, key) for key in OUTCOME_COLOURS})
        for total in report.totals
        if total.figures.conversations
    ]
    per_day = [(f"{day:%m-%d}", count) for day, count in report.conversations_per_day()]
    return render(
        request,
        "analytics.html",
        agent,
        report=report,
        since=start,
        until=last,
        tier_chart=stacked_bars(by_tier, OUTCOME_COLOURS),
        day_chart=column_chart(per_day),
        colours=OUTCOME_COLOURS,
    )
