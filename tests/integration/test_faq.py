"""Questions answered from the shipped knowledge base through the real bot."""

import pytest
from sqlalchemy import select

from bot.db.models import ConversationOutcome, KbFeedback, KbGap
from bot.db.session import sessions_for

pytestmark = pytest.mark.slow


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def buttons(messages: list[dict]) -> list[dict]:
    return [b for m in messages for b in m.get("buttons", [])]


def test_a_confident_answer_in_english_asks_whether_it_helped(stack, sender):
    messages = stack.send(sender, "how long does it take to get my refund back?")
    assert "1–3 working days" in texts(messages)
    assert "Did this answer help?" in texts(messages)
    assert [b["payload"] for b in buttons(messages)] == ["/affirm", "/deny"]


def test_a_chinese_question_gets_the_chinese_answer(stack, sender):
    messages = stack.send(sender, "退款一般几天能到账啊")
    assert "支付宝、微信支付 1–3 个工作日到账" in texts(messages)
    assert "这个回答对您有帮助吗" in texts(messages)


def test_the_customer_says_whether_it_helped_and_it_is_recorded(stack, sender):
    stack.send(sender, "how long does it take to get my refund back?")
    assert "Great" in texts(stack.send(sender, "/affirm"))
    with sessions_for(stack.settings.database_url)() as session:
        feedback = session.scalars(select(KbFeedback).where(KbFeedback.sender_id == sender)).one()
    assert feedback.helpful and feedback.entry_id == "refund-timeline-by-method"
    with sessions_for(stack.settings.database_url)() as session:
        outcome = session.scalars(select(ConversationOutcome).where(ConversationOutcome.sender_id == sender)).one()
    assert (outcome.outcome, outcome.tier) == ("self_served", "guest")


def test_an_answer_that_did_not_help_is_recorded_and_a_ticket_offered(stack, sender):
    stack.send(sender, "how long does it take to get my refund back?")
    messages = stack.send(sender, "/deny")
    assert "/complain" in [b["payload"] for b in buttons(messages)]
    with sessions_for(stack.settings.database_url)() as session:
        feedback = session.scalars(select(KbFeedback).where(KbFeedback.sender_id == sender)).one()
        outcome = session.scalars(select(ConversationOutcome).where(ConversationOutcome.sender_id == sender)).one()
    assert not feedback.helpful and outcome.outcome == "abandoned"


def test_an_unsure_match_offers_the_closest_entries(stack, sender):
    messages = stack.send(sender, "how do refunds work")
    offered = buttons(messages)
    assert "Is it one of them?" in texts(messages)
    assert len(offered) == 3 and all(b["payload"].startswith('/faq{"faq_id": "refund') for b in offered)
    picked = stack.send(sender, offered[0]["payload"])
    assert "Did this answer help?" in texts(picked)


def test_an_unknown_question_is_admitted_logged_and_offers_a_ticket(stack, sender):
    question = "do you deliver to antarctica"
    messages = stack.send(sender, question)
    assert "I don't know the answer" in texts(messages)
    assert "/complain" in [b["payload"] for b in buttons(messages)]
    with sessions_for(stack.settings.database_url)() as session:
        gap = session.scalars(select(KbGap).where(KbGap.sender_id == sender)).one()
    assert gap.question == question and gap.tier == "guest"
    with sessions_for(stack.settings.database_url)() as session:
        outcome = session.scalars(select(ConversationOutcome).where(ConversationOutcome.sender_id == sender)).one()
    assert outcome.outcome == "abandoned"


def test_an_out_of_scope_message_is_not_logged_as_a_gap(stack, sender):
    assert "outside what I can help with" in texts(stack.send(sender, "what's the weather like in Paris"))
    with sessions_for(stack.settings.database_url)() as session:
        assert not session.scalars(select(KbGap).where(KbGap.sender_id == sender)).all()


def test_entries_for_higher_tiers_are_not_shown_to_lower_ones(stack, sender):
    question = "are refunds instant for VIP members?"
    vip_sender = sender + "-vip"
    stack.send(vip_sender, "hi", metadata={"token": stack.token("V100")})
    assert "the moment your return request is approved" in texts(stack.send(vip_sender, question))
    guest_reply = texts(stack.send(sender, question))
    assert "the moment your return request is approved" not in guest_reply
