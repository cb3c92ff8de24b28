"""A repeated message answered from the conversation, and replies held until their turn is stored
(bot/rasa_addons/exactly_once.py), run in the Rasa server's environment."""

from __future__ import annotations

import json

import pytest

from tests.rasa_addons.rasa_python import run_in_rasa

# A conversation of two turns in Rasa's in-memory store, and a stand-in for Rasa's own handling
# of a message: it replies "ran: <text>", then fails if the text says so.
SCRIPT = """
import asyncio, json
from types import SimpleNamespace
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from bot.rasa_addons.exactly_once import ClientMessage, HeldOutput, _answering_repeats

async def main():
    store = InMemoryTrackerStore(Domain.empty())
    events = [
        ActionExecuted("action_listen"),
        UserUttered("hi", message_id="first"), BotUttered("hello"), BotUttered("how can I help?"),
        ActionExecuted("action_listen"),
        UserUttered("bye", message_id="second"), BotUttered("see you"),
        ActionExecuted("action_listen"),
    ]
    await store.save(DialogueStateTracker.from_events("s1", events))
    ran = []

    async def rasa_handles(processor, message):
        ran.append(message.text)
        await message.output_channel.send_response(message.sender_id, {"text": "ran: " + message.text})
        if "fail" in message.text:
            raise RuntimeError("the turn failed before it was stored")
        return None

    handle = _answering_repeats(rasa_handles)
    processor = SimpleNamespace(tracker_store=store)
    found = {}

    async def answer(name, message):
        try:
            await handle(processor, message)
        except RuntimeError:
            pass
        channel = message.output_channel
        found[name] = [m["text"] for m in (channel.channel if isinstance(channel, HeldOutput) else channel).messages]

    collect = CollectingOutputChannel
    await answer("repeat of the first", ClientMessage("hi", collect(), "s1", message_id="first"))
    await answer("repeat of the second", ClientMessage("bye", collect(), "s1", message_id="second"))
    await answer("new id", ClientMessage("hi again", collect(), "s1", message_id="third"))
    await answer("id of another conversation", ClientMessage("hi", collect(), "s2", message_id="first"))
    await answer("no id", UserMessage("hi", collect(), "s1", message_id="first"))
    await answer("held, stored", UserMessage("stored", HeldOutput(collect()), "s1"))
    await answer("held, failed", ClientMessage("fail", HeldOutput(collect()), "s1", message_id="fourth"))
    await answer("held, repeated", ClientMessage("bye", HeldOutput(collect()), "s1", message_id="second"))
    print(json.dumps({"found": found, "ran": ran}))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def result() -> dict:
    run = run_in_rasa(SCRIPT)
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_a_repeated_message_gets_the_replies_stored_after_it_and_does_not_run(result):
    assert result["found"]["repeat of the first"] == ["hello", "how can I help?"]
    assert result["found"]["repeat of the second"] == ["see you"]
    assert "bye" not in result["ran"]


def test_a_new_id_an_id_of_another_conversation_or_no_client_id_runs(result):
    assert result["found"]["new id"] == ["ran: hi again"]
    assert result["found"]["id of another conversation"] == ["ran: hi"]
    # Rasa gives every message an id of its own; only a client's id marks a repeat.
    assert result["found"]["no id"] == ["ran: hi"]


def test_held_replies_leave_once_the_turn_is_stored_and_never_if_it_fails(result):
    assert result["found"]["held, stored"] == ["ran: stored"]
    assert result["found"]["held, failed"] == []
    assert result["found"]["held, repeated"] == ["see you"]
    assert "fail" in result["ran"]
