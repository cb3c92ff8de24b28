"""The load-and-chaos run's verdict (bench/chaos/checks.py) on conversations written by hand: what it
calls lost, duplicated, out of order and interleaved. Neither Locust nor gevent is imported here."""

from __future__ import annotations

import sys

from bench.chaos import script
from bench.chaos.checks import Findings, check
from bench.chaos.records import Conversation, Ledger, Sent
from bench.chaos.report import chaos_table
from bench.chaos.stores import StoredMessage, TrackerEvent

LISTEN = TrackerEvent("action", action="action_listen")


def _conversation(channel: str = "rest", numbers: tuple[int, ...] = (1, 2, 3), **kwargs: object) -> Conversation:
    conversation = Conversation(channel, f"{channel}-sender", "k1", **kwargs)  # type: ignore[arg-type]
    for n in numbers:
        text = script.numbered(n, script.QUESTIONS[n])
        conversation.sent.append(Sent(n, script.message_id("k1", n), text, attempts=1, answered=True))
    conversation.finished = True
    return conversation


def _turn(sent: Sent, *, message_id: str | None = "same", answer: bool = True) -> list[TrackerEvent]:
    user = TrackerEvent("user", sent.text, sent.message_id if message_id == "same" else message_id)
    return (
        [user, TrackerEvent("action", action="action_answer_faq")]
        + ([TrackerEvent("bot", "an answer")] if answer else [])
        + [LISTEN]
    )


def _verdict(
    conversation: Conversation, events: list[TrackerEvent], stored: list[StoredMessage] | None = None
) -> Findings:
    return check(Ledger([conversation]), {conversation.sender: events}, {conversation.sender: stored or []})


def test_every_message_stored_once_in_order_with_its_answer_is_clean():
    conversation = _conversation()
    findings = _verdict(conversation, [e for s in conversation.sent for e in _turn(s)])
    assert findings.clean
    assert (findings.customers, findings.messages, findings.lost) == (1, 3, 0)


def test_a_message_run_twice_is_duplicated():
    conversation = _conversation()
    first, second, third = conversation.sent
    findings = _verdict(conversation, _turn(first) + _turn(second) + _turn(second) + _turn(third))
    assert findings.duplicated == 1
    assert not findings.clean
    assert any("#2 stored 2 times" in line for line in findings.details)


def test_messages_stored_in_another_order_are_out_of_order():
    conversation = _conversation()
    first, second, third = conversation.sent
    findings = _verdict(conversation, _turn(first) + _turn(third) + _turn(second))
    assert findings.out_of_order == 1
    assert not findings.clean


def test_a_message_given_up_on_or_missing_from_the_tracker_or_unanswered_there_is_lost():
    conversation = _conversation()
    first, second, _ = conversation.sent
    second.answered, second.gave_up = False, True
    findings = _verdict(conversation, _turn(first, answer=False))
    # #1 has no answer in the tracker, #2 was given up on, #3 was answered but never stored.
    assert findings.lost == 3
    assert not findings.clean


def test_a_message_still_in_flight_at_the_end_is_neither_lost_nor_counted():
    conversation = _conversation()
    conversation.sent[-1].answered = False
    findings = _verdict(conversation, [e for s in conversation.sent[:2] for e in _turn(s)])
    assert findings.clean
    assert (findings.messages, findings.unfinished) == (2, 1)


def test_a_turn_that_began_before_the_last_ended_is_interleaved():
    conversation = _conversation(numbers=(1, 2))
    first, second = conversation.sent
    events = [TrackerEvent("user", first.text, first.message_id), TrackerEvent("user", second.text, second.message_id)]
    events += [TrackerEvent("bot", "an answer"), LISTEN, TrackerEvent("bot", "another"), LISTEN]
    findings = _verdict(conversation, events)
    assert findings.interleaved == 1
    assert not findings.clean


def test_wechat_messages_are_known_by_the_number_in_their_text():
    conversation = _conversation("wechat")
    events = [e for s in conversation.sent for e in _turn(s, message_id="a-uuid-rasa-made")]
    assert _verdict(conversation, events).clean
    findings = _verdict(conversation, events + _turn(conversation.sent[0], message_id="another"))
    assert findings.duplicated == 1


def _escalated(received: list[int]) -> tuple[Conversation, list[TrackerEvent], list[StoredMessage]]:
    conversation = _conversation("socketio", numbers=(1,), escalates=True)
    conversation.reached_agent = True
    conversation.agent_numbers = received
    relayed = Sent(2, script.message_id("k1", 2), script.numbered(2, script.RELAYED), answered_by_bot=False)
    relayed.answered = True
    conversation.sent.append(relayed)
    events = _turn(conversation.sent[0]) + [TrackerEvent("user", relayed.text, relayed.message_id), LISTEN]
    stored = [StoredMessage(7, "customer", relayed.text, True)]
    for n in (1, 2, 3):
        events += [
            TrackerEvent("user", "EXTERNAL: handoff_event"),
            TrackerEvent("bot", f"Anna: {script.agent_text(n)}"),
            LISTEN,
        ]
        stored.append(StoredMessage(7, "agent", script.agent_text(n), True))
    return conversation, events, stored


def test_agent_messages_received_once_in_order_are_clean():
    findings = _verdict(*_escalated([1, 2, 3]))
    assert findings.clean
    assert (findings.escalations, findings.reached_agent, findings.agent_messages) == (1, 1, 3)


def test_an_agent_message_shown_twice_missing_or_out_of_order_is_counted():
    assert _verdict(*_escalated([1, 2, 2, 3])).agent_duplicated == 1
    assert _verdict(*_escalated([1, 3])).agent_lost == 1
    assert _verdict(*_escalated([2, 1, 3])).agent_out_of_order == 1
    conversation, events, stored = _escalated([1, 2, 3])
    stored[1] = StoredMessage(7, "agent", stored[1].text, delivered=False)
    assert _verdict(conversation, events, stored).agent_lost == 1


def test_the_table_names_every_figure():
    table = chaos_table(Findings(lost=2, interleaved=1), {"Rasa server": 3}, {"Rasa server": 3})
    assert "| lost | 2 |" in table
    assert "| trackers with interleaved turns | 1 |" in table
    assert "| Rasa server | 3 | 3 |" in table


def test_the_checks_leave_the_standard_library_unpatched():
    assert "gevent" not in sys.modules
    assert "locust" not in sys.modules


def test_agent_messages_a_customer_missed_because_the_run_ended_are_not_counted():
    conversation, events, stored = _escalated([1])
    conversation.finished, conversation.cut_off = False, True
    assert _verdict(conversation, events, stored).clean
