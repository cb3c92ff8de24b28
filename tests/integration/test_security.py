"""What an attacker or a careless client can do against the real servers: nothing of anyone else's."""

from __future__ import annotations

import concurrent.futures
import json

import httpx
import pytest
from sqlalchemy import select

from bot.db.models import Ticket
from bot.db.session import sessions_for
from bot.rasa_addons.channels.limits import MAX_MESSAGE_CHARS
from bot.service.complaints import open_ticket
from tests.integration.socket_customer import SocketCustomer

pytestmark = pytest.mark.slow


def _ticket_for(stack, sender: str, customer_id: str | None, channel: str) -> str:
    """A ticket of ``customer_id`` opened in conversation ``sender``; its number."""
    from bot.service.tiers import load_tiers

    tier = load_tiers(stack.settings.tiers_file).get("normal")
    with sessions_for(stack.settings.database_url).begin() as session:
        ticket = open_ticket(
            session,
            policy=tier.policy,
            tier=tier.id,
            sender_id=sender,
            channel=channel,
            customer_id=customer_id,
            language="en",
            category="other",
            order_id=None,
            description="The courier was rude to me.",
        )
        return ticket.number


def _tracker(stack, sender: str) -> dict:
    response = httpx.get(
        f"{stack.settings.rasa_url}/conversations/{sender}/tracker",
        params={"token": stack.settings.rasa_token},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


# 1. Nobody joins another customer's conversation.


def test_a_socket_cannot_join_a_conversation_whose_id_the_server_did_not_issue_to_it(stack):
    victim = SocketCustomer(stack.settings.rasa_url, {"token": stack.token("N100")})
    attackers: list[SocketCustomer] = []
    try:
        victim.say("hello")
        victim.wait_for_text("Tom Baker")
        number = _ticket_for(stack, victim.session_id, "N100", "socketio")

        # Ids the attacker could know or make: a made-up one, the victim's random part with another signature.
        for guess in ("c1", victim.session_id[:32] + "0" * 32):
            attacker = SocketCustomer(stack.settings.rasa_url, {}, session_id=guess)
            attackers.append(attacker)
            assert attacker.session_id not in (guess, victim.session_id)
            # Naming the victim's id in the message itself does not help either.
            attacker.say("what is the status of my ticket please", session_id=victim.session_id)
            attacker.wait_for_text("sign in")
        victim.say("what's the status of my ticket?")
        victim.wait_for_text(number)

        for attacker in attackers:
            seen = json.dumps(attacker.received, ensure_ascii=False)
            assert number not in seen and "Tom" not in seen
        assert "what is the status of my ticket please" not in stack.user_texts(victim.session_id)
    finally:
        for customer in (victim, *attackers):
            customer.close()


def test_a_socket_cannot_join_a_rest_conversation(stack, sender):
    stack.say(sender, "hi", metadata={"token": stack.token("N100")})
    number = _ticket_for(stack, sender, "N100", "rest")
    attacker = SocketCustomer(stack.settings.rasa_url, {}, session_id=sender)
    try:
        assert attacker.session_id != sender
        attacker.say("what's the status of my ticket?", session_id=sender)
        attacker.wait_for_text("sign in")
        assert number not in json.dumps(attacker.received)
    finally:
        attacker.close()
    assert "what's the status of my ticket?" not in stack.user_texts(sender)


def test_a_reload_keeps_the_conversation_the_server_issued(stack):
    first = SocketCustomer(stack.settings.rasa_url, {})
    first.close()
    again = SocketCustomer(stack.settings.rasa_url, {}, session_id=first.session_id)
    again.close()
    assert again.session_id == first.session_id


def test_a_guest_in_a_conversation_never_sees_the_signed_in_customers_tickets(stack, sender):
    stack.say(sender, "hi", metadata={"token": stack.token("N100")})
    number = _ticket_for(stack, sender, "N100", "rest")
    assert number in "\n".join(stack.say(sender, "what's the status of my ticket?"))
    # A new session in the same conversation, without the token: a guest.
    stack.say(sender, "/session_start")
    replies = "\n".join(stack.say(sender, "what's the status of my ticket?"))
    assert number not in replies


# 2. The action server serves the Rasa server alone.


def _action_call(customer_id: str) -> dict:
    return {
        "next_action": "action_ticket_status",
        "sender_id": "attacker",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": "attacker",
            "slots": {"customer_id": customer_id, "tier": "vip", "language": "en"},
            "latest_message": {"text": "ticket status", "intent": {}, "entities": []},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": None,
        },
    }


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic ZGVtbzpkZW1v"])
def test_the_action_server_refuses_a_caller_without_the_rasa_servers_token(stack, authorization):
    url = f"http://{stack.settings.host}:{stack.settings.action_port}"
    number = _ticket_for(stack, "victim-conversation", "N100", "rest")
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.post(f"{url}/webhook", json=_action_call("N100"), headers=headers, timeout=30)
    assert response.status_code == 401
    assert number not in response.text and "error" in response.json()
    assert httpx.get(f"{url}/actions", headers=headers, timeout=30).status_code == 401
    assert httpx.get(f"{url}/health", timeout=30).status_code == 200


