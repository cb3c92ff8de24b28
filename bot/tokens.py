"""Signed identity tokens: HMAC-SHA256 over a subject and an expiry.

A site signs a customer token for its chat widget; our own channels sign the
platform user they verified. Standard library only: the one module of ours that
both sides share, the Rasa server's channels (bot/rasa_addons) and the rest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

__all__ = ["MAX_TOKEN_LENGTH", "InvalidToken", "sign_token", "verify_token"]

MAX_TOKEN_LENGTH = 1024


class InvalidToken(Exception):
    """The token is malformed, forged, of the wrong kind or expired; the message says which."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), payload.encode("ascii"), hashlib.sha256).digest()
    return _b64encode(digest)


def sign_token(secret: str, subject: str, ttl_seconds: int, *, kind: str = "customer", now: float | None = None) -> str:
    """A token naming ``subject`` (a customer id, say) that expires after ``ttl_seconds``."""
    issued = int(time.time() if now is None else now)
    claims = {"kind": kind, "sub": subject, "exp": issued + ttl_seconds}
    payload = _b64encode(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
    return f"{payload}.{_mac(secret, payload)}"


def verify_token(secret: str, token: object, *, kind: str = "customer", now: float | None = None) -> str:
    """The subject of a valid, unexpired token of ``kind``; raises :class:`InvalidToken`."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
        raise InvalidToken("malformed token")
    payload, dot, mac = token.partition(".")
    # ASCII only: compare_digest refuses other strings with a TypeError, not a verdict.
    if not dot or not token.isascii():
        raise InvalidToken("malformed token")
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise InvalidToken("bad signature")
    try:
        claims = json.loads(_b64decode(payload))
        subject, expires, token_kind = claims["sub"], claims["exp"], claims["kind"]
    except (ValueError, TypeError, KeyError):
        raise InvalidToken("malformed token") from None
    if token_kind != kind or not isinstance(subject, str) or not isinstance(expires, int):
        raise InvalidToken("malformed token")
    if expires < (time.time() if now is None else now):
        raise InvalidToken("expired token")
    return subject
