"""Rasa's REST channel, for a company's own servers: every request carries REST_TOKEN.

Rasa's ``rest`` channel takes any sender id from anyone, so whoever knows a
conversation's id could write into it and read the answers (a signed-in
customer's tickets included), and it lets the caller name the input channel.
This one answers 401 without ``Authorization: Bearer <REST_TOKEN>``, 403 while
REST_TOKEN is unset (the channel is off), and always records its messages as
``rest``. Customers' browsers use the socket.io channel instead.

This module runs inside the Rasa server: it imports only what ``.venv-rasa`` has.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import Settings, load_settings

__all__ = ["TokenRestInput"]


class TokenRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        # The same URL as Rasa's channel: /webhooks/rest/webhook.
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TokenRestInput:
        # Everything comes from bot/settings.py, the product's one place for configuration.
        return cls(load_settings())

    def __init__(self, settings: Settings) -> None:
        self.token = settings.rest_token

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.on_request
        async def authenticate(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None  # the health check
            if not self.token:
                return response.json({"error": "the REST channel is off: set REST_TOKEN"}, status=403)
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), self.token.encode()):
                return response.json({"error": "missing or wrong REST token"}, status=401)
            return None

        return webhook
