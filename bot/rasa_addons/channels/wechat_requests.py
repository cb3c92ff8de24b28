"""What WeChat posts to the channel, checked and read: the signature, the size, the XML and
its crypto envelope.

In plaintext mode the signature covers the query, not the body, so whoever saw one
signed URL can post any body with it: reading must refuse, never crash. wechatpy
and the standard library only, so the tests' Python reads requests exactly as the
Rasa server does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

__all__ = ["MAX_BODY", "Incoming", "Refused", "read_message", "signed"]

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
# OpenIDs are 28 characters; the bound keeps the de-duplication key inside its 200-character column.
MAX_OPENID = 64


class Refused(Exception):
    """A request to answer with ``status`` and the message."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Incoming:
    """A message as WeChat sent it; ``key`` is the same for its retries and no other message."""

    message: Any  # a wechatpy message or event
    key: str
    encrypted: bool


def signed(token: str, args: Mapping[str, str]) -> bool:
    """Whether the query carries the account token's signature (wechatpy's check)."""
    try:
        check_signature(token, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
    except InvalidSignatureException:
        return False
    return True


def read_message(body: bytes, args: Mapping[str, str], crypto: WeChatCrypto | None) -> Incoming:
    """The message in a signed request's body, decrypted in safe mode; raises :class:`Refused`."""
    if len(body) > MAX_BODY:
        raise Refused(413, "message too large")
    # WeChat never sends a document type; refusing one rules out entity expansion.
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise Refused(400, "malformed message")
    encrypted = args.get("encrypt_type") == "aes"
    if encrypted and crypto is None:
        raise Refused(400, "safe mode needs WECHAT_AES_KEY")
    try:
        xml = body.decode("utf-8")
        if encrypted and crypto is not None:
            xml = crypto.decrypt_message(
                xml, args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", "")
            )
        message = parse_message(xml)
        return Incoming(message, _key(message), encrypted)
    except InvalidSignatureException:
        raise Refused(403, "bad signature") from None
    except InvalidAppIdException:
        raise Refused(403, "message for another account") from None
    except Exception as error:
        # Whatever the XML parser or a field's conversion raised, the message is malformed.
        logger.warning("malformed WeChat message refused: %s", error)
        raise Refused(400, "malformed message") from None


def _key(message: Any) -> str:
    """Checks the fields the channel uses, which wechatpy converts only when read."""
    if not all(isinstance(name, str) and 0 < len(name) <= MAX_OPENID for name in (message.source, message.target)):
        raise ValueError("FromUserName and ToUserName must be short texts")
    if message.type == "text" and not (isinstance(message.content, str) and message.content):
        raise ValueError("a text message without text")
    if message.id:
        if not 0 < message.id < 2**64:
            raise ValueError(f"MsgId out of range: {message.id}")
        return str(message.id)
    # Events have no MsgId: WeChat retries one with the same sender and CreateTime.
    if not isinstance(message.create_time, datetime):
        raise ValueError("an event without a CreateTime")
    return f"{message.source}:{message.create_time}:{message.type}"
