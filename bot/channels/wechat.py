"""WeChat Official Account, as a Rasa input channel (``credentials.yml``).

WeChat posts each message to ``/webhooks/wechat/webhook`` signed with the
account's token, in plaintext, compatible or safe (AES) mode, and retries up to
three times when it has no answer within 5 seconds. So:

- every request's signature is checked (wechatpy's), and a bad one is refused
  with 403 before anything else happens;
- each message is taken once, by MsgId (events by sender and CreateTime), in a
  store every Rasa replica shares: the business database, or Redis when
  REDIS_URL is set;
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
from typing import Any

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from wechatpy.client import WeChatClient
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply

from bot.channels.wechat_requests import Refused, read_message, signed
from bot.identity import sign_token
from bot.settings import Settings, load_settings

logger = logging.getLogger(__name__)

SEEN_SECONDS = 24 * 3600
UNSUPPORTED = "抱歉，目前我只能阅读文字消息，请用文字描述您的问题。\nSorry, I can only read text messages for now: please type your question."


class SeenStore:
    """Which platform messages were taken already, shared by every replica."""

    def __init__(self, settings: Settings) -> None:
        self._redis = None
        if settings.redis_url:
            import redis

            self._redis = redis.Redis.from_url(settings.redis_url)
        else:
            # SQLAlchemy Core with plain SQL: this runs on Rasa's SQLAlchemy 1.4.
            self._engine = create_engine(settings.database_url, pool_pre_ping=True, connect_args=_connect_args(settings.database_url))

    def first_time(self, key: str) -> bool:
        if self._redis is not None:
            return bool(self._redis.set(f"wechat:seen:{key}", 1, nx=True, ex=SEEN_SECONDS))
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    text("INSERT INTO channel_messages_seen (key, seen_at) VALUES (:key, CURRENT_TIMESTAMP)"), {"key": key}
                )
        except IntegrityError:
            return False
        return True


def _connect_args(url: str) -> dict[str, Any]:
    # SQLite: wait for the action server's writes instead of failing at once.
    return {"timeout": 10} if url.startswith("sqlite") else {}


class _Client(WeChatClient):
    """wechatpy's API client, pointed at the configured base URL (a stand-in, in tests)."""

    def __init__(self, settings: Settings, session: Any) -> None:
        super().__init__(settings.wechat_app_id, settings.wechat_app_secret, session=session, timeout=10)
        self.API_BASE_URL = f"{settings.wechat_api_url}/cgi-bin/"

    def fetch_access_token(self) -> dict:
        return self._fetch_access_token(
            url=f"{self.API_BASE_URL}token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


def _client(settings: Settings) -> _Client:
    session = None
    if settings.redis_url:
        import redis
        from wechatpy.session.redisstorage import RedisStorage

        session = RedisStorage(redis.Redis.from_url(settings.redis_url), prefix="wechat")
    return _Client(settings, session)


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
        # Everything comes from bot/settings.py, the product's one place for configuration.
        return cls(load_settings())

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.enabled = bool(settings.wechat_token)
        self.crypto = (
            WeChatCrypto(settings.wechat_token, settings.wechat_aes_key, settings.wechat_app_id)
            if settings.wechat_aes_key
            else None
        )
        self.seen = SeenStore(settings) if self.enabled else None
        self.client = _client(settings) if self.enabled else None

    def get_output_channel(self) -> OutputChannel | None:
        return WeChatOutput(self.client) if self.client is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("wechat_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "not configured"})

        @hook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if not self.enabled:
                return response.text("WeChat is not configured", status=503)
            if not signed(self.settings.wechat_token, request.args):
                return response.text("bad signature", status=403)
            return response.text(request.args.get("echostr", ""))

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.enabled:
                return response.text("WeChat is not configured", status=503)
            return await self._receive(request, on_new_message)

        return hook

    async def _receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        if not signed(self.settings.wechat_token, request.args):
            logger.warning("WeChat message with a bad signature refused")
            return response.text("bad signature", status=403)
        try:
            incoming = read_message(request.body or b"", request.args, self.crypto)
        except Refused as refusal:
            return response.text(str(refusal), status=refusal.status)
        message, encrypted, nonce = incoming.message, incoming.encrypted, request.args.get("nonce", "")
        if not self.seen.first_time(f"{self.settings.wechat_app_id}:{incoming.key}"):
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
        user = UserMessage(
            said,
            collector,
            message.source,
            input_channel=self.name(),
            metadata={"channel_token": sign_token(self.settings.identity_secret, f"wechat:{message.source}", 300, kind="channel")},
        )
        turn = asyncio.ensure_future(on_new_message(user))
        try:
            await asyncio.wait_for(asyncio.shield(turn), timeout=self.settings.wechat_reply_seconds)
        except asyncio.TimeoutError:
            turn.add_done_callback(lambda _: asyncio.ensure_future(self._send_later(message.source, collector)))
            return response.text("success")
        if len(collector.messages) == 1:
            return self._reply(message, _render(collector.messages[0]), encrypted, nonce)
        await self._send_later(message.source, collector)
        return response.text("success")

    def _reply(self, message: Any, content: str, encrypted: bool, nonce: str) -> HTTPResponse:
        xml = TextReply(content=content, message=message).render()
        if encrypted:
            xml = self.crypto.encrypt_message(xml, nonce, str(int(time.time())))
        return response.text(xml, content_type="application/xml")

    async def _send_later(self, openid: str, collector: CollectingOutputChannel) -> None:
        output = WeChatOutput(self.client)
        for sent in collector.messages:
            try:
                await output._send(openid, _render(sent))
            except Exception:  # noqa: BLE001
                logger.exception("WeChat customer-service message to %s failed", openid)
