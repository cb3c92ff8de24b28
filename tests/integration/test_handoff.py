"""The way to a person and back, through the real Rasa server, action server and console."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.db.models import ConversationOutcome, Handoff, utcnow
from bot.db.session import sessions_for
from tests.integration.conftest import wait_for
from tests.integration.socket_customer import SocketCustomer

pytestmark = pytest.mark.slow

QUEUED = re.compile(r"You are number (\d+) in the queue")
UNKNOWN = [
    "do you deliver to antarctica",
    "can I pay with seashells",
    "can your couriers deliver to the international space station",
]


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def db(stack):
    return sessions_for(stack.settings.database_url)


def outcome_of(stack, sender: str) -> ConversationOutcome:
    with db(stack)() as session:
        return session.scalars(select(ConversationOutcome).where(ConversationOutcome.sender_id == sender)).one()


def test_a_bot_first_customer_is_helped_first_then_reaches_a_person_after_the_bot_fails(stack, sender):
    stack.send(sender, "hi", metadata={"token": stack.token("N100")})
    first = texts(stack.send(sender, "I want to talk to a real person"))
    assert "Tell me what it is about" in first and not QUEUED.search(first)
    # The normal tier's policy allows 3 failures before a person.
    for question in UNKNOWN[:2]:
        assert not QUEUED.search(texts(stack.send(sender, question)))
    assert QUEUED.search(texts(stack.send(sender, UNKNOWN[2])))
    handoff = stack.handoff_of(sender)
    assert handoff["reason"] == "bot_failed" and handoff["tier"] == "normal"
    tried = handoff["packet"]["bot_tried"]
    assert tried["failures"] == 3 and tried["human_requests"] == 1
    assert [a["question"] for a in tried["knowledge_base"]] == UNKNOWN
    assert all(a["matches"] and not a["answered"] for a in tried["knowledge_base"])
    assert outcome_of(stack, sender).outcome == "escalated"


def test_a_bot_first_customer_who_insists_reaches_a_person(stack, sender):
    stack.send(sender, "hello")
    assert not QUEUED.search(texts(stack.send(sender, "can I speak to a human agent")))
    queued = texts(stack.send(sender, "no, I want a human agent now"))
    assert QUEUED.search(queued) and "minute" in queued
    assert stack.handoff_of(sender)["reason"] == "insisted"


def test_a_vip_gets_a_person_at_once_and_is_ahead_of_lower_tiers(stack, sender):
    normal = sender + "-normal"
    stack.send(normal, "hello")
    stack.send(normal, "human please")
    stack.send(normal, "human please")
    stack.send(sender, "hi", metadata={"token": stack.token("V100")})
    assert QUEUED.search(texts(stack.send(sender, "let me talk to a person")))
    queue = stack.api("GET", "/api/handoffs", params={"status_filter": "waiting"}).json()
    ids = [h["id"] for h in queue]
    vip, low = stack.handoff_of(sender)["id"], stack.handoff_of(normal)["id"]
    assert ids.index(vip) < ids.index(low)
    assert queue[ids.index(vip)]["position"] < queue[ids.index(low)]["position"]


def test_a_gold_customer_asking_in_chinese_is_queued_in_chinese(stack, sender):
    stack.send(sender, "你好", metadata={"token": stack.token("G200")})
    queued = texts(stack.send(sender, "我要转人工客服"))
    assert re.search(r"排在第 \d+ 位", queued) and "分钟" in queued
    handoff = stack.handoff_of(sender)
    assert handoff["language"] == "zh" and handoff["customer_name"] == "李娜"


def test_while_a_person_handles_it_the_bot_stays_silent_and_relays_everything(stack, sender):
    stack.send(sender, "hi", metadata={"token": stack.token("V100")})
    stack.send(sender, "I need a person")
    assert stack.send(sender, "how long does it take to get my refund back?") == []
    assert stack.send(sender, "hello?") == []
    said = [m["text"] for m in stack.handoff_of(sender)["messages"] if m["author"] == "customer"]
    assert said == ["how long does it take to get my refund back?", "hello?"]


def test_a_socket_customer_is_served_by_an_agent_and_rates_the_service(stack):
    customer = SocketCustomer(stack.settings.rasa_url, {"token": stack.token("V100")})
    try:
        customer.say("hi")
        customer.wait_for_text("Victoria Chen")
        customer.say("I need to speak to a person about my order")
        customer.wait_for_text("in the queue")
        handoff = stack.handoff_of(customer.session_id)
        assert handoff["channel"] == "socketio"

        assert stack.api("POST", f"/api/handoffs/{handoff['id']}/accept").status_code == 200
        customer.wait_for_text("Anna from our team has joined")
        sent = stack.api(
            "POST",
            f"/api/handoffs/{handoff['id']}/messages",
            json={"text": "Hello Victoria, I'm looking at your order now."},
        )
        assert sent.status_code == 201
        customer.wait_for_text("Anna (Lumo Shop agent): Hello Victoria, I'm looking at your order now.")

        customer.say("Thank you, it is order V100-O0")
        wait_for(
            lambda: (
                "Thank you, it is order V100-O0"
                in [m["text"] for m in stack.handoff_of(customer.session_id)["messages"]]
            ),
            what="the customer's answer in the handoff",
        )
        assert not any("You're welcome" in (m.get("text") or "") for m in customer.received)

        assert stack.api("POST", f"/api/handoffs/{handoff['id']}/close").status_code == 200
        customer.wait_for_text("How would you rate this service")
        customer.say('/give_rating{"rating": 5}')
        customer.wait_for_text("Thank you for your rating")
    finally:
        customer.close()
    with db(stack)() as session:
        stored = session.get(Handoff, handoff["id"])
        assert (stored.status, stored.rating) == ("closed", 5)
    assert outcome_of(stack, customer.session_id).rating == 5


def test_agent_messages_sent_while_rasa_is_down_arrive_once_in_order_after_it_restarts(stack, sender):
    stack.send(sender, "hi", metadata={"token": stack.token("V100")})
    stack.send(sender, "I need a person")
    handoff_id = stack.handoff_of(sender)["id"]
    stack.api("POST", f"/api/handoffs/{handoff_id}/accept")
    wait_for(lambda: any("has joined" in t for t in stack.tracker_texts(sender)), what="the join message")

    rasa = stack.rasa()
    rasa.stop()
    try:
        for n in (1, 2, 3):
            sent = stack.api("POST", f"/api/handoffs/{handoff_id}/messages", json={"text": f"update {n} of 3"})
            assert sent.status_code == 201 and not sent.json()["delivered"]
    finally:
        rasa.start()
        rasa.wait_healthy(240)

    def delivered() -> list[str]:
        said = [t for t in stack.tracker_texts(sender) if "update" in t]
        return said if len(said) >= 3 else []

    said = wait_for(delivered, timeout=60, what="the three updates")
    assert said == [f"Anna (Lumo Shop agent): update {n} of 3" for n in (1, 2, 3)]
    # Later passes find nothing left to send, and nothing arrives twice.
    stack.api("POST", f"/api/handoffs/{handoff_id}/messages", json={"text": "all sorted"})
    wait_for(lambda: any("sorted" in t for t in stack.tracker_texts(sender)), what="the last message")
    assert [t for t in stack.tracker_texts(sender) if "update" in t or "sorted" in t] == [
        *said,
        "Anna (Lumo Shop agent): all sorted",
    ]


def test_a_handoff_nobody_accepts_in_time_becomes_a_ticket_and_the_customer_is_told(stack, sender):
    stack.send(sender, "hi", metadata={"token": stack.token("G100")})
    stack.send(sender, "I want to speak to a person")
    handoff_id = stack.handoff_of(sender)["id"]
    with db(stack).begin() as session:
        session.execute(
            update(Handoff).where(Handoff.id == handoff_id).values(created_at=utcnow() - timedelta(hours=1))
        )
    told = wait_for(
        lambda: next((t for t in stack.tracker_texts(sender) if "nobody could take your chat" in t), None),
        what="the expiry message",
    )
    with db(stack)() as session:
        handoff = session.get(Handoff, handoff_id)
        assert handoff.status == "expired" and handoff.ticket.number in told
    # The bot is back: it answers again.
    assert "1–3 working days" in texts(stack.send(sender, "how long does it take to get my refund back?"))


def test_the_agent_api_refuses_requests_without_valid_credentials(stack, sender):
    stack.send(sender, "hi", metadata={"token": stack.token("V100")})
    stack.send(sender, "a person please")
    handoff_id = stack.handoff_of(sender)["id"]
    for method, path in [
        ("GET", "/api/handoffs"),
        ("GET", f"/api/handoffs/{handoff_id}"),
        ("POST", f"/api/handoffs/{handoff_id}/accept"),
        ("POST", f"/api/handoffs/{handoff_id}/messages"),
        ("POST", f"/api/handoffs/{handoff_id}/close"),
    ]:
        assert stack.api(method, path, agent=None).status_code == 401
        forged = stack.api(method, path, agent=None, headers={"Authorization": "Bearer not-a-real-token"})
        assert forged.status_code == 401
    assert stack.handoff_of(sender)["status"] == "waiting"


def test_agents_get_clear_errors_and_nothing_changes(stack, sender):
    stack.send(sender, "hi", metadata={"token": stack.token("V100")})
    stack.send(sender, "a person please")
    handoff_id = stack.handoff_of(sender)["id"]
    assert stack.api("POST", f"/api/handoffs/{handoff_id}/messages", json={"text": "hi"}).status_code == 409
    assert stack.api("POST", "/api/handoffs/999999/accept").status_code == 404
    assert stack.api("POST", f"/api/handoffs/{handoff_id}/accept").status_code == 200
    assert stack.api("POST", f"/api/handoffs/{handoff_id}/accept", agent="ben").status_code == 409
    assert (
        stack.api("POST", f"/api/handoffs/{handoff_id}/messages", agent="ben", json={"text": "hi"}).status_code == 409
    )
    assert stack.api("POST", f"/api/handoffs/{handoff_id}/messages", json={"text": ""}).status_code == 422
    assert stack.api("POST", f"/api/handoffs/{handoff_id}/messages", json={"text": "x" * 4001}).status_code == 422
    assert [m["author"] for m in stack.handoff_of(sender)["messages"]] == ["system"]
