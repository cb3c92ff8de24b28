"""The bounds every channel puts on what it takes in, and the widget's conversation ids."""

import pytest

from bot.rasa_addons.channels import session_ids
from bot.rasa_addons.channels.limits import (
    Busy,
    ConversationQueue,
    Refused,
    customer_metadata,
    notice,
    rest_message,
    socket_message,
)

SECRET = "s" * 32


def test_metadata_keeps_the_token_and_the_page_language_only():
    raw = {"token": "abc.def", "language": "zh", "customer_id": "C1", "tier": "vip", "padding": "x" * 10_000}
    assert customer_metadata(raw) == {"token": "abc.def", "language": "zh"}


@pytest.mark.parametrize(
    "raw", [None, "", "not json", "[1, 2]", 5, ["token"], {"token": 5}, {"token": "t" * 5000}, {"language": "fr"}]
)
def test_metadata_that_is_not_usable_is_dropped(raw):
    assert customer_metadata(raw) == {}


def test_metadata_sent_as_a_json_string_is_read():
    assert customer_metadata('{"token": "abc.def"}') == {"token": "abc.def"}


def test_a_conversation_may_have_a_few_messages_waiting_and_no_more():
    queue = ConversationQueue(limit=2)
    with queue.slot("a"), queue.slot("a"):
        with pytest.raises(Busy), queue.slot("a"):
            pass
        with queue.slot("b"):
            pass
    with queue.slot("a"), queue.slot("a"):
        pass


def test_a_refusal_is_in_the_language_the_customer_wrote_in():
    assert "太长" in notice("too_long", "我的订单" * 1000)
    assert "too long" in notice("too_long", "my order " * 1000)


def test_only_ids_the_server_issued_verify():
    issued = session_ids.issue(SECRET)
    assert session_ids.is_issued(SECRET, issued)
    assert issued != session_ids.issue(SECRET)
    assert not session_ids.is_issued("t" * 32, issued)
    assert not session_ids.is_issued(SECRET, issued[:32] + "0" * 32)
    for other in (None, 5, "", "c1", issued + "0", issued[:-1] + "é", "test-4b20774ff37a"):
        assert not session_ids.is_issued(SECRET, other)


@pytest.mark.parametrize("message_id", ["m-1", "A_b-9", "x" * 64])
def test_a_client_may_number_its_messages(message_id):
    body = {"sender": "s1", "message": "hi", "message_id": message_id}
    assert rest_message(body) == ("s1", "hi", {}, message_id)
    assert socket_message({"message": "hi", "message_id": message_id}, "customData") == ("hi", {}, message_id)


@pytest.mark.parametrize("message_id", ["", "x" * 65, "a b", "ü", "../x", 7, ["m1"], {"id": "m1"}])
def test_a_malformed_message_id_is_refused(message_id):
    for parse, args in (
        (rest_message, ({"sender": "s1", "message": "hi", "message_id": message_id},)),
        (socket_message, ({"message": "hi", "message_id": message_id}, "customData")),
    ):
        with pytest.raises(Refused, match="message_id must be"):
            parse(*args)
