"""What the REST and socket.io channels take in: any body is a message or a clear refusal."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.rasa_addons.channels.limits import (
    MAX_MESSAGE_CHARS,
    MAX_SENDER_CHARS,
    MESSAGE_ID,
    Refused,
    rest_message,
    socket_message,
)
from tests.fuzz import FUZZ

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
fields = st.sampled_from(
    ["sender", "message", "metadata", "token", "language", "customData", "session_id", "message_id"]
)
bodies = json_values | st.dictionaries(fields, json_values | st.text(max_size=3000), max_size=5)


def _accepts_or_refuses(parse, *args):
    try:
        return parse(*args)
    except Refused as refused:
        assert refused.status in (400, 413) and str(refused)
        return None


@FUZZ
@given(bodies)
def test_a_rest_body_is_a_message_or_a_clear_refusal(body):
    parsed = _accepts_or_refuses(rest_message, json.loads(json.dumps(body)))
    if parsed is not None:
        sender, text, metadata, message_id = parsed
        assert 0 < len(sender) <= MAX_SENDER_CHARS and len(text.strip()) > 0 and len(text) <= MAX_MESSAGE_CHARS
        assert set(metadata) <= {"token", "language"} and len(json.dumps(metadata)) < 2000
        assert message_id is None or MESSAGE_ID.fullmatch(message_id)


@FUZZ
@given(bodies)
def test_a_socket_message_is_a_message_or_a_clear_refusal(data):
    parsed = _accepts_or_refuses(socket_message, data, "customData")
    if parsed is not None:
        text, metadata, message_id = parsed
        assert len(text.strip()) > 0 and len(text) <= MAX_MESSAGE_CHARS
        assert set(metadata) <= {"token", "language"}
        assert message_id is None or MESSAGE_ID.fullmatch(message_id)
