from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.service.tiers import RFM, TierConfigError, load_tiers

TODAY = date(2026, 6, 30)


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def rfm(recency, frequency, monetary) -> RFM:
    return RFM(recency_days=recency, frequency=frequency, monetary=Decimal(monetary))


def test_rfm_counts_only_paid_orders_within_the_window(tiers):
    orders = [
        (days_ago(10), Decimal("100.00"), "delivered"),
        (days_ago(40), Decimal("250.50"), "shipped"),
        (days_ago(5), Decimal("999.00"), "cancelled"),
        (days_ago(20), Decimal("500.00"), "refunded"),
        (days_ago(400), Decimal("8000.00"), "delivered"),
        (TODAY + timedelta(days=1), Decimal("1.00"), "paid"),
    ]
    assert tiers.rfm(orders, TODAY) == rfm(10, 2, "350.50")


def test_no_orders_means_no_recency(tiers):
    assert tiers.rfm([], TODAY) == rfm(None, 0, 0)


@pytest.mark.parametrize(
    ("figures", "tier"),
    [
        (rfm(None, 0, 0), "normal"),
        (rfm(10, 2, 500), "bronze"),
        (rfm(10, 2, 499.99), "normal"),
        (rfm(200, 2, 500), "normal"),
        (rfm(30, 4, 2000), "silver"),
        (rfm(30, 8, 8000), "gold"),
        (rfm(91, 8, 8000), "silver"),
        (rfm(10, 15, 30000), "vip"),
        (rfm(10, 14, 99999), "gold"),
    ],
)
def test_the_highest_tier_whose_every_rule_holds(tiers, figures, tier):
    assert tiers.tier_for(figures).id == tier


def test_guests_are_never_assigned_to_identified_customers(tiers):
    assert tiers.tier_for(rfm(None, 0, 0)).id != tiers.guest_id


def test_the_gap_to_the_next_tier_in_orders_and_money(tiers):
    silver = tiers.get("silver")
    gap = silver.rules.gap(rfm(10, 3, 1500))
    assert (gap.orders, gap.spend) == (1, Decimal(500))
    assert not silver.rules.gap(rfm(10, 4, 2000))


def test_a_lapsed_customer_needs_one_recent_order(tiers):
    gap = tiers.get("gold").rules.gap(rfm(120, 10, 9000))
    assert (gap.orders, gap.spend) == (1, 0)


def test_policies_come_from_the_file(tiers):
    vip, normal = tiers.get("vip"), tiers.get("normal")
    assert vip.policy.human_first and not normal.policy.human_first
    assert vip.policy.queue_priority > normal.policy.queue_priority
    assert vip.policy.ticket_sla_hours < normal.policy.ticket_sla_hours
    assert "late_delivery" in vip.policy.human_categories
    assert normal.policy.as_slot()["mode"] == "bot_first"
    assert tiers.next_above(vip) is None
    assert tiers.next_above(normal).id == "bronze"


def test_tiers_are_whatever_the_file_names(tmp_path: Path):
    path = tmp_path / "tiers.yml"
    path.write_text(
        """
window_days: 90
counted_statuses: [done]
guest_tier: visitor
tiers:
  - {id: visitor, label: {en: Visitor}, policy: &p {mode: bot_first, failures_before_escalation: 1, queue_priority: 0, ticket_sla_hours: 24}}
  - {id: regular, label: {en: Regular}, policy: *p}
  - {id: star, label: {en: Star}, rules: {min_orders: 1}, policy: {<<: *p, mode: human_first}}
""",
        encoding="utf-8",
    )
    custom = load_tiers(path)
    assert custom.guest.id == "visitor"
    assert custom.tier_for(rfm(1, 1, 10)).id == "star"
    assert custom.tier_for(rfm(1, 0, 0)).id == "regular"
    assert custom.rfm([(date(2026, 6, 1), Decimal(5), "delivered")], TODAY).frequency == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tiers: [", "tiers.yml"),
        ("window_days: 1", "needs a non-empty 'tiers' list"),
        (
            "window_days: 1\ncounted_statuses: []\nguest_tier: nobody\n"
            "tiers: [{id: a, label: {en: A}, policy: {mode: bot_first, failures_before_escalation: 1, queue_priority: 0, ticket_sla_hours: 1}}]",
            "guest_tier 'nobody'",
        ),
        (
            "window_days: 1\ncounted_statuses: []\nguest_tier: a\n"
            "tiers: [{id: a, label: {en: A}, policy: {mode: robot, failures_before_escalation: 1, queue_priority: 0, ticket_sla_hours: 1}}]",
            "mode must be one of",
        ),
        (
            "window_days: 1\ncounted_statuses: []\nguest_tier: a\n"
            "tiers: [{id: a, label: {en: A}, policy: {mode: bot_first, failures_before_escalation: 1, queue_priority: 0, ticket_sla_hours: 1}},"
            " {id: b, label: {en: B}, rules: {min_orders: 1}, policy: {mode: bot_first, failures_before_escalation: 1, queue_priority: 0, ticket_sla_hours: 1}}]",
            "must have no rules",
        ),
    ],
)
def test_a_broken_tiers_file_is_refused_with_its_name(tmp_path: Path, text, message):
    path = tmp_path / "tiers.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TierConfigError, match=message) as error:
        load_tiers(path)
    assert str(path) in str(error.value)
