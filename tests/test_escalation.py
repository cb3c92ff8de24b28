from datetime import datetime, timezone

import pytest

from bot.hours import ServiceHours, ServiceHoursError
from bot.service.escalation import (
    ESCALATE,
    OFFER_PERSON,
    OFFER_TICKET,
    after_failure,
    complaint_goes_to_person,
    complaint_to_person_now,
    may_reach_person,
    on_request,
)
from bot.settings import ConfigError, load_settings

SHANGHAI_NINE_TO_NINE = ServiceHours.parse("09:00-21:00", "mon-fri", "Asia/Shanghai")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (utc(2026, 11, 23, 1, 0), True),  # Monday 09:00 in Shanghai
        (utc(2026, 11, 23, 0, 59), False),  # Monday 08:59
        (utc(2026, 11, 23, 12, 59), True),  # Monday 20:59
        (utc(2026, 11, 23, 13, 0), False),  # Monday 21:00
        (utc(2026, 11, 28, 3, 0), False),  # Saturday 11:00
        (datetime(2026, 11, 24, 2, 0), True),  # naive times are UTC
    ],
)
def test_service_hours_are_read_in_their_own_time_zone(moment, open_):
    assert SHANGHAI_NINE_TO_NINE.is_open(moment) is open_


def test_all_day_every_day_is_always_open():
    hours = ServiceHours.parse("00:00-24:00", "mon-sun", "UTC")
    assert all(hours.is_open(utc(2026, 11, d, h, 30)) for d in range(23, 30) for h in range(24))


def test_days_can_wrap_around_the_week():
    hours = ServiceHours.parse("10:00-16:00", "fri-mon", "UTC")
    assert hours.days == {4, 5, 6, 0}


@pytest.mark.parametrize(
    ("hours", "days", "zone"),
    [
        ("9-21", "mon-sun", "UTC"),
        ("21:00-09:00", "mon-sun", "UTC"),
        ("09:00-25:00", "mon-sun", "UTC"),
        ("09:00-21:00", "monday", "UTC"),
        ("09:00-21:00", "", "UTC"),
        ("09:00-21:00", "mon-sun", "Mars/Olympus"),
    ],
)
def test_malformed_service_hours_are_refused(hours, days, zone):
    with pytest.raises(ServiceHoursError):
        ServiceHours.parse(hours, days, zone)


def test_malformed_service_hours_stop_the_settings_with_the_variable_named():
    with pytest.raises(ConfigError, match="SERVICE_TIMEZONE"):
        load_settings({"BOT_DEMO": "1", "SERVICE_TIMEZONE": "Nowhere/Special"})


def test_human_first_tiers_reach_a_person_at_once(tiers):
    assert may_reach_person(tiers.get("gold").policy, failures=0, requests=1)


def test_bot_first_tiers_reach_a_person_after_their_failures_or_by_insisting(tiers):
    normal = tiers.get("normal").policy
    assert normal.failures_before_escalation == 3
    assert not may_reach_person(normal, failures=2, requests=1)
    assert may_reach_person(normal, failures=3, requests=1)
    assert may_reach_person(normal, failures=0, requests=2)


def test_complaint_categories_go_to_a_person_as_each_policy_lists(tiers):
    assert not complaint_goes_to_person(tiers.get("normal").policy, "service_attitude")
    assert complaint_goes_to_person(tiers.get("silver").policy, "service_attitude")
    assert not complaint_goes_to_person(tiers.get("silver").policy, "late_delivery")
    assert complaint_goes_to_person(tiers.get("vip").policy, None)


def test_asking_for_a_person_is_granted_as_the_policy_says_and_named_for_why(tiers):
    assert on_request(tiers.get("gold").policy, failures=0, requests=1) == "requested"
    normal = tiers.get("normal").policy
    assert on_request(normal, failures=0, requests=1) is None
    assert on_request(normal, failures=0, requests=2) == "insisted"
    assert on_request(normal, failures=3, requests=1) == "requested"


def test_a_failed_turn_leads_to_a_ticket_then_a_person_offered_or_given(tiers):
    normal = tiers.get("normal").policy
    assert after_failure(normal, failures=1, requests=0) == OFFER_TICKET
    assert after_failure(normal, failures=3, requests=0) == OFFER_PERSON
    assert after_failure(normal, failures=3, requests=1) == ESCALATE


def test_a_complaint_reaches_a_person_at_once_only_while_agents_work(tiers):
    hours = ServiceHours.parse("09:00-21:00", "mon-sun", "Asia/Shanghai")
    silver = tiers.get("silver").policy
    at_work, at_night = datetime(2026, 11, 23, 4, 0), datetime(2026, 11, 23, 16, 0)  # 12:00 and 00:00 in Shanghai
    assert complaint_to_person_now(silver, "service_attitude", hours, at_work)
    assert not complaint_to_person_now(silver, "service_attitude", hours, at_night)
    assert not complaint_to_person_now(silver, "late_delivery", hours, at_work)
