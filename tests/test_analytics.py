"""The figures a supervisor reads: per tier and per local day, over a period."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.db.models import ConversationOutcome, Handoff, KbAnswer, KbGap, Ticket
from bot.db.session import sessions_for
from bot.service.analytics import build_report
from bot.service.wording import normalize_question
from bot.settings import ROOT
from tests.factories import add_customer, console_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
SINCE, UNTIL = date(2026, 3, 1), date(2026, 3, 3)
# Local 2026-03-01 10:00; local midnight is 16:00 UTC the day before.
T0 = datetime(2026, 3, 1, 2, 0)


def conversation(session, sender, tier, outcome, started_at, rating=None, customer_id=None):
    session.add(
        ConversationOutcome(
            sender_id=sender,
            channel="rest",
            customer_id=customer_id,
            tier=tier,
            outcome=outcome,
            started_at=started_at,
            ended_at=started_at + timedelta(minutes=5),
            rating=rating,
        )
    )


def handoff(session, tier, created_at, wait_seconds=None):
    accepted = None if wait_seconds is None else created_at + timedelta(seconds=wait_seconds)
    session.add(
        Handoff(
            sender_id=f"h{created_at:%d%H%M}",
            channel="rest",
            tier=tier,
            priority=0,
            reason="requested",
            status="waiting" if accepted is None else "active",
            created_at=created_at,
            accepted_at=accepted,
        )
    )


def ticket(session, number, tier, created_at, *, sla_hours=72, status="open", resolved_at=None):
    session.add(
        Ticket(
            number=number,
            sender_id=number,
            channel="rest",
            tier=tier,
            category="late_delivery",
            description="late",
            priority=0,
            status=status,
            created_at=created_at,
            sla_due_at=created_at + timedelta(hours=sla_hours),
            resolved_at=resolved_at,
        )
    )


def answered(session, entry_id, question, at):
    session.add(
        KbAnswer(entry_id=entry_id, sender_id="s", tier="normal", language="en", question=question, created_at=at)
    )


def gap(session, question, at, resolved_entry_id=None):
    session.add(
        KbGap(
            sender_id="s",
            tier="normal",
            language="en",
            question=question,
            created_at=at,
            resolved_entry_id=resolved_entry_id,
        )
    )


def seed(session):
    """Two local days of activity, with rows just outside the period on both sides."""
    add_customer(session, "V1", name="Victoria", tier="vip")
    conversation(session, "n1", "normal", "self_served", T0, rating=5)
    conversation(session, "n2", "normal", "self_served", T0 + timedelta(hours=1))
    conversation(session, "n3", "normal", "escalated", T0 + timedelta(hours=2), rating=2)
    conversation(session, "n4", "normal", "abandoned", T0 + timedelta(hours=3))
    # 16:30 UTC on the 1st is 00:30 on the 2nd in Shanghai.
    conversation(session, "n5", "normal", "ticket", datetime(2026, 3, 1, 16, 30))
    conversation(session, "v1", "vip", "escalated", T0 + timedelta(hours=4), rating=4, customer_id="V1")
    conversation(session, "early", "normal", "self_served", datetime(2026, 2, 28, 15, 59))  # local Feb 28 23:59
    conversation(session, "late", "normal", "self_served", datetime(2026, 3, 2, 16, 0))  # local Mar 3 00:00

    handoff(session, "normal", T0 + timedelta(hours=2), wait_seconds=300)
    handoff(session, "vip", T0 + timedelta(hours=4), wait_seconds=30)
    handoff(session, "vip", T0 + timedelta(hours=5), wait_seconds=90)
    handoff(session, "vip", T0 + timedelta(hours=6), wait_seconds=120)
    handoff(session, "vip", T0 + timedelta(hours=7))  # never accepted: no wait to measure

    ticket(
        session,
        "T-N1",
        "normal",
        datetime(2026, 3, 1, 16, 30),
        status="resolved",
        resolved_at=datetime(2026, 3, 2, 3, 0),
    )
    ticket(session, "T-G1", "gold", datetime(2026, 2, 20), sla_hours=24, status="closed", resolved_at=T0)
    # Resolved once, then reopened: not closed.
    ticket(session, "T-G2", "gold", datetime(2026, 2, 25), status="in_progress", resolved_at=T0)

    for n in range(3):
        answered(session, "returns", f"how do I return it {n}", T0 + timedelta(minutes=n))
        answered(session, "hours", f"when are you open {n}", T0 + timedelta(minutes=n))
    answered(session, "shipping", "how long is shipping", T0)
    answered(session, "shipping", "outside the period", datetime(2026, 3, 5))

    gap(session, "Can I pay with crypto?", T0)
    gap(session, "can i  pay with crypto？", T0 + timedelta(hours=1))
    gap(session, "CAN I PAY WITH CRYPTO", T0 + timedelta(hours=2))
    gap(session, "can i pay with crypto", T0 + timedelta(hours=3), resolved_entry_id="payment-methods")
    gap(session, "Gift wrap?", T0)
    gap(session, "gift wrap", datetime(2026, 2, 1))
    session.flush()


@pytest.fixture
def report(session, tiers):
    seed(session)
    return build_report(session, since=SINCE, until=UNTIL, zone=SHANGHAI, tier_order=[t.id for t in tiers.tiers], top=2)


def test_days_follow_the_service_time_zone_and_the_tier_order(report):
    assert [(r.day.isoformat(), r.tier) for r in report.days] == [
        ("2026-03-01", "normal"),
        ("2026-03-01", "gold"),
        ("2026-03-01", "vip"),
        ("2026-03-02", "normal"),
    ]
    first, second = report.days[0].figures, report.days[3].figures
    assert (first.conversations, first.self_service_rate, first.escalation_rate) == (4, 0.5, 0.25)
    assert (first.abandoned, first.satisfaction, first.ratings) == (1, 3.5, 2)
    assert (second.conversations, second.ticketed, second.self_service_rate) == (1, 1, 0.0)


def test_median_wait_counts_only_accepted_handoffs(report):
    vip = next(r for r in report.days if r.tier == "vip").figures
    assert vip.median_wait_seconds == 90
    assert report.overall.median_wait_seconds == 105  # 30, 90, 120 and 300


def test_tickets_closed_on_the_day_they_were_resolved_and_against_their_sla(report):
    gold = next(r for r in report.days if r.tier == "gold").figures
    assert (gold.tickets_opened, gold.tickets_closed, gold.closed_within_sla) == (0, 1, 0)
    normal = report.days[3].figures
    assert (normal.tickets_opened, normal.tickets_closed, normal.closed_within_sla) == (1, 1, 1)


def test_totals_list_every_configured_tier_and_the_overall_row(report, tiers):
    assert [t.tier for t in report.totals] == [t.id for t in tiers.tiers]
    totals = {t.tier: t.figures for t in report.totals}
    assert totals["guest"].conversations == 0 and totals["guest"].self_service_rate is None
    normal = totals["normal"]
    assert (normal.conversations, normal.self_service_rate, normal.escalation_rate) == (5, 0.4, 0.2)
    assert normal.median_wait_seconds == 300
    overall = report.overall
    assert (overall.conversations, overall.self_served, overall.escalated, overall.ticketed) == (6, 2, 2, 1)
    assert overall.ratings == 3 and overall.satisfaction == pytest.approx(11 / 3)
    assert (overall.tickets_opened, overall.tickets_closed, overall.closed_within_sla) == (1, 2, 1)


def test_top_questions_and_gaps_over_the_period(report):
    assert [(q.entry_id, q.count, q.example) for q in report.top_questions] == [
        ("hours", 3, "when are you open 2"),
        ("returns", 3, "how do I return it 2"),
    ]
    assert [(g.text, g.count, g.example) for g in report.top_gaps] == [
        ("can i pay with crypto", 3, "CAN I PAY WITH CRYPTO"),
        ("gift wrap", 1, "Gift wrap?"),
    ]


def test_a_tier_no_longer_configured_is_kept_after_the_others(session, tiers):
    conversation(session, "p1", "platinum", "self_served", T0)
    conversation(session, "n1", "normal", "self_served", T0)
    report = build_report(session, since=SINCE, until=UNTIL, zone=SHANGHAI, tier_order=[t.id for t in tiers.tiers])
    assert [t.tier for t in report.totals][-2:] == ["vip", "platinum"]
    assert report.overall.conversations == 2


def test_an_empty_period_is_refused(session):
    with pytest.raises(ValueError, match="is not before"):
        build_report(session, since=UNTIL, until=SINCE, zone=SHANGHAI, tier_order=[])


def test_a_period_is_at_most_366_days(session):
    build_report(session, since=SINCE, until=SINCE + timedelta(days=366), zone=SHANGHAI, tier_order=[])
    with pytest.raises(ValueError, match="longer than 366 days"):
        build_report(session, since=SINCE, until=SINCE + timedelta(days=367), zone=SHANGHAI, tier_order=[])


def test_a_period_outside_the_calendar_is_refused(session):
    # Midnight of 0001-01-01 in Shanghai is still year 0 in UTC.
    with pytest.raises(ValueError, match="outside"):
        build_report(session, since=date(1, 1, 1), until=date(1, 1, 2), zone=SHANGHAI, tier_order=[])


def test_questions_are_grouped_by_their_normalised_text():
    assert normalize_question("  Where is   my ORDER ?? ") == "where is my order"
    assert normalize_question("我的订单在哪里？") == "我的订单在哪里"
    assert normalize_question("Really!！。.") == "really"
    assert normalize_question("ＣＡＮ I pay, by card?") == "can i pay by card"


def test_the_report_and_the_console_count_gaps_under_one_key(session):
    from bot.db.models import KbGap
    from bot.service.gaps import group_gaps

    for question in ("Can I pay, by card?", "can i pay by card", "ＣＡＮ I PAY BY CARD！"):
        session.add(KbGap(sender_id="s", question=question, language="en", tier="normal", created_at=T0))
    session.flush()
    report = build_report(session, since=SINCE, until=UNTIL, zone=SHANGHAI, tier_order=[])
    [gap] = report.top_gaps
    [group] = group_gaps(session, background=())
    assert gap.count == group.count == 3


def test_json_and_text_forms(report):
    data = report.to_dict()
    assert (data["since"], data["until"], data["zone"]) == ("2026-03-01", "2026-03-03", "Asia/Shanghai")
    assert data["overall"]["self_service_rate"] == 0.333 and data["overall"]["satisfaction"] == 3.667
    assert data["days"][0] == {"date": "2026-03-01", "tier": "normal", **report.days[0].figures.to_dict()}
    json.dumps(data)

    text = report.format_text()
    assert text.startswith("Service report, 2026-03-01 to 2026-03-02 (Asia/Shanghai)")
    lines = text.splitlines()
    normal = next(line for line in lines if line.split()[:1] == ["normal"])
    assert "40.0%" in normal and "20.0%" in normal and "5m 00s" in normal and "3.50 (2)" in normal
    guest = next(line for line in lines if line.split()[:1] == ["guest"])
    assert guest.split()[1:4] == ["0", "-", "-"]
    overall = next(line for line in lines if line.split()[:1] == ["all"])
    assert "1m 45s" in overall and "33.3%" in overall
    # One width per column: every row of the tier table ends at the same place.
    table = lines[lines.index("By tier") + 1 : lines.index("By day") - 1]
    assert len({len(line) for line in table}) == 1
    assert "CAN I PAY WITH CRYPTO" in text


@pytest.fixture
def env(tmp_path: Path, db_url: str) -> dict[str, str]:
    # No secrets: a report needs none.
    return {"DATABASE_URL": db_url, "SERVICE_TIMEZONE": "Asia/Shanghai", "PATH": "/usr/bin:/bin"}


def bot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_bot_report_prints_json(env, db_url):
    with sessions_for(db_url).begin() as session:
        seed(session)
    result = bot(env, "report", "--since", "2026-03-01", "--until", "2026-03-03", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["overall"]["conversations"] == 6 and data["overall"]["median_wait_seconds"] == 105
    assert [t["tier"] for t in data["totals"]] == ["guest", "normal", "bronze", "silver", "gold", "vip"]
    assert data["top_gaps"][0]["example"] == "CAN I PAY WITH CRYPTO"

    before = datetime.now(SHANGHAI).date()
    since = before - timedelta(days=30)
    text = bot(env, "report", "--since", str(since))
    assert text.returncode == 0, text.stderr
    assert any(f"{since} to {day}" in text.stdout for day in (before, datetime.now(SHANGHAI).date()))


def test_bot_report_refuses_a_bad_date_or_an_empty_period(env):
    bad = bot(env, "report", "--since", "2026-13-01")
    assert bad.returncode == 1
    assert "--since must be a date like 2024-03-01, not '2026-13-01'" in bad.stderr
    empty = bot(env, "report", "--since", "2026-03-02", "--until", "2026-03-02")
    assert empty.returncode == 1 and "--since 2026-03-02 must be before --until 2026-03-02" in empty.stderr


@pytest.mark.parametrize(
    ("since", "until", "problem"),
    [("0001-01-01", "9999-12-31", "longer than 366 days"), ("0001-01-01", "0001-01-02", "outside")],
)
def test_bot_report_refuses_a_period_it_cannot_cover(env, since, until, problem):
    result = bot(env, "report", "--since", since, "--until", until)
    assert result.returncode == 1 and problem in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def console(db_url):
    from fastapi.testclient import TestClient

    from bot.console.app import create_app
    from bot.service.agents import add_agent
    from tests.test_console_auth import sign_in

    with sessions_for(db_url).begin() as session:
        add_agent(session, username="sam", display_name="Sam", role="supervisor", password="sam-password")
    settings = console_settings(db_url)
    with TestClient(create_app(settings)) as client:
        sign_in(client, "sam", "sam-password")
        yield client


@pytest.mark.parametrize(
    ("since", "until", "problem"),
    [
        ("0001-01-01", "9999-12-30", "longer than 366 days"),
        ("2026-01-01", "2027-01-02", "longer than 366 days"),
        ("0001-01-01", "0001-01-02", "outside"),
        ("9999-12-30", "9999-12-31", "the end must be before 9999-12-31"),
        ("2026-03-02", "2026-03-01", "the start must not be after the end"),
        ("2026-03-01", "abc", "not a date: 'abc'"),
    ],
)
def test_the_analytics_page_refuses_a_period_it_cannot_show(console, since, until, problem):
    response = console.get("/analytics", params={"since": since, "until": until})
    assert response.status_code == 422 and problem in response.json()["detail"]


def test_the_analytics_page_shows_a_year(console):
    assert console.get("/analytics", params={"since": "2026-01-01", "until": "2027-01-01"}).status_code == 200
