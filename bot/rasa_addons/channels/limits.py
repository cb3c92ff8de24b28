"""Bounds on what a channel takes in: a message's length, its metadata, and how many
messages of one conversation may wait for their turn.

Rasa processes a conversation's messages one at a time, behind a lock that
lives 60 seconds; a message still waiting when it expires is dropped without an
answer. So each channel lets a bounded number of a conversation's messages wait
and refuses the rest at once, and refuses messages too long to be a chat
message before they reach the bot.

Standard library only: the Rasa server loads it, and the tests import it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "MAX_MESSAGE_CHARS",
    "MAX_PENDING_PER_CONVERSATION",
    "MAX_SENDER_CHARS",
    "MESSAGE_ID",
    "Busy",
    "ConversationQueue",
    "Refused",
    "customer_metadata",
    "notice",
    "rest_message",
    "socket_message",
]

MAX_MESSAGE_CHARS = 2000
MAX_SENDER_CHARS = 128
# A turn takes about a second; this many waiting finish well inside the lock's 60 seconds.
MAX_PENDING_PER_CONVERSATION = 8
# The keys of a customer's message metadata that the bot reads (bot/service/profiles.py): the site's
# signed customer token and the page's language. Anything else is not stored.
_TOKEN_CHARS = 1024
# The id a client may give a message, so that sending it again is answered, not run again.
MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_LANGUAGES = {"zh", "en"}

_NOTICES = {
    "too_long": {
        "zh": f"您的消息太长了（最多 {MAX_MESSAGE_CHARS} 字），请分几条发送。",
        "en": f"Your message is too long (at most {MAX_MESSAGE_CHARS:,} characters): please send it in parts.",
    },
    "busy": {
        "zh": "您发消息的速度比我读得还快，请等我回复后再发。",
        "en": "You are sending messages faster than I can read them: please wait for my answer.",
    },
}
_CJK = re.compile(r"[\u3400-\u9fff]")


def notice(kind: str, text: str) -> str:
    """A channel's polite refusal, in the language the customer wrote in."""
    return _NOTICES[kind]["zh" if _CJK.search(text[:MAX_MESSAGE_CHARS]) else "en"]


def customer_metadata(raw: Any) -> dict[str, str]:
    """The metadata keys the bot uses, bounded; a client's other keys are dropped.

    Rasa's socket.io channel accepts metadata as a JSON string too.
    """
    if isinstance(raw, str) and len(raw) <= 4 * _TOKEN_CHARS:
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    if not isinstance(raw, dict):
        return {}
    kept: dict[str, str] = {}
    token = raw.get("token")
    if isinstance(token, str) and 0 < len(token) <= _TOKEN_CHARS:
        kept["token"] = token
    if raw.get("language") in _LANGUAGES:
        kept["language"] = raw["language"]
    return kept


class Refused(Exception):
    """A request the channel does not take: ``status`` and a message for the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def rest_message(body: Any) -> tuple[str, str, dict[str, str], str | None]:
    """The sender, text, metadata and client's message id of a REST request's parsed JSON body;
    :class:`Refused` if unusable."""
    if not isinstance(body, dict):
        raise Refused(400, 'the body must be a JSON object: {"sender": ..., "message": ...}')
    sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        raise Refused(400, f"sender must be a non-empty string of at most {MAX_SENDER_CHARS} characters")
    text = _text(text)
    if metadata is not None and not isinstance(metadata, dict):
        raise Refused(400, "metadata must be a JSON object")
    return sender, text, customer_metadata(metadata), _message_id(body.get("message_id"))


def socket_message(data: Any, metadata_key: str) -> tuple[str, dict[str, str], str | None]:
    """The text, metadata and client's message id of a socket.io message event; :class:`Refused` if unusable."""
    if not isinstance(data, dict):
        raise Refused(400, "a message must be an object")
    return _text(data.get("message")), customer_metadata(data.get(metadata_key)), _message_id(data.get("message_id"))


def _message_id(given: Any) -> str | None:
    if given is None:
        return None
    if not isinstance(given, str) or not MESSAGE_ID.fullmatch(given):
        raise Refused(400, "message_id must be 1 to 64 letters, digits, '-' or '_'")
    return given


def _text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise Refused(400, "message must be a non-empty string")
    if len(text) > MAX_MESSAGE_CHARS:
        raise Refused(413, f"message is too long: at most {MAX_MESSAGE_CHARS} characters")
    return text


class Busy(Exception):
    """Too many of this conversation's messages are waiting already."""


class ConversationQueue:
    """Counts each conversation's messages in progress, and refuses one too many."""

    def __init__(self, limit: int = MAX_PENDING_PER_CONVERSATION) -> None:
        self.limit = limit
        self._pending: Counter[str] = Counter()

    @contextmanager
    def slot(self, sender_id: str) -> Iterator[None]:
        if self._pending[sender_id] >= self.limit:
            raise Busy(sender_id)
        self._pending[sender_id] += 1
        try:
            yield
        finally:
            self._pending[sender_id] -= 1
            if not self._pending[sender_id]:
                del self._pending[sender_id]
