"""The run's customers, as Locust users: on REST, on socket.io (the web widget) and on WeChat.

Each task is one whole conversation of numbered messages. A request that fails (a
connection reset, a 5xx from the load balancer, a timeout, a dropped socket) is sent
again with the same ``message_id``, until answered or :data:`TRIES` attempts have
failed; WeChat's platform does as WeChat does instead: the same ``MsgId`` again when
no answer came within 5 seconds, at most three times. Every message's fate goes into
the run's :class:`~bench.chaos.records.Ledger`; Locust counts each answered message
with the time from its first try to its answer.

Imports Locust, so gevent: only ``python -m bench.chaos`` may import this module.
"""

from __future__ import annotations

import queue
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import engineio
import httpx
import socketio
import xmltodict
from gevent import GreenletExit
from locust import User, between, task

from bench.chaos import script
from bench.chaos.records import Conversation, Ledger, Sent
from bot.tokens import sign_token
from tests.integration.wechat_platform import WeChatPlatform

__all__ = ["Audience", "RestCustomer", "SocketCustomer", "WeChatCustomer", "customer_classes"]

TRIES = 8
ATTEMPT_SECONDS = 30.0
# WeChat's own rules: an answer within 5 s, else the same message again, three times at most.
WECHAT_WAIT_SECONDS = 5.0
WECHAT_RETRIES = 3
# How long a customer waits for an agent's first message, and then for the agent to close.
AGENT_WAIT_SECONDS = 60.0


@dataclass
class Audience:
    """What every customer of a run shares: where the bot is, its secrets, who may sign in."""

    rasa_url: str
    rest_token: str
    identity_secret: str
    wechat: WeChatPlatform
    # Customers of the tiers served by people first: asking for a person queues them at once.
    top_customers: list[str]
    ledger: Ledger
    messages_per_conversation: int
    escalating_share: float
    rng: random.Random
    # The platform's customer-service messages counted by recipient, as far as they have been read.
    _wechat_read: int = 0
    _wechat_counts: Counter[str] = field(default_factory=Counter)

    def wechat_messages(self, openid: str) -> int:
        """How many customer-service messages the bot has sent ``openid`` so far."""
        new = self.wechat.sent[self._wechat_read :]
        self._wechat_read += len(new)
        self._wechat_counts.update(message["touser"] for message in new)
        return self._wechat_counts[openid]


def _backoff(attempt: int) -> None:
    time.sleep(min(0.5 * 2**attempt, 4.0))


class Customer(User):
    abstract = True
    wait_time = between(0.2, 1.0)
    audience: ClassVar[Audience]
    channel: ClassVar[str]

    def _report(self, sent: Sent, started: float) -> None:
        """An answered message, for Locust's figures; one relayed to an agent has no reply to time."""
        sent.seconds = time.monotonic() - started
        if sent.answered_by_bot:
            self.environment.events.request.fire(
                request_type=self.channel,
                name="message",
                response_time=sent.seconds * 1000,
                response_length=0,
                exception=None,
                context={},
            )

    def _lines(self, conversation_number: int) -> list[script.Line]:
        start = conversation_number * 5
        count = self.audience.messages_per_conversation
        return [script.Line(n + 1, script.QUESTIONS[(start + n) % len(script.QUESTIONS)]) for n in range(count)]

    def _begin(self, sender: str, escalates: bool = False) -> Conversation:
        conversation = Conversation(self.channel, sender, uuid.uuid4().hex[:16], escalates)
        self.audience.ledger.conversations.append(conversation)
        return conversation

    def _send(self, conversation: Conversation, line: script.Line, deliver: Callable[[Sent], bool]) -> bool:
        """Sends ``line`` through ``deliver`` (True once answered) until answered or out of tries; False if lost."""
        sent = Sent(
            line.number,
            script.message_id(conversation.key, line.number),
            script.numbered(line.number, line.text),
            line.answered_by_bot,
        )
        conversation.sent.append(sent)
        started = time.monotonic()
        while sent.attempts < TRIES:
            if sent.attempts:
                self.audience.ledger.retried(self.channel)
                _backoff(sent.attempts)
            sent.attempts += 1
            if deliver(sent):
                sent.answered = True
                self._report(sent, started)
                return True
        sent.gave_up = True
        return False


class RestCustomer(Customer):
    """A company's server relaying its customers' messages over the REST channel."""

    weight = 2
    channel = "rest"

    def on_start(self) -> None:
        self.http = httpx.Client(timeout=ATTEMPT_SECONDS)
        self.conversations = 0

    def on_stop(self) -> None:
        self.http.close()

    @task
    def converse(self) -> None:
        conversation = self._begin(f"rest-{uuid.uuid4().hex[:16]}")
        self.conversations += 1
        for line in self._lines(self.conversations):
            if not self._send(conversation, line, lambda sent: self._post(conversation.sender, sent)):
                return
        conversation.finished = True

    def _post(self, sender: str, sent: Sent) -> bool:
        body = {"sender": sender, "message": sent.text, "message_id": sent.message_id}
        try:
            response = self.http.post(
                f"{self.audience.rasa_url}/webhooks/rest/webhook",
                json=body,
                headers={"Authorization": f"Bearer {self.audience.rest_token}"},
            )
        except httpx.HTTPError:
            return False
        # 429: earlier messages of the conversation still wait; 5xx: the load balancer found no replica.
        return response.status_code == 200 and bool(response.json())


