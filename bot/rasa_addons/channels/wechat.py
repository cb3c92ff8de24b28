"""WeChat Official Account, as a Rasa input channel, configured in ``credentials.yml``.

WeChat posts each message to ``/webhooks/wechat/webhook`` signed with the
account's token, in plaintext, compatible or safe (AES) mode, and retries up to
three times when it has no answer within 5 seconds. So:

- every request's signature is checked (wechatpy's), and a bad one is refused
  with 403 before anything else happens;
- each message is taken once, by MsgId (events by sender and CreateTime), in a
  store every Rasa replica shares: the business database, or Redis when
  ``redis_url`` is set. On Redis a replica's claim on a message is renewed while
  its turn runs: a retry that finds a claim nobody renews (its replica died) runs
  the message, or answers it from the conversation if the dead replica had stored
  its turn (``exactly_once.py``); one that finds a live claim answers ``success``,
  and the replica answering it sends the reply through the API;
- the bot's answer goes back in the same response when the turn ends in time and
  gives one message; otherwise the response is ``success`` and the messages go
  through the customer-service message API, as an agent's messages do during a
  handoff. The API's base URL is configuration, and its access token is cached
  (in Redis, shared, when configured).

The user's OpenID is signed as a channel identity for the session start, which
maps it to a customer if it was bound, and to a guest if not.

This module runs inside the Rasa server: it imports only what ``.venv-rasa`` has.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from wechatpy.client import WeChatClient
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply

from bot.rasa_addons.channels.wechat_requests import Refused, read_message, signed
from bot.rasa_addons.exactly_once import ClientMessage, HeldOutput
from bot.tokens import sign_token

logger = logging.getLogger(__name__)

SEEN_SECONDS = 24 * 3600
# A replica's claim on a message it is answering lasts this long, renewed every RENEW_SECONDS
# while its turn runs. A retry finding a claim that is not renewed takes the message over.
CLAIM_SECONDS = 5
RENEW_SECONDS = 1.0
# How long a retry watches a claim for a renewal before taking it over: a few renewals missed.
DEAD_AFTER_SECONDS = 2.5
UNSUPPORTED = (
    "抱歉，目前我只能阅读文字消息，请用文字描述您的问题。\n"
    "Sorry, I can only read text messages for now: please type your question."
)


@dataclass(frozen=True)
class WeChatConfig:
    """The channel's section of credentials.yml, whose values Rasa reads from the environment
    (WECHAT_*, IDENTITY_SECRET, DATABASE_URL, REDIS_URL) that ``bot run`` passes it."""

    token: str  # empty: the channel is off
    app_id: str = ""
    app_secret: str = ""
    aes_key: str = ""  # empty: plaintext and compatible mode only
    api_url: str = ""
    reply_seconds: float = 0.0
    identity_secret: str = ""
    database_url: str = ""
    redis_url: str = ""  # empty: the business database keeps what was seen, and no token cache

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatConfig:
        credentials = credentials or {}

        def value(key: str, *, required: bool = True) -> str:
            found = str(credentials.get(key) or "").strip()
            if required and not found:
                raise RasaException(f"WeChatInput in credentials.yml needs {key}")
            return found

        token = value("token", required=False)
        if not token:
            return cls(token="")
        redis_url = value("redis_url", required=False)
        try:
            reply_seconds = float(value("reply_seconds"))
        except ValueError:
            raise RasaException("WeChatInput in credentials.yml: reply_seconds must be a number") from None
        return cls(
            token=token,
            app_id=value("app_id", required=False),
            app_secret=value("app_secret", required=False),
            aes_key=value("aes_key", required=False),
            api_url=value("api_url").rstrip("/"),
            reply_seconds=reply_seconds,
            identity_secret=value("identity_secret"),
            database_url=value("database_url", required=not redis_url),
            redis_url=redis_url,
        )


class SeenStore:
    """Which platform messages were taken already, shared by every replica.

    On Redis a message is claimed for CLAIM_SECONDS, renewed while its turn runs and kept
    for SEEN_SECONDS once it ends. WeChat retries a message only when it got no answer in
    time: a retry that finds the message answered (the answer was lost with its replica)
    answers it again from the conversation; one that finds a claim renewed leaves it to
    the live replica answering it; one that finds a claim nobody renews (its replica died)
    takes it over, and the message is run, or answered from the conversation if the dead
    replica had stored its turn. In the business database (one Rasa server) a claim is
    kept at once.
    """

    def __init__(self, config: WeChatConfig) -> None:
        self._redis = None
        if config.redis_url:
            import redis

            self._redis = redis.Redis.from_url(config.redis_url)
        else:
            # SQLAlchemy Core with plain SQL: this runs on Rasa's SQLAlchemy 1.4.
            self._engine = create_engine(
                config.database_url, pool_pre_ping=True, connect_args=_connect_args(config.database_url)
            )

    async def claim(self, key: str) -> bool:
        """True if the message is ours to answer: nobody took it, or whoever did died meanwhile."""
        if self._redis is None:
            return self._insert(key)
        name = f"wechat:seen:{key}"
        if self._redis.set(name, 1, nx=True, ex=CLAIM_SECONDS):
            return True
        # Taken: by a replica answering it (which renews its claim), by one that answered it
        # (kept for a day), or by one that died (its claim runs down).
        last, left, watched = None, self._redis.pttl(name), 0.0
        while True:
            if left == -2:  # it ran out, or its turn failed: free
                return bool(self._redis.set(name, 1, nx=True, ex=CLAIM_SECONDS))
            if left > CLAIM_SECONDS * 1000:
                # Answered; yet WeChat retries only what it got no answer to: answer it again, from the conversation.
                return True
            if last is not None and left > last:
                # Renewed: a live replica is answering it, and sends its reply through the API.
                return False
            if watched >= DEAD_AFTER_SECONDS:
                break
            await asyncio.sleep(RENEW_SECONDS / 4)
            watched += RENEW_SECONDS / 4
            last, left = left, self._redis.pttl(name)
        logger.warning("WeChat message %s: its replica stopped answering it; taken over", key)
        self._redis.set(name, 1, ex=CLAIM_SECONDS)
        return True

    def _insert(self, key: str) -> bool:
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    text("INSERT INTO channel_messages_seen (key, seen_at) VALUES (:key, CURRENT_TIMESTAMP)"),
                    {"key": key},
                )
        except IntegrityError:
            return False
        return True

    async def hold(self, key: str, turn: asyncio.Future) -> None:
        """Keeps our claim while ``turn`` runs; afterwards keeps the message as taken, or frees it if the turn failed."""
        if self._redis is None:
            return
        name = f"wechat:seen:{key}"
        while not turn.done():
            await asyncio.wait([turn], timeout=RENEW_SECONDS)
            self._redis.expire(name, CLAIM_SECONDS)
        if turn.cancelled() or turn.exception() is not None:
            self._redis.delete(name)
        else:
            self._redis.expire(name, SEEN_SECONDS)


def _connect_args(url: str) -> dict[str, Any]:
    # SQLite: wait for the action server's writes instead of failing at once.
    return {"timeout": 10} if url.startswith("sqlite") else {}


class _Client(WeChatClient):
    """wechatpy's API client, pointed at the configured base URL (a stand-in, in tests)."""

    def __init__(self, config: WeChatConfig, session: Any) -> None:
        super().__init__(config.app_id, config.app_secret, session=session, timeout=10)
        self.API_BASE_URL = f"{config.api_url}/cgi-bin/"

    def fetch_access_token(self) -> dict:
        return self._fetch_access_token(
            url=f"{self.API_BASE_URL}token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


def _client(config: WeChatConfig) -> _Client:
    session = None
    if config.redis_url:
        import redis
        from wechatpy.session.redisstorage import RedisStorage

        session = RedisStorage(redis.Redis.from_url(config.redis_url), prefix="wechat")
    return _Client(config, session)


def _render(message: dict[str, Any]) -> str:
    """A bot message as WeChat text: buttons become the lines to reply with."""
    lines = [message.get("text") or ""]
    lines += [f"· {button.get('title')}" for button in message.get("buttons") or []]
    return "\n".join(line for line in lines if line)


class WeChatOutput(OutputChannel):
    """Messages sent through the customer-service message API (after the reply window)."""

    @classmethod
    def name(cls) -> str:
        return "wechat"

    def __init__(self, client: _Client) -> None:
        self.client = client

    async def _send(self, recipient_id: str, content: str) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.client.message.send_text, recipient_id, content)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(recipient_id, text)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict], **kwargs: Any) -> None:
        await self._send(recipient_id, _render({"text": text, "buttons": buttons}))


class WeChatInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatInput:
        return cls(WeChatConfig.from_credentials(credentials))

    def __init__(self, config: WeChatConfig) -> None:
        self.config = config
        self.enabled = bool(config.token)
        self.crypto = WeChatCrypto(config.token, config.aes_key, config.app_id) if config.aes_key else None
        self.seen = SeenStore(config) if self.enabled else None
        self.claims: set[asyncio.Future] = set()
        self.client = _client(config) if self.enabled else None

    def get_output_channel(self) -> OutputChannel | None:
        # How an agent's message reaches the customer (output_channel=latest): once its turn is stored.
        return HeldOutput(WeChatOutput(self.client)) if self.client is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("wechat_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "not configured"})

        @hook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if not self.enabled:
                return response.text("WeChat is not configured", status=503)
            if not signed(self.config.token, request.args):
                return response.text("bad signature", status=403)
            return response.text(request.args.get("echostr", ""))

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.enabled:
                return response.text("WeChat is not configured", status=503)
            return await self._receive(request, on_new_message)

        return hook

    async def _receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        # receive() answers 503 while WeChat is off, when these are None.
        assert self.seen is not None and self.client is not None
        if not signed(self.config.token, request.args):
            logger.warning("WeChat message with a bad signature refused")
            return response.text("bad signature", status=403)
        try:
            incoming = read_message(request.body or b"", request.args, self.crypto)
        except Refused as refusal:
            return response.text(str(refusal), status=refusal.status)
        message, encrypted, nonce = incoming.message, incoming.encrypted, request.args.get("nonce", "")
        seen_key = f"{self.config.app_id}:{incoming.key}"
        if not await self.seen.claim(seen_key):
            return response.text("success")

        if message.type == "text":
            said = message.content
        elif message.type == "event" and getattr(message, "event", "") == "subscribe":
            said = "/greet"
        elif message.type == "event":
            return response.text("success")
        else:
            return self._reply(message, UNSUPPORTED, encrypted, nonce)

        collector = CollectingOutputChannel()
        channel_token = sign_token(self.config.identity_secret, f"wechat:{message.source}", 300, kind="channel")
        # Answered from the conversation if a replica that died had answered it.
        user = ClientMessage(
            said,
            collector,
            message.source,
            input_channel=self.name(),
            metadata={"channel_token": channel_token},
            message_id=f"wechat:{incoming.key}",
        )
        turn = asyncio.ensure_future(on_new_message(user))
        # A task the loop only holds weakly: kept here until it ends.
        holding = asyncio.ensure_future(self.seen.hold(seen_key, turn))
        self.claims.add(holding)
        holding.add_done_callback(self.claims.discard)
        try:
            await asyncio.wait_for(asyncio.shield(turn), timeout=self.config.reply_seconds)
        except asyncio.TimeoutError:
            client = self.client
            turn.add_done_callback(lambda _: asyncio.ensure_future(_send_later(client, message.source, collector)))
            return response.text("success")
        if len(collector.messages) == 1:
            return self._reply(message, _render(collector.messages[0]), encrypted, nonce)
        await _send_later(self.client, message.source, collector)
        return response.text("success")

    def _reply(self, message: Any, content: str, encrypted: bool, nonce: str) -> HTTPResponse:
        xml = TextReply(content=content, message=message).render()
        if encrypted and self.crypto is not None:  # read_message refuses safe mode without a key
            xml = self.crypto.encrypt_message(xml, nonce, str(int(time.time())))
        return response.text(xml, content_type="application/xml")


async def _send_later(client: _Client, openid: str, collector: CollectingOutputChannel) -> None:
    output = WeChatOutput(client)
    for sent in collector.messages:
        try:
            await output._send(openid, _render(sent))
        except Exception:
            logger.exception("WeChat customer-service message to %s failed", openid)
