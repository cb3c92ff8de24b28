"""The web widget's channel: Rasa's socket.io channel with conversation ids the server issues.

Rasa's channel trusts the ``session_id`` a client sends, in ``session_request``
and again in every message, so anyone who knew a conversation's id could join
it. Here:

- ``session_request`` keeps an id only if this server issued it
  (``session_ids.py``, signed with ``identity_secret`` from ``credentials.yml``)
  and issues a fresh one otherwise;
- each socket's conversation is remembered on the server, and a message is
  always taken as that conversation's, whatever id it names; a message before
  ``session_request`` is refused;
- a message's text is bounded, and so are its metadata (only the keys the bot
  reads) and the number of a conversation's messages waiting for their turn:
  the customer is told politely instead;
- a widget that asks for numbered messages (``last_seq`` in ``session_request``)
  gets each with the conversation's next number (``seq``), and when it reconnects
  with the last number it has, what it missed (``outbox.py``);
- a message may carry the client's ``message_id``: sent again after a lost
  answer, it is answered with the same replies, not run twice; and replies,
  an agent's too, leave only once their turn is stored
  (``bot/rasa_addons/exactly_once.py``);
- with ``redis_url`` (``REDIS_URL``), the replicas of the Rasa server share
  python-socketio's Redis manager, so a message sent on one (an agent's, through
  ``output_channel=latest``) reaches the customer's socket wherever it is
  connected. The conversation ids verify on every replica that has the same
  secret, and a socket that reconnects to another replica asks for its id again
  there, so sockets need no shared state; but socket.io's HTTP long-polling sends
  each socket's requests to the process that opened it, so the load balancer
  must keep a client on one replica (sticky sessions) unless it uses WebSocket
  alone. Redis must be private to the servers: its messages are pickles.

This module runs inside the Rasa server: it imports only what ``.venv-rasa`` has.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from bot.rasa_addons.channels import session_ids
from bot.rasa_addons.channels.limits import (
    Busy,
    ConversationQueue,
    Refused,
    notice,
    socket_message,
)
from bot.rasa_addons.channels.outbox import Outbox
from bot.rasa_addons.exactly_once import ClientMessage, HeldOutput

__all__ = ["SignedSocketIOInput"]

logger = logging.getLogger(__name__)


class NumberedOutput(SocketIOOutput):
    """Rasa's socket.io output, each message numbered and kept in the outbox."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str, outbox: Outbox) -> None:
        super().__init__(sio, bot_message_evt)
        self.outbox = outbox

    async def _send_message(self, socket_id: str, response: Any) -> None:
        await self.sio.emit(self.bot_message_evt, self.outbox.add(socket_id, response), room=socket_id)


class SignedSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        # The same name as Rasa's channel: the URL, and output_channel=latest, stay as they were.
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SignedSocketIOInput:
        credentials = credentials or {}
        # credentials.yml: identity_secret: ${IDENTITY_SECRET}, which signs the conversation ids.
        secret = str(credentials.get("identity_secret") or "")
        if not secret:
            raise RasaException(f"{cls.__module__}.{cls.__name__} in credentials.yml needs identity_secret")
        return cls(
            secret,
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            namespace=credentials.get("namespace"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            metadata_key=credentials.get("metadata_key", "metadata"),
            # credentials.yml: redis_url: ${REDIS_URL}; empty: this replica alone.
            redis_url=str(credentials.get("redis_url") or ""),
        )

    def __init__(self, secret: str, redis_url: str = "", **kwargs: Any) -> None:
        # Persistence is what makes a conversation outlive a reload, so it is always on.
        super().__init__(session_persistence=True, **kwargs)
        self.secret = secret
        self.redis_url = redis_url
        self.queue = ConversationQueue()
        self.outbox = Outbox(redis_url)

    def get_output_channel(self) -> OutputChannel | None:
        # How an agent's message reaches the socket (output_channel=latest): once its turn is stored.
        if self.sio is None:
            return super().get_output_channel()
        return HeldOutput(NumberedOutput(self.sio, self.bot_message_evt, self.outbox))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # Rasa's blueprint, with the Redis manager when configured, and our handlers for the two
        # events whose ids Rasa trusts. Rasa's connect handler checks JWTs, which this channel has none of.
        manager = AsyncRedisManager(self.redis_url) if self.redis_url else None
        # cors_allowed_origins=[] as in Rasa: the widget sits on the company's site, another origin.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], client_manager=manager)
        # get_output_channel (output_channel=latest) sends through it.
        self.sio = sio
        webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        if manager is not None:

            @webhook.after_server_start
            async def listen(*_: Any) -> None:
                # python-socketio subscribes to Redis at the first connection, and the answer to that
                # socket's session_request could be published before it has: subscribe at the start.
                sio.manager_initialized = True
                manager.initialize()

        sio.on("session_request", self._session_request(sio), namespace=self.namespace)
        sio.on(self.user_message_evt, self._message_handler(sio, on_new_message), namespace=self.namespace)
        return webhook

    def _session_request(self, sio: AsyncServer) -> Callable[[str, Any], Awaitable[None]]:
        async def session_request(sid: str, data: Any) -> None:
            asked = data.get("session_id") if isinstance(data, dict) else None
            if isinstance(asked, str) and session_ids.is_issued(self.secret, asked):
                session_id, returning = asked, True
            else:
                if asked:
                    logger.info("socket %s named a session id not issued here: a new one is issued", sid)
                session_id, returning = session_ids.issue(self.secret), False
            await sio.save_session(sid, {"session_id": session_id}, namespace=self.namespace)
            sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            last_seq = data.get("last_seq") if isinstance(data, dict) else None
            if isinstance(last_seq, int) and not isinstance(last_seq, bool) and last_seq >= 0:
                self.outbox.follow(session_id)
                # What was sent while this widget was away.
                for missed in self.outbox.since(session_id, last_seq) if returning else ():
                    await sio.emit(self.bot_message_evt, missed, room=sid, namespace=self.namespace)

        return session_request

    def _message_handler(
        self, sio: AsyncServer, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Callable[[str, Any], Awaitable[None]]:
        output = NumberedOutput(sio, self.bot_message_evt, self.outbox)

        async def handle_message(sid: str, data: Any) -> None:
            session_id = (await sio.get_session(sid, namespace=self.namespace)).get("session_id")
            if session_id is None:
                logger.info("socket %s sent a message before session_request: ignored", sid)
                return
            try:
                text, metadata, message_id = socket_message(data, self.metadata_key)
            except Refused as refused:
                if refused.status == 413:
                    await output.send_text_message(session_id, notice("too_long", data["message"]))
                return
            held = HeldOutput(output)
            if message_id is None:
                message = UserMessage(text, held, session_id, input_channel=self.name(), metadata=metadata)
            else:
                message = ClientMessage(
                    text, held, session_id, input_channel=self.name(), metadata=metadata, message_id=message_id
                )
            try:
                with self.queue.slot(session_id):
                    await on_new_message(message)
            except Busy:
                await output.send_text_message(session_id, notice("busy", text))

        return handle_message
