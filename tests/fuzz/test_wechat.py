"""WeChat requests: any query and any body, plain or in its crypto envelope, are read or refused, never a crash."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from bot.rasa_addons.channels.wechat_requests import MAX_OPENID, Incoming, Refused, read_message, signed
from tests.fuzz import FUZZ

TOKEN, APP_ID, AES_KEY = "fuzz-wechat-token", "wx0123456789abcdef", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CRYPTO = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
# The de-duplication key is stored as "<app id>:<key>" in a column of 200 characters.
MAX_KEY = 200 - len(APP_ID) - 1

FIELDS = ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event", "EventKey", "Encrypt"]
# XML-safe text: what a parser would refuse is the binary fuzz's business.
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)
VALUES = st.sampled_from(["text", "event", "subscribe", "image", "0", "-1", str(2**64), "1700000000", "oABC"]) | TEXT
NAMES = st.sampled_from(FIELDS) | st.from_regex(r"[A-Za-z]{1,8}", fullmatch=True)
ELEMENT = st.tuples(NAMES, VALUES | st.just("<a>1</a>"))


def xml(elements: list[tuple[str, str]]) -> str:
    inner = "".join(f"<{name}>{value if value.startswith('<') else escape(value)}</{name}>" for name, value in elements)
    return f"<xml>{inner}</xml>"


def query(**extra: str) -> dict[str, str]:
    signer = WeChatSigner()
    signer.add_data(TOKEN, "1700000000", "nonce1")
    return {"signature": signer.signature, "timestamp": "1700000000", "nonce": "nonce1", **extra}


def envelope(plain: str, app_id: str = APP_ID) -> tuple[bytes, dict[str, str]]:
    """``plain`` in safe mode's envelope, as the account ``app_id`` sends it, and its query."""
    body = WeChatCrypto(TOKEN, AES_KEY, app_id).encrypt_message(plain, "nonce1", "1700000000")
    signature = re.search(r"<MsgSignature><!\[CDATA\[(\w+)\]\]>", body).group(1)
    return body.encode(), query(encrypt_type="aes", msg_signature=signature)


def read_or_refuse(body: bytes, args: dict[str, str]) -> None:
    """A message comes out with the fields the channel uses in shape, or a refusal with its status."""
    try:
        incoming = read_message(body, args, CRYPTO)
    except Refused as refusal:
        assert refusal.status in {400, 403, 413} and str(refusal)
        return
    assert isinstance(incoming, Incoming) and 0 < len(incoming.key) <= MAX_KEY
    message = incoming.message
    assert isinstance(message.source, str) and 0 < len(message.source) <= MAX_OPENID
    assert message.type != "text" or isinstance(message.content, str)


@FUZZ
@given(args=st.dictionaries(st.sampled_from(["signature", "timestamp", "nonce", "echostr"]), st.text(max_size=50)))
def test_any_query_is_signed_or_not(args: dict[str, str]):
    assert signed(TOKEN, args) in {True, False}
    assert signed(TOKEN, query()) is True


@FUZZ
@given(body=st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_body_is_read_or_refused(body: bytes):
    read_or_refuse(body, query())


@FUZZ
@given(elements=st.lists(ELEMENT, max_size=8))
def test_any_message_fields_are_read_or_refused(elements: list[tuple[str, str]]):
    read_or_refuse(xml(elements).encode(), query())


@FUZZ
@given(elements=st.lists(ELEMENT, max_size=8), app_id=st.sampled_from([APP_ID, "wx_another_account"]))
def test_any_message_in_a_signed_envelope_is_read_or_refused(elements: list[tuple[str, str]], app_id: str):
    read_or_refuse(*envelope(xml(elements), app_id))


@FUZZ
@given(encrypt=TEXT | st.binary(max_size=64).map(bytes.hex), signature=st.text(max_size=40))
def test_any_envelope_is_refused_or_read(encrypt: str, signature: str):
    body = xml([("ToUserName", "gh"), ("Encrypt", encrypt)]).encode()
    read_or_refuse(body, query(encrypt_type="aes", msg_signature=signature))


TEXT_MESSAGE = [("ToUserName", "gh_shop"), ("FromUserName", "oABC"), ("CreateTime", "1700000000"), ("MsgType", "text")]
SUBSCRIBE = [("MsgType", "event"), ("Event", "subscribe")]


@pytest.mark.parametrize(
    "elements",
    [
        TEXT_MESSAGE + [("Content", "hi"), ("MsgId", "not-a-number")],
        TEXT_MESSAGE + [("Content", "hi"), ("MsgId", str(2**64))],
        TEXT_MESSAGE + [("Content", "<a>nested</a>"), ("MsgId", "1")],
        TEXT_MESSAGE + [("MsgId", "1")],
        [("ToUserName", "gh_shop"), ("FromUserName", "o" * 65), ("CreateTime", "1"), *SUBSCRIBE],
        [("ToUserName", "gh_shop"), ("FromUserName", "oABC"), ("CreateTime", "soon"), *SUBSCRIBE],
    ],
)
def test_fields_that_once_crashed_the_channel_are_a_malformed_message(elements: list[tuple[str, str]]):
    with pytest.raises(Refused, match="malformed message") as refusal:
        read_message(xml(elements).encode(), query(), CRYPTO)
    assert refusal.value.status == 400


def test_a_well_formed_message_and_event_are_read_with_their_keys():
    message = read_message(xml(TEXT_MESSAGE + [("Content", "你好"), ("MsgId", "42")]).encode(), query(), CRYPTO)
    assert (message.message.content, message.key, message.encrypted) == ("你好", "42", False)
    event = read_message(xml(TEXT_MESSAGE[:3] + SUBSCRIBE).encode(), query(), CRYPTO)
    assert event.message.event == "subscribe" and event.key == "oABC:2023-11-15 06:13:20+08:00:event"


def test_safe_mode_reads_its_own_accounts_envelope_and_refuses_another():
    plain = xml(TEXT_MESSAGE + [("Content", "hi"), ("MsgId", "7")])
    assert read_message(*envelope(plain), CRYPTO).encrypted
    with pytest.raises(Refused, match="another account"):
        read_message(*envelope(plain, "wx_another_account"), CRYPTO)