class _QueueWithEmpty(queue.Queue):
    """A queue that takes attributes: engineio's client sets ``Empty`` on its queue, which gevent's own refuses."""


class _EngineIOClient(engineio.Client):
    def create_queue(self, *args: Any, **kwargs: Any) -> queue.Queue:
        q = _QueueWithEmpty(*args, **kwargs)
        q.Empty = queue.Empty  # type: ignore[attr-defined]
        return q


class _SocketIOClient(socketio.Client):
    def _engineio_client_class(self) -> type[engineio.Client]:
        return _EngineIOClient


class SocketConnection:
    """The web widget's socket: asks for its conversation at each (re)connection and collects what arrives."""

    def __init__(self, url: str, metadata: dict[str, str], conversation: Conversation | None = None) -> None:
        self.url = url
        self.metadata = metadata
        self.session_id: str | None = None
        self.received: list[dict[str, Any]] = []
        self.conversation = conversation
        self.client: _SocketIOClient | None = None
        self.lost = threading.Event()
        # The widget asks for numbered messages: the last number it has, and any that came early.
        self.last_seq = 0
        self._early: dict[int, dict[str, Any]] = {}

    def _bot_uttered(self, message: dict[str, Any]) -> None:
        seq = message.get("seq")
        if not isinstance(seq, int):
            self._take(message)
            return
        if seq <= self.last_seq:  # sent again after a reconnection: had it
            return
        # A message sent live may overtake those a reconnection sends again: they go in order.
        self._early[seq] = message
        while self.last_seq + 1 in self._early:
            self.last_seq += 1
            self._take(self._early.pop(self.last_seq))

    def _take(self, message: dict[str, Any]) -> None:
        self.received.append(message)
        found = script.AGENT_NUMBER.search(message.get("text") or "")
        if found and self.conversation is not None:
            self.conversation.agent_numbers.append(int(found.group(1)))

    def open(self) -> str:
        """Connects, asks for the conversation it had (if any), and returns the id the server confirmed."""
        self.close()
        confirmed: list[str] = []
        got = threading.Event()
        self.lost.clear()
        client = _SocketIOClient(reconnection=False)
        client.on("bot_uttered", self._bot_uttered)

        def session_confirm(session_id: str) -> None:
            confirmed.append(session_id)
            got.set()

        client.on("session_confirm", session_confirm)
        client.on("disconnect", self.lost.set)
        client.connect(self.url, transports=["websocket"], wait_timeout=10)
        self.client = client
        client.emit("session_request", {"session_id": self.session_id, "last_seq": self.last_seq})
        if not got.wait(15):
            raise ConnectionError("no session_confirm")
        if self.session_id is not None and confirmed[0] != self.session_id:
            raise ConnectionError(f"the server gave {confirmed[0]} instead of conversation {self.session_id}")
        self.session_id = confirmed[0]
        return self.session_id

    def say(self, sent: Sent) -> bool:
        """True once the server acknowledged the turn and, for a bot turn, a reply arrived."""
        try:
            if self.client is None or not self.client.connected or self.lost.is_set():
                self.open()
        except (socketio.exceptions.SocketIOError, ConnectionError, OSError):
            return False
        assert self.client is not None
        before = len(self.received)
        acked = threading.Event()
        data = {
            "message": sent.text,
            "session_id": self.session_id,
            "message_id": sent.message_id,
            "customData": self.metadata,
        }
        try:
            # The server acknowledges once its handler has run the turn.
            self.client.emit("user_uttered", data, callback=lambda *_: acked.set())
        except socketio.exceptions.SocketIOError:
            return False
        if not _wait(lambda: acked.is_set() or self.lost.is_set(), ATTEMPT_SECONDS) or not acked.is_set():
            return False
        # Replies go through Redis to the replica holding the socket, and may follow the acknowledgement.
        return not sent.answered_by_bot or _wait(lambda: len(self.received) > before, 10)

    def wait_for(self, check: Callable[[], bool], seconds: float, ledger: Ledger) -> bool:
        """Waits for ``check``, connecting again (as the widget does) whenever the socket drops."""
        deadline = time.monotonic() + seconds
        while not check():
            if time.monotonic() > deadline:
                return False
            if self.lost.is_set():
                ledger.retried("socketio")
                try:
                    self.open()
                except (socketio.exceptions.SocketIOError, ConnectionError, OSError):
                    time.sleep(1)
            time.sleep(0.05)
        return True

    def close(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client = None


def _wait(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _asks_for_rating(message: dict[str, Any]) -> bool:
    choices = (message.get("quick_replies") or []) + (message.get("buttons") or [])
    return any(str(choice.get("payload", "")).startswith("/give_rating") for choice in choices)


class SocketCustomer(Customer):
    """A visitor of the shop on the web widget; a share of them, of the highest tier, ask for a person."""

    weight = 2
    channel = "socketio"

    def on_start(self) -> None:
        self.conversations = 0

    @task
    def converse(self) -> None:
        audience = self.audience
        escalates = audience.rng.random() < audience.escalating_share
        metadata = {}
        if escalates:
            customer = audience.rng.choice(audience.top_customers)
            metadata = {"token": sign_token(audience.identity_secret, customer, 3600)}
        socket = SocketConnection(audience.rasa_url, metadata)
        try:
            # The conversation's id is the one the server issues at the first connection.
            for attempt in range(TRIES):
                try:
                    sender = socket.open()
                    break
                except (socketio.exceptions.SocketIOError, ConnectionError, OSError):
                    audience.ledger.retried(self.channel)
                    _backoff(attempt)
            else:
                self.audience.ledger.unconnected += 1
                return
            conversation = self._begin(sender, escalates)
            socket.conversation = conversation
            lines = self._lines(self.conversations)
            conversation.finished = (
                self._escalate(conversation, socket)
                if escalates
                else all(self._send(conversation, line, socket.say) for line in lines)
            )
        except GreenletExit:
            if socket.conversation is not None:
                socket.conversation.cut_off = True
            raise
        finally:
            socket.close()
            self.conversations += 1

    def _escalate(self, conversation: Conversation, socket: SocketConnection) -> bool:
        """Asks for a person, talks with the agent, and rates the service once the agent has closed."""
        before = (
            script.Line(1, script.GREETING),
            script.Line(2, script.QUESTIONS[0]),
            script.Line(3, script.ASK_FOR_PERSON),
        )
        if not all(self._send(conversation, line, socket.say) for line in before):
            return False
        if not socket.wait_for(lambda: bool(conversation.agent_numbers), AGENT_WAIT_SECONDS, self.audience.ledger):
            return False
        conversation.reached_agent = True
        if not self._send(conversation, script.Line(4, script.RELAYED, answered_by_bot=False), socket.say):
            return False
        asked = socket.wait_for(
            lambda: any(map(_asks_for_rating, socket.received)), AGENT_WAIT_SECONDS, self.audience.ledger
        )
        if not asked:
            return False
        return self._send(conversation, script.Line(5, script.RATING), socket.say)


class WeChatCustomer(Customer):
    """A follower of the official account, through the stand-in WeChat platform."""

    weight = 1
    channel = "wechat"

    def on_start(self) -> None:
        self.http = httpx.Client(timeout=WECHAT_WAIT_SECONDS)
        self.conversations = 0

    def on_stop(self) -> None:
        self.http.close()

    @task
    def converse(self) -> None:
        conversation = self._begin(f"o{uuid.uuid4().hex[:27]}")
        self.conversations += 1
        conversation.finished = all(
            self._send_as_wechat(conversation, line) for line in self._lines(self.conversations)
        )

    def _send_as_wechat(self, conversation: Conversation, line: script.Line) -> bool:
        """WeChat's way: the same MsgId again on no answer within 5 s; the platform gives up after three."""
        platform, openid = self.audience.wechat, conversation.sender
        sent = Sent(
            line.number, script.message_id(conversation.key, line.number), script.numbered(line.number, line.text)
        )
        conversation.sent.append(sent)
        xml = platform.text_xml(openid, sent.text, msg_id=self.audience.rng.randrange(10**17, 10**18))
        before = self.audience.wechat_messages(openid)
        webhook = f"{self.audience.rasa_url}/webhooks/wechat/webhook"
        started = time.monotonic()
        later = False
        while sent.attempts <= WECHAT_RETRIES and not sent.answered:
            if sent.attempts:
                self.audience.ledger.wechat_retries += 1
            sent.attempts += 1
            attempt_started = time.monotonic()
            try:
                response = self.http.post(webhook, params=platform.signed_query(), content=xml.encode())
            except httpx.HTTPError:
                response = None
            if response is None or response.status_code != 200:
                # WeChat's tries are 5 s apart, however soon a try failed (a reset, a load balancer's 503).
                time.sleep(max(0.0, attempt_started + WECHAT_WAIT_SECONDS - time.monotonic()))
                continue
            if response.text == "success":
                later = True
                break
            sent.answered = bool(xmltodict.parse(response.text)["xml"].get("Content"))
        # After "success" (or an earlier try's), the replies come through the customer-service API.
        if not sent.answered and (later or sent.attempts > 1):
            sent.answered = _wait(lambda: self.audience.wechat_messages(openid) > before, ATTEMPT_SECONDS * 2)
        if sent.answered:
            self._report(sent, started)
        else:
            sent.gave_up = True
            if later:
                sent.note = f"try {sent.attempts} was answered 'success', and no message followed"
        return sent.answered


def customer_classes(audience: Audience) -> list[type[User]]:
    """The three kinds of customer, bound to one run's audience."""
    return [
        type(kind.__name__, (kind,), {"audience": audience, "__module__": __name__})
        for kind in (RestCustomer, SocketCustomer, WeChatCustomer)
    ]
