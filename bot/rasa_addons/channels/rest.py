"""Rasa's REST channel, for a company's own servers: every request carries the channel's token.

Rasa's ``rest`` channel takes any sender id from anyone, so whoever knows a
conversation's id could write into it and read the answers (a signed-in
customer's tickets included), and it lets the caller name the input channel.
This one answers 401 without ``Authorization: Bearer <token>``, 403 while the
token is empty (the channel is off), and always records its messages as
``rest``. The token is ``token`` in ``credentials.yml``: REST_TOKEN.

It also refuses, with a 4xx and a body saying why, and before anything reaches
the bot: a body that is not a JSON object, a missing or overlong sender, a
message that is empty, not text or too long (413), metadata that is not an
object, a malformed ``message_id``, and a message beyond the few of its
conversation that may wait for their turn (429). Of the metadata, only the keys
the bot reads are kept. A message the bot failed to answer gets 503: a caller
that gives each message an id (``message_id``) may send it again, and one the
bot had answered after all is answered with the same replies, not run twice
(``bot/rasa_addons/exactly_once.py``).
Customers' browsers use the socket.io channel instead.

This module runs inside the Rasa server: it imports only what ``.venv-rasa`` has.
"""

from __future__ import annotations

import hmac
import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rasa_addons.channels.limits import (
    MAX_PENDING_PER_CONVERSATION,
    Busy,
    ConversationQueue,
    Refused,
    rest_message,
)
from bot.rasa_addons.exactly_once import ClientMessage

__all__ = ["TokenRestInput"]

logger = logging.getLogger(__name__)


def _error(status: int, message: str, **headers: str) -> HTTPResponse:
    return response.json({"error": message}, status=status, headers=headers or None)


def _unanswered() -> HTTPResponse:
    # Not a 200 with no replies, which a caller would take for the bot's silence.
    return _error(
        503,
        "the message could not be answered now: send it again (with the same message_id, it is answered once)",
        **{"Retry-After": "1"},
    )


class TokenRestInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        # The same URL as Rasa's channel: /webhooks/rest/webhook.
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TokenRestInput:
        # credentials.yml: token: ${REST_TOKEN}; empty (or absent) turns the channel off.
        return cls(str((credentials or {}).get("token") or "").strip())

    def __init__(self, token: str) -> None:
        self.token = token
        self.queue = ConversationQueue()

    def _refusal(self, request: Request) -> HTTPResponse | None:
        if not self.token:
            return _error(403, "the REST channel is off: set REST_TOKEN")
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), self.token.encode()):
            return _error(401, "missing or wrong REST token")
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
            try:
                sender, text, metadata, message_id = rest_message(request.json)
            except InvalidUsage:
                return _error(400, "the body is not valid JSON")
            except Refused as refused:
                return _error(refused.status, str(refused))
            collector = CollectingOutputChannel()
            if message_id is None:
                message = UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
            else:
                message = ClientMessage(
                    text, collector, sender, input_channel=self.name(), metadata=metadata, message_id=message_id
                )
            try:
                with self.queue.slot(sender):
                    await on_new_message(message)
            except Busy:
                return _error(
                    429,
                    f"too many messages of this conversation are waiting (at most {MAX_PENDING_PER_CONVERSATION}):"
                    " send it again once the earlier ones are answered",
                    **{"Retry-After": "1"},
                )
            except CancelledError:
                logger.error("message of %s timed out", sender)
                return _unanswered()
            except Exception:
                logger.exception("message of %s failed", sender)
                return _unanswered()
            return response.json(collector.messages)

        return webhook
