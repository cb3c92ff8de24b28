import pytest

from bot.rasa_addons.nlu.language import detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("我的快递到哪了", "zh"),
        ("where is my parcel", "en"),
        ("我的order还没到", "zh"),
        ("退款refund怎么还没到账？", "zh"),
        ("OK", "en"),
        ("12345", None),
        ("👍", None),
        ("", None),
    ],
)
def test_detects_the_language_customers_write_in(text, language):
    assert detect_language(text) == language
