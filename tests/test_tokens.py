import pytest

from bot.tokens import InvalidToken, sign_token, verify_token

SECRET = "s3cret"
NOW = 1_800_000_000


def test_a_signed_token_names_its_customer():
    token = sign_token(SECRET, "C00042", 3600, now=NOW)
    assert verify_token(SECRET, token, now=NOW + 3599) == "C00042"


def test_an_expired_token_is_refused():
    token = sign_token(SECRET, "C00042", 60, now=NOW)
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(SECRET, token, now=NOW + 61)


def test_a_token_signed_with_another_secret_is_refused():
    token = sign_token("another secret", "C00042", 3600, now=NOW)
    with pytest.raises(InvalidToken, match="bad signature"):
        verify_token(SECRET, token, now=NOW)


def test_a_signature_one_character_off_is_refused():
    token = sign_token(SECRET, "C00042", 3600, now=NOW)
    last = token[-1]
    forged = token[:-1] + ("A" if last != "A" else "B")
    with pytest.raises(InvalidToken, match="bad signature"):
        verify_token(SECRET, forged, now=NOW)


def test_a_payload_rewritten_to_another_customer_is_refused():
    token = sign_token(SECRET, "C00042", 3600, now=NOW)
    other_payload = sign_token(SECRET, "C00001", 3600, now=NOW).split(".")[0]
    forged = other_payload + "." + token.split(".")[1]
    with pytest.raises(InvalidToken, match="bad signature"):
        verify_token(SECRET, forged, now=NOW)


def test_a_channel_token_is_not_a_customer_token():
    token = sign_token(SECRET, "wechat:oABC", 3600, kind="channel", now=NOW)
    with pytest.raises(InvalidToken, match="malformed"):
        verify_token(SECRET, token, now=NOW)
    assert verify_token(SECRET, token, kind="channel", now=NOW) == "wechat:oABC"


@pytest.mark.parametrize(
    "token",
    [None, 42, "", "no-dot", ".", "a.b", "é.x", "x" * 5000, {"sub": "C00042"}, "x.é", "x.\ud800"],
)
def test_garbage_is_refused_as_malformed_or_forged(token):
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token, now=NOW)


def test_a_signature_part_that_is_not_ascii_is_malformed():
    payload = sign_token(SECRET, "C00042", 3600, now=NOW).split(".")[0]
    with pytest.raises(InvalidToken, match="malformed"):
        verify_token(SECRET, f"{payload}.签名", now=NOW)
