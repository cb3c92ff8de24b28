from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db.models import HandoffMessage
from bot.service.agents import (
    AgentError,
    add_agent,
    agent_for_token,
    issue_token,
    verify_password,
)
from bot.service.handoffs import (
    HandoffConflict,
    accept,
    add_customer_message,
    close,
    expire_overdue,
    notice_for,
    pending_deliveries,
    post_agent_message,
    queue,
    queue_position,
    relay_customer_message,
)
from bot.service.outcomes import record_outcome, record_rating
from tests.factories import add_handoff

T0 = datetime(2026, 11, 23, 8, 0)


def queued(session, tiers, sender, tier, minutes):
    return add_handoff(session, tiers, sender=sender, tier=tier, now=T0 + timedelta(minutes=minutes))


@pytest.fixture
def anna(session):
    agent, _ = add_agent(session, username="anna", display_name="Anna", role="agent", password="long-enough")
    return agent


def test_the_queue_is_ordered_by_tier_priority_then_waiting_time(session, tiers):
    normal_early = queued(session, tiers, "a", "normal", 0)
    vip_late = queued(session, tiers, "b", "vip", 5)
    gold = queued(session, tiers, "c", "gold", 3)
    normal_late = queued(session, tiers, "d", "normal", 4)
    assert [h.sender_id for h in queue(session)] == ["b", "c", "a", "d"]
    assert [queue_position(session, h) for h in (vip_late, gold, normal_early, normal_late)] == [1, 2, 3, 4]


def test_a_conversation_already_queued_keeps_its_place(session, tiers):
    first = queued(session, tiers, "a", "normal", 0)
    assert queued(session, tiers, "a", "normal", 9).id == first.id


def test_only_the_accepting_agent_replies_and_replies_wait_for_delivery(session, tiers, anna):
    ben, _ = add_agent(session, username="ben", display_name="Ben", role="agent", password="long-enough")
    handoff = queued(session, tiers, "a", "gold", 0)
    with pytest.raises(HandoffConflict, match="accept it"):
        post_agent_message(session, handoff.id, anna, "hello")
    accept(session, handoff.id, anna)
    with pytest.raises(HandoffConflict):
        accept(session, handoff.id, ben)
    with pytest.raises(HandoffConflict, match="another agent"):
        post_agent_message(session, handoff.id, ben, "hello")
    with pytest.raises(ValueError):
        post_agent_message(session, handoff.id, anna, "   ")
    post_agent_message(session, handoff.id, anna, "hello")
    add_customer_message(session, handoff, "hi!")
    close(session, handoff.id, anna)
    assert [(m.author, m.text) for m in pending_deliveries(session)] == [
        ("system", "joined"),
        ("agent", "hello"),
        ("system", "closed"),
    ]
    with pytest.raises(HandoffConflict, match="already closed"):
        close(session, handoff.id, anna)


def test_a_handoff_nobody_accepts_in_time_becomes_a_ticket_from_its_draft(session, tiers):
    handoff = queued(session, tiers, "a", "gold", 0)
    handoff.packet = {
        **handoff.packet,
        "ticket_draft": {"category": "late_delivery", "order_id": None, "description": "late"},
    }
    add_customer_message(session, handoff, "anyone there?")
    fresh = queued(session, tiers, "b", "gold", 9)
    expired = expire_overdue(session, timeout=timedelta(minutes=10), tiers=tiers, now=T0 + timedelta(minutes=12))
    assert expired == [handoff] and fresh.status == "waiting"
    assert handoff.status == "expired" and handoff.ticket.category == "late_delivery"
    assert "anyone there?" in handoff.ticket.description
    assert handoff.ticket.sla_due_at == T0 + timedelta(minutes=12, hours=8)
    assert session.query(HandoffMessage).filter_by(handoff_id=handoff.id, text="expired").count() == 1


def test_agent_tokens_and_passwords(session, anna):
    token = issue_token(session, anna)
    assert agent_for_token(session, token) is anna
    assert agent_for_token(session, token + "x") is None and agent_for_token(session, "") is None
    issue_token(session, anna)
    assert agent_for_token(session, token) is None
    assert verify_password(anna, "long-enough") and not verify_password(anna, "wrong")
    assert anna.password_hash.startswith("$argon2")


@pytest.mark.parametrize(
    ("username", "role", "password", "error"),
    [
        ("Bad Name", "agent", "long-enough", "username"),
        ("cleo", "boss", "long-enough", "role"),
        ("cleo", "agent", "short", "password"),
        ("anna", "agent", "long-enough", "already exists"),
    ],
)
def test_bad_agent_details_are_refused(session, anna, username, role, password, error):
    with pytest.raises(AgentError, match=error):
        add_agent(session, username=username, display_name="", role=role, password=password)


def test_an_outcome_keeps_the_furthest_step_a_conversation_reached(session):
    def note(outcome):
        return record_outcome(
            session, sender_id="s", started_at=T0, channel="rest", customer_id=None, tier="guest", outcome=outcome
        )

    assert note("abandoned").outcome == "abandoned"
    assert note("self_served").outcome == "self_served"
    assert note("abandoned").outcome == "abandoned"
    assert note("ticket").outcome == "ticket"
    assert note("self_served").outcome == "ticket"
    assert note("escalated").outcome == "escalated"
    assert note("ticket").outcome == "escalated"
    with pytest.raises(ValueError):
        note("vanished")


def test_a_customer_message_joins_only_its_own_conversations_handoff(session, tiers):
    handoff = queued(session, tiers, "s1", "gold", 0)
    assert relay_customer_message(session, handoff_id=handoff.id, sender_id="s1", text="still there?")
    assert not relay_customer_message(session, handoff_id=handoff.id, sender_id="s2", text="let me in")
    assert not relay_customer_message(session, handoff_id=handoff.id + 99, sender_id="s1", text="hello?")
    assert [m.text for m in handoff.messages if m.author == "customer"] == ["still there?"]


def test_a_notice_tells_the_agents_words_and_the_handoffs_end_to_its_own_conversation_only(session, tiers, anna):
    handoff = queued(session, tiers, "s1", "gold", 0)
    accept(session, handoff.id, anna)
    message = post_agent_message(session, handoff.id, anna, "Hello, I am Anna")
    notice = notice_for(session, message_id=message.id, sender_id="s1")
    assert (notice.kind, notice.text, notice.agent, notice.handoff_id) == (
        "agent",
        "Hello, I am Anna",
        "Anna",
        handoff.id,
    )
    assert notice_for(session, message_id=message.id, sender_id="s2") is None
    close(session, handoff.id, anna)
    closing = session.scalars(select(HandoffMessage).where(HandoffMessage.text == "closed")).one()
    assert notice_for(session, message_id=closing.id, sender_id="s1").kind == "closed"


def test_a_rating_reaches_the_handoff_only_in_its_own_conversation(session, tiers):
    handoff = queued(session, tiers, "s1", "gold", 0)
    record_rating(session, sender_id="s2", started_at=T0, rating=1, handoff_id=handoff.id)
    assert handoff.rating is None
    record_rating(session, sender_id="s1", started_at=T0, rating=5, handoff_id=handoff.id)
    assert handoff.rating == 5
