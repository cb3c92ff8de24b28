from actions.identity import ActionSessionStart
from bot.tokens import sign_token
from tests.actions.conftest import SECRETS, run, tracker
from tests.factories import add_customer


def _session_start(metadata: dict) -> dict:
    state = tracker("s1", slots={"session_started_metadata": metadata})
    _, events = run(ActionSessionStart(), state)
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_the_pages_language_wins_over_the_profiles(db):
    with db.begin() as session:
        add_customer(session, "C1", name="李娜", language="zh", orders=1, spend=100)
    token = sign_token(SECRETS["IDENTITY_SECRET"], "C1", 3600)
    assert _session_start({"token": token, "language": "en"})["language"] == "en"
    assert _session_start({"token": token})["language"] == "zh"
    assert _session_start({"token": token, "language": "fr"})["language"] == "zh"


def test_a_guest_on_a_chinese_page_is_served_in_chinese(db):
    slots = _session_start({"language": "zh"})
    assert slots["language"] == "zh" and slots["customer_id"] is None
