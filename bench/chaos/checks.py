"""The run's verdict: the clients' records against what the tracker store and the database kept.

A customer's message is identified in the tracker by its ``message_id``; a WeChat message,
whose id is WeChat's ``MsgId`` (not kept by Rasa), by the number its text carries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bench.chaos import script
from bench.chaos.records import Conversation, Ledger
from bench.chaos.stores import StoredMessage, TrackerEvent

__all__ = ["Findings", "check"]


@dataclass
class Findings:
    customers: int = 0
    messages: int = 0  # customer messages the clients finished with: answered, or given up on
    unfinished: int = 0  # in flight when the run stopped: neither answered nor given up
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    escalations: int = 0
    reached_agent: int = 0
    agent_messages: int = 0
    agent_lost: int = 0
    agent_duplicated: int = 0
    agent_out_of_order: int = 0
    wechat_retries: int = 0
    retried: dict[str, int] = field(default_factory=dict)  # requests sent again after a failure, by channel
    unconnected: int = 0  # socket.io customers who never got a connection, so sent nothing
    interleaved: int = 0
    details: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        counts = (self.lost, self.duplicated, self.out_of_order, self.interleaved)
        return not any(counts) and not any((self.agent_lost, self.agent_duplicated, self.agent_out_of_order))


def _inversions(numbers: Sequence[int]) -> int:
    """How many items come after a higher one: 0 when in order."""
    return sum(1 for i in range(1, len(numbers)) if numbers[i] < max(numbers[:i]))


def _interleaves(events: Sequence[TrackerEvent]) -> bool:
    """Two user events with no ``action_listen`` between them: a turn began before the last had ended."""
    listening = True
    for event in events:
        if event.kind == "user":
            if not listening:
                return True
            listening = False
        elif event.kind == "action" and event.action == "action_listen":
            listening = True
    return False


def _ours(conversation: Conversation, event: TrackerEvent) -> int | None:
    """The number of the conversation's message that ``event`` stores, if it is one of ours."""
    for sent in conversation.sent:
        if event.message_id == sent.message_id:
            return sent.number
    # WeChat's MsgId is not kept in the tracker; the number in the text is.
    number = script.number_of(event.text)
    return number if conversation.channel == "wechat" else None


def _check_turns(conversation: Conversation, events: Sequence[TrackerEvent], findings: Findings) -> None:
    user_turns = [(i, _ours(conversation, e)) for i, e in enumerate(events) if e.kind == "user"]
    stored = [number for _, number in user_turns if number is not None]
    copies = Counter(stored)
    by_number = {sent.number: sent for sent in conversation.sent}
    who = f"{conversation.channel} {conversation.sender}"
    for sent in conversation.sent:
        if sent.gave_up:
            findings.lost += 1
            note = f": {sent.note}" if sent.note else ""
            findings.details.append(f"{who}: #{sent.number} unanswered after {sent.attempts} tries{note}")
        elif sent.answered and copies[sent.number] == 0:
            findings.lost += 1
            findings.details.append(f"{who}: #{sent.number} answered, but not in the tracker")
        if copies[sent.number] > 1:
            findings.duplicated += 1
            findings.details.append(f"{who}: #{sent.number} stored {copies[sent.number]} times")
    firsts = list(dict.fromkeys(stored))
    if _inversions(firsts):
        findings.out_of_order += _inversions(firsts)
        findings.details.append(f"{who}: stored in the order {firsts}")
    # Each bot turn of ours has the bot's answer before the next user event.
    for position, (index, number) in enumerate(user_turns):
        turn = by_number.get(number) if number is not None else None
        if turn is None or not turn.answered_by_bot or not turn.answered:
            continue
        end = user_turns[position + 1][0] if position + 1 < len(user_turns) else len(events)
        if not any(e.kind == "bot" for e in events[index:end]):
            findings.lost += 1
            findings.details.append(f"{who}: #{number} has no answer in the tracker")


def _check_agent(
    conversation: Conversation,
    events: Sequence[TrackerEvent],
    stored: Sequence[StoredMessage],
    findings: Findings,
) -> None:
    who = f"{conversation.channel} {conversation.sender}"
    agent_texts = [m for m in stored if m.author == "agent"]
    findings.agent_messages += len(agent_texts)
    numbers = [int(found.group(1)) for m in agent_texts if (found := script.AGENT_NUMBER.search(m.text))]
    for m in agent_texts:
        if not m.delivered:
            findings.agent_lost += 1
            findings.details.append(f"{who}: the agent's {m.text[:4]!r} is not marked delivered")
    if len(set(numbers)) != len(numbers):
        findings.agent_duplicated += len(numbers) - len(set(numbers))
        findings.details.append(f"{who}: the agent's messages were stored as {numbers}")
    shown = [int(found.group(1)) for e in events if e.kind == "bot" and (found := script.AGENT_NUMBER.search(e.text))]
    received = conversation.agent_numbers
    for seen, where in ((shown, "the tracker"), (received, "the customer's widget")):
        if where == "the customer's widget" and conversation.cut_off:
            continue  # the run ended while the customer was still there
        for number, count in Counter(seen).items():
            if count > 1:
                findings.agent_duplicated += count - 1
                findings.details.append(f"{who}: the agent's #A{number} {count} times in {where}")
        missing = sorted(set(numbers) - set(seen))
        if missing:
            findings.agent_lost += len(missing)
            findings.details.append(f"{who}: the agent's {missing} never reached {where}")
        if _inversions(list(dict.fromkeys(seen))):
            findings.agent_out_of_order += _inversions(list(dict.fromkeys(seen)))
            findings.details.append(f"{who}: the agent's messages arrived as {seen} in {where}")
    relayed = [s.text for s in conversation.sent if not s.answered_by_bot and s.answered]
    for text in relayed:
        count = sum(1 for m in stored if m.author == "customer" and m.text == text)
        if count != 1:
            findings.details.append(f"{who}: {text!r} relayed to the agent {count} times")
            if count == 0:
                findings.lost += 1
            else:
                findings.duplicated += 1


def check(
    ledger: Ledger,
    trackers: Mapping[str, Sequence[TrackerEvent]],
    handoffs: Mapping[str, Sequence[StoredMessage]],
) -> Findings:
    findings = Findings(
        customers=len(ledger.conversations),
        wechat_retries=ledger.wechat_retries,
        retried=dict(ledger.retries),
        unconnected=ledger.unconnected,
    )
    for conversation in ledger.conversations:
        events = trackers.get(conversation.sender, [])
        done = [s for s in conversation.sent if s.answered or s.gave_up]
        findings.messages += len(done)
        findings.unfinished += len(conversation.sent) - len(done)
        _check_turns(conversation, events, findings)
        if _interleaves(events):
            findings.interleaved += 1
            findings.details.append(f"{conversation.channel} {conversation.sender}: interleaved turns in the tracker")
        if conversation.escalates:
            findings.escalations += 1
            findings.reached_agent += conversation.reached_agent
            if not conversation.reached_agent:
                asked = [s for s in conversation.sent if s.text.endswith(script.ASK_FOR_PERSON)]
                findings.details.append(
                    f"socketio {conversation.sender}: no agent's message arrived"
                    + (" after asking for a person" if asked and asked[0].answered else " (it never asked)")
                    + (" before the run ended" if conversation.cut_off else "")
                )
            _check_agent(conversation, events, handoffs.get(conversation.sender, []), findings)
    return findings
