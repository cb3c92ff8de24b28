"""Identity tokens: any value is a subject or an InvalidToken, and only the secret's own tokens verify."""

from __future__ import annotations

import base64
import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from bot.tokens import MAX_TOKEN_LENGTH, InvalidToken, sign_token, verify_token
from tests.fuzz import FUZZ

SECRET = "fuzz-identity-secret-of-32-characters"
NOW = 1_800_000_000
# Strings shaped like tokens, from any alphabet, and values of other types.
TOKENS = (
    st.text(max_size=200)
    | st.builds("{}.{}".format, st.text(max_size=100), st.text(max_size=60))
    | st.none()
    | st.integers()
    | st.binary()
    | st.lists(st.text(max_size=5))
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def verdict(token: object) -> str:
    """The subject, or the refusal; any other exception fails the test."""
    try:
        return verify_token(SECRET, token, now=NOW)
    except InvalidToken as error:
        return f"refused: {error}"


@FUZZ
@given(token=TOKENS)
def test_any_value_is_a_subject_or_refused(token: object):
    assert verdict(token).startswith("refused")


@FUZZ
@given(payload=st.binary(max_size=300))
def test_any_signed_payload_is_a_subject_or_refused(payload: bytes):
    # Signed with the secret itself: past the signature, the claims are parsed.
    encoded = b64(payload)
    mac = b64(hmac.new(SECRET.encode(), encoded.encode(), hashlib.sha256).digest())
    verdict(f"{encoded}.{mac}")


@FUZZ
@given(subject=st.text(max_size=300), kind=st.sampled_from(["customer", "channel"]), ttl=st.integers(-10, 10**6))
def test_a_token_verifies_as_signed_until_it_expires(subject: str, kind: str, ttl: int):
    token = sign_token(SECRET, subject, ttl, kind=kind, now=NOW)
    try:
        assert verify_token(SECRET, token, kind=kind, now=NOW) == subject
        assert len(token) <= MAX_TOKEN_LENGTH and ttl >= 0
    except InvalidToken:
        assert len(token) > MAX_TOKEN_LENGTH or ttl < 0


@FUZZ
@given(subject=st.text(max_size=50), where=st.integers(0), by=st.characters())
def test_a_token_changed_anywhere_is_refused(subject: str, where: int, by: str):
    token = sign_token(SECRET, subject, 3600, now=NOW)
    where %= len(token)
    forged = token[:where] + by + token[where + 1 :]
    if forged != token:
        assert verdict(forged).startswith("refused")