def test_the_action_server_answers_no_cross_origin_request(stack):
    url = f"http://{stack.settings.host}:{stack.settings.action_port}/webhook"
    preflight = httpx.options(
        url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, timeout=30
    )
    assert "access-control-allow-origin" not in preflight.headers


# 3. One message cannot stall everyone.


def test_an_overlong_message_is_refused_and_stored_nowhere(stack, sender):
    stack.say(sender, "hi", metadata={"token": stack.token("N200")})
    response = stack.rest(json={"sender": sender, "message": "O1234 " * 12_000})
    assert response.status_code == 413
    assert f"at most {MAX_MESSAGE_CHARS}" in response.json()["error"]
    assert stack.user_texts(sender) == ["hi"]


def test_an_overlong_widget_message_gets_a_polite_reply(stack):
    customer = SocketCustomer(stack.settings.rasa_url, {"token": stack.token("N200")})
    try:
        customer.say("我的订单 O1234 " * 3000)
        customer.wait_for_text("太长")
        customer.say("hello")
        customer.wait_for_text("Nora")
        assert all("O1234" not in text for text in stack.user_texts(customer.session_id))
    finally:
        customer.close()


def test_a_long_complaint_full_of_order_numbers_is_answered_and_others_with_it(stack, sender):
    stack.say(sender, "hi", metadata={"token": stack.token("N200")})
    complaint = ("My parcel is late, order " + " ".join(f"O{n:04d}" for n in range(400)))[:MAX_MESSAGE_CHARS]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        long_turn = pool.submit(stack.say, sender, complaint)
        other = pool.submit(stack.say, f"{sender}-other", "hello")
        assert "welcome to Lumo Shop" in other.result()[0]
        assert long_turn.result()


def test_metadata_keeps_only_what_the_bot_reads(stack, sender):
    metadata = {"token": stack.token("N100"), "language": "en", "padding": "x" * 900_000}
    stack.say(sender, "hi", metadata=metadata)
    [user] = [e for e in _tracker(stack, sender)["events"] if e["event"] == "user"]
    assert "padding" not in user["metadata"] and user["metadata"]["token"] == metadata["token"]
    assert len(json.dumps(_tracker(stack, sender))) < 100_000


# 4. A burst to one conversation: every message answered, or refused at once.


def test_a_burst_to_one_conversation_is_answered_or_refused_none_hangs(stack, sender):
    def send(n: int) -> httpx.Response:
        return stack.rest(json={"sender": sender, "message": f"hello {n}"}, timeout=55)

    with concurrent.futures.ThreadPoolExecutor(75) as pool:
        responses = list(pool.map(send, range(75)))
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 429}, statuses
    assert statuses.count(200) >= 1 and statuses.count(429) >= 1
    refused = next(r for r in responses if r.status_code == 429)
    assert "too many messages" in refused.json()["error"] and refused.headers["Retry-After"]
    answered = [r.json() for r in responses if r.status_code == 200]
    assert all(a for a in answered), "an accepted message got no answer"
    assert len(stack.user_texts(sender)) == statuses.count(200)


# 6. Bad input gets a clear error and changes nothing.


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[1, 2]",
        b'"hello"',
        b"null",
        b'{"message": "hello"}',
        b'{"sender": "", "message": "hello"}',
        b'{"sender": 5, "message": "hello"}',
        b'{"sender": "' + b"s" * 200 + b'", "message": "hello"}',
        b'{"sender": "SENDER", "message": ""}',
        b'{"sender": "SENDER", "message": "   "}',
        b'{"sender": "SENDER", "message": 42}',
        b'{"sender": "SENDER", "message": ["hello"]}',
        b'{"sender": "SENDER", "message": "hello", "metadata": "token"}',
        b'{"sender": "SENDER", "message": "hello", "metadata": [1]}',
    ],
)
def test_a_malformed_rest_body_is_a_clear_400_and_stores_nothing(stack, sender, body):
    response = stack.rest(
        content=body.replace(b"SENDER", sender.encode()), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]
    assert stack.user_texts(sender) == []
    assert stack.user_texts("default") == []


def test_tickets_of_a_conversation_stay_its_own(stack, sender):
    # The look-up a guest's "ticket status" makes is the conversation's guest tickets alone.
    guest_number = _ticket_for(stack, sender, None, "rest")
    _ticket_for(stack, sender, "N100", "rest")
    stack.say(sender, "hello")
    replies = "\n".join(stack.say(sender, "what's the status of my ticket?"))
    assert guest_number in replies
    with sessions_for(stack.settings.database_url)() as session:
        numbers = set(session.scalars(select(Ticket.number).where(Ticket.sender_id == sender)))
    assert len(numbers) == 2 and sum(n in replies for n in numbers) == 1


def test_malformed_socket_events_change_nothing_and_the_socket_keeps_working(stack):
    customer = SocketCustomer(stack.settings.rasa_url, {})
    try:
        for data in (
            "hello",
            ["hello"],
            None,
            {"message": 5},
            {"message": ""},
            {"message": "hi", "customData": "{bad"},
        ):
            customer.client.emit("user_uttered", data)
        customer.client.emit("session_request", "not an object")
        customer.session_id = customer.confirmed[-1] if customer.confirmed else customer.session_id
        customer.say("hello")
        customer.wait_for_text("welcome to Lumo Shop")
    finally:
        customer.close()
