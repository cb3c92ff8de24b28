"""A client that sends a message again, not knowing whether it was answered, is answered once:
the conversation keeps one copy and the replies come again (bot/rasa_addons/exactly_once.py)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import wait_for
from tests.integration.socket_customer import SocketCustomer

pytestmark = pytest.mark.slow

QUESTION = "How long does delivery take?"


def test_a_rest_message_sent_again_gets_the_same_replies_and_is_stored_once(stack, sender):
    body = {"sender": sender, "message": QUESTION, "message_id": "q-1"}
    first = stack.rest(json=body)
    again = stack.rest(json=body)
    assert first.status_code == again.status_code == 200
    assert first.json() and again.json() == first.json()
    assert stack.user_texts(sender) == [QUESTION]
    # A new id is a new message, even with the same words.
    assert stack.rest(json={**body, "message_id": "q-2"}).json()
    assert stack.user_texts(sender) == [QUESTION, QUESTION]


def test_a_malformed_message_id_is_refused_and_nothing_is_stored(stack, sender):
    response = stack.rest(json={"sender": sender, "message": QUESTION, "message_id": "not an id"})
    assert response.status_code == 400
    assert "message_id" in response.json()["error"]
    assert stack.user_texts(sender) == []


def test_a_socket_message_sent_again_gets_the_replies_again_and_is_stored_once(stack):
    customer = SocketCustomer(stack.settings.rasa_url, {})
    try:
        send = {"message": QUESTION, "session_id": customer.session_id, "message_id": "w-1"}
        customer.client.emit("user_uttered", send)
        # The answer's last message: a turn's replies leave together once it is stored.
        customer.wait_for_text("Did this answer help?", 60)
        first = customer.received[:]
        customer.client.emit("user_uttered", send)
        wait_for(lambda: len(customer.received) == 2 * len(first), 60, "the replies again")
        assert customer.received[len(first) :] == first
        assert stack.user_texts(customer.session_id) == [QUESTION]
    finally:
        customer.close()
