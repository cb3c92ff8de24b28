"""Complaints through the real bot: tickets for the bot-first tiers, a person for the others."""

import re

import pytest
from sqlalchemy import select

from bot.db.models import ConversationOutcome, Handoff, Ticket
from bot.db.session import sessions_for

pytestmark = pytest.mark.slow

TICKET = re.compile(r"T\d{6}-[A-Z0-9]{4}")


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def payloads(messages: list[dict]) -> list[str]:
    return [b["payload"] for m in messages for b in m.get("buttons", [])]


def tickets_of(stack, sender: str) -> list[Ticket]:
    with sessions_for(stack.settings.database_url)() as session:
        return list(session.scalars(select(Ticket).where(Ticket.sender_id == sender)))


def handoffs_of(stack, sender: str) -> list[Handoff]:
    with sessions_for(stack.settings.database_url)() as session:
        return list(session.scalars(select(Handoff).where(Handoff.sender_id == sender)))


def test_a_normal_customers_late_delivery_gets_a_ticket_tracking_and_a_coupon_but_no_person(stack, sender):
    stack.send(sender, "hi", metadata={"token": stack.token("N200")})
    asked = stack.send(sender, "I want to complain, my parcel is late and still hasn't arrived")
    assert "Which order is it about?" in texts(asked)
    assert '/choose{"complaint_order": "N200-LATE"}' in payloads(asked)

    done = texts(stack.send(sender, '/choose{"complaint_order": "N200-LATE"}'))
    number = TICKET.search(done).group(0)
    assert "Late delivery" in done and "within 48 hours" in done
    assert "Order N200-LATE is shipped" in done and "4 day(s) late" in done
    assert "¥10 no-minimum coupon" in done

    [ticket] = tickets_of(stack, sender)
    assert (ticket.number, ticket.category, ticket.order_id, ticket.tier) == (
        number,
        "late_delivery",
        "N200-LATE",
        "normal",
    )
    assert "still hasn't arrived" in ticket.description
    assert not handoffs_of(stack, sender)
    with sessions_for(stack.settings.database_url)() as session:
        outcome = session.scalars(select(ConversationOutcome).where(ConversationOutcome.sender_id == sender)).one()
    assert (outcome.outcome, outcome.tier) == ("ticket", "normal")


def test_the_form_asks_for_what_is_missing_and_a_guest_gives_no_order(stack, sender):
    asked = stack.send(sender, "I want to make a complaint")
    assert "What is the problem about?" in texts(asked)
    assert '/choose{"complaint_category": "wrong_item"}' in payloads(asked)
    assert "what happened" in texts(stack.send(sender, '/choose{"complaint_category": "wrong_item"}'))
    done = texts(stack.send(sender, "I ordered a red scarf and you sent me a blue one"))
    assert "Wrong item" in done and "within 72 hours" in done
    [ticket] = tickets_of(stack, sender)
    assert ticket.customer_id is None and ticket.order_id is None and ticket.tier == "guest"


def test_a_complaint_in_chinese_is_answered_in_chinese(stack, sender):
    stack.send(sender, "你好", metadata={"token": stack.token("N200")})
    asked = texts(stack.send(sender, "我要投诉，收到的商品坏了，外包装都压扁了"))
    assert "是哪一个订单" in asked
    done = texts(stack.send(sender, "与订单无关"))
    assert "商品损坏" in done and TICKET.search(done) and "48 小时内回复" in done


def test_a_customer_cannot_pick_another_customers_order(stack, sender):
    stack.send(sender, "hi", metadata={"token": stack.token("N100")})
    stack.send(sender, "I'd like to file a complaint about a wrong item, you sent the wrong size")
    refused = texts(stack.send(sender, "N200-LATE"))
    assert "can't find that order among yours" in refused
    assert not tickets_of(stack, sender)


def test_a_complaint_can_be_cancelled(stack, sender):
    stack.send(sender, "I want to make a complaint")
    assert "dropped the complaint" in texts(stack.send(sender, "cancel"))
    assert not tickets_of(stack, sender)


def test_a_customer_sees_their_own_tickets_and_never_anothers(stack, sender):
    stack.send(sender, "hi", metadata={"token": stack.token("N200")})
    stack.send(sender, "I want to complain, the courier was rude to me at the door")
    stack.send(sender, '/choose{"complaint_order": "none"}')
    [ticket] = tickets_of(stack, sender)

    status = texts(stack.send(sender, "what's the status of my ticket?"))
    assert ticket.number in status and "Service attitude" in status

    other = sender + "-other"
    stack.send(other, "hi", metadata={"token": stack.token("N100")})
    refused = texts(stack.send(other, f"what is the status of ticket {ticket.number}"))
    assert f"can't find ticket {ticket.number} among yours" in refused
    assert "Service attitude" not in refused
    guest = sender + "-guest"
    assert "can't find ticket" in texts(stack.send(guest, f"status of ticket {ticket.number}"))


def test_a_gold_customers_complaint_goes_to_the_queue_with_transcript_and_profile(stack, sender):
    stack.send(sender, "hi", metadata={"token": stack.token("G100")})
    queued = texts(stack.send(sender, "I want to complain: the vase in my last order arrived smashed to pieces"))
    assert re.search(r"You are number \d+ in the queue", queued)
    assert not tickets_of(stack, sender)

    handoff = stack.handoff_of(sender)
    assert handoff["tier"] == "gold" and handoff["reason"] == "complaint" and handoff["status"] == "waiting"
    packet = handoff["packet"]
    assert any("smashed to pieces" in line["text"] for line in packet["transcript"])
    assert packet["customer"]["name"] == "Grace Lin" and packet["customer"]["rfm"]["frequency"] == 9
    assert len(packet["customer"]["orders"]) == 9
    assert packet["ticket_draft"]["category"] == "damaged_item"
    assert "Grace Lin" in handoff["summary"] and "damaged item" in handoff["summary"]
