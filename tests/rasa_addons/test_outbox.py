"""The widget channel's outbox, in one process (no Redis): numbers each conversation's messages
and gives back those after a number."""

from bot.rasa_addons.channels.outbox import KEPT_MESSAGES, Outbox


def followed(*conversations: str) -> Outbox:
    outbox = Outbox()
    for conversation in conversations:
        outbox.follow(conversation)
    return outbox


def test_each_conversation_that_asked_numbers_its_messages_from_one():
    outbox = followed("a", "b")
    assert outbox.add("a", {"text": "hello"}) == {"text": "hello", "seq": 1}
    assert outbox.add("a", {"text": "again"})["seq"] == 2
    assert outbox.add("b", {"text": "other"})["seq"] == 1
    outbox.follow("a")  # a widget asking again changes nothing
    assert outbox.add("a", {"text": "third"})["seq"] == 3


def test_a_conversation_that_did_not_ask_gets_messages_as_they_are():
    outbox = Outbox()
    assert outbox.add("c", {"text": "hello"}) == {"text": "hello"}
    assert outbox.since("c", 0) == []


def test_a_widget_gets_what_came_after_the_last_number_it_has():
    outbox = followed("a")
    for n in range(5):
        outbox.add("a", {"text": f"m{n}"})
    assert [m["text"] for m in outbox.since("a", 3)] == ["m3", "m4"]
    assert outbox.since("a", 5) == [] and outbox.since("unknown", 0) == []


def test_only_the_latest_messages_are_kept():
    outbox = followed("a")
    for n in range(KEPT_MESSAGES + 10):
        outbox.add("a", {"text": f"m{n}"})
    kept = outbox.since("a", 0)
    assert len(kept) == KEPT_MESSAGES and kept[0]["seq"] == 11
