"""Conversation ids for the web widget, issued and signed by the Rasa server.

Rasa's socket.io channel takes whatever session id a client names, so anyone
who knew a conversation's id could join it: read its replies and ask for its
customer's tickets. An id here is a random part and an HMAC over it, so only
ids this server issued verify; rasa-webchat keeps the id across reloads as it
keeps any. The HMAC covers the channel's name, so no other channel's
conversation id (a REST sender, a WeChat OpenID) can be named from the widget.

Standard library only: the Rasa server loads it, and the tests import it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["is_issued", "issue"]

_PURPOSE = b"socketio-session:"
_RANDOM_HEX = 32
_MAC_HEX = 32


def _mac(secret: str, random_part: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), _PURPOSE + random_part.encode("ascii"), hashlib.sha256)
    return digest.hexdigest()[:_MAC_HEX]


def issue(secret: str) -> str:
    """A new conversation id, unguessable and signed."""
    random_part = secrets.token_hex(_RANDOM_HEX // 2)
    return f"{random_part}{_mac(secret, random_part)}"


def is_issued(secret: str, value: object) -> bool:
    """Whether ``value`` is an id :func:`issue` made with this secret."""
    if not isinstance(value, str) or len(value) != _RANDOM_HEX + _MAC_HEX or not value.isascii():
        return False
    random_part, mac = value[:_RANDOM_HEX], value[_RANDOM_HEX:]
    return hmac.compare_digest(mac, _mac(secret, random_part))
