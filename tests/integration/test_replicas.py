"""Two Rasa replicas and two consoles on one database, tracker store and Redis (Debian's
redis-server, started here): a customer's socket on one replica gets the agent's message the
other replica sends, turns of one conversation sent to both replicas at once take turns,
and an agent's reply on one console reaches a page following the other."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bot.cli.local_servers import redis_server
from bot.cli.processes import Process, free_port, processes, start, stop_all
from tests.integration.socket_customer import SocketCustomer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


def started(stack, log_dir, name: str, **update) -> Process:
    """The stack's process ``name``, with ``update`` to its settings."""
    [process] = [p for p in processes(stack.settings.model_copy(update=update), log_dir) if p.name == name]
    return process


@pytest.fixture(scope="module")
def replicas(stack, redis_url, tmp_path_factory) -> Iterator[list[str]]:
    """The URLs of two Rasa servers on the stack's stores and action server, sharing Redis."""
    ports = [free_port(), free_port()]
    urls = [f"http://{stack.settings.host}:{port}" for port in ports]
    servers = [
        started(
            stack,
            tmp_path_factory.mktemp(f"replica{n}"),
            "Rasa server",
            rasa_port=port,
            rasa_url=url,
            redis_url=redis_url,
        )
        for n, (port, url) in enumerate(zip(ports, urls))
    ]
    start(servers)
    yield urls
    stop_all(servers)


@pytest.fixture
def worker_through(stack, tmp_path) -> Iterator[object]:
    """Call with a Rasa server's URL: from then on, that server is the one agents' messages go through.

    The stack's worker sends them through the stack's own Rasa server, where the customer's socket
    is not: it is stopped meanwhile, and a worker of the same settings but that URL does its work.
    """
    [stack_worker] = [p for p in stack.processes if p.name == "worker"]
    ours: list[Process] = []

    def use(rasa_url: str) -> None:
        stack_worker.stop()
        ours.append(started(stack, tmp_path, "worker", rasa_url=rasa_url))
        start(ours)

    yield use
    stop_all(ours)
    if ours:
        stack_worker.start()
        stack_worker.wait_healthy(60)


def test_an_agent_s_message_reaches_a_customer_connected_to_the_other_replica(stack, replicas, worker_through):
    on_a, on_b = replicas
    worker_through(on_b)
    customer = SocketCustomer(on_a, {"token": stack.token("V100")})
    try:
        customer.say("hi")
        customer.wait_for_text("Victoria Chen")
        customer.say("I need to speak to a person about my order")
        customer.wait_for_text("in the queue")
        handoff = stack.handoff_of(customer.session_id)

        assert stack.api("POST", f"/api/handoffs/{handoff['id']}/accept").status_code == 200
        customer.wait_for_text("Anna from our team has joined")
        text = "Hello Victoria, I'm on the other server but I can see your order."
        assert stack.api("POST", f"/api/handoffs/{handoff['id']}/messages", json={"text": text}).status_code == 201
        customer.wait_for_text(f"Anna (Lumo Shop agent): {text}")
    finally:
        customer.close()
    assert [m["delivered"] for m in stack.handoff_of(customer.session_id)["messages"] if m["author"] == "agent"] == [
        True
    ]


def test_a_widget_that_reconnects_elsewhere_gets_what_was_sent_while_it_was_away(stack, replicas):
    on_a, on_b = replicas
    customer = SocketCustomer(on_a, {}, last_seq=0)
    customer.say("hi")
    customer.wait_for_text("Hello")
    have = max(m["seq"] for m in customer.received)
    assert sorted(m["seq"] for m in customer.received) == list(range(1, have + 1))
    customer.close()
    # While the widget is away, the bot says something to its conversation (as an agent's message is delivered).
    triggered = httpx.post(
        f"{on_b}/conversations/{customer.session_id}/trigger_intent",
        params={"output_channel": "latest", "token": stack.settings.rasa_token},
        json={"name": "greet"},
        timeout=60,
    )
    assert triggered.status_code == 200
    back = SocketCustomer(on_b, {}, session_id=customer.session_id, last_seq=have)
    try:
        missed = back.wait_for_text("Hello")
        assert missed["seq"] == have + 1
    finally:
        back.close()
    # One that has everything is sent nothing again; one that names no number (rasa-webchat) neither.
    for last_seq in (have + 1, None):
        again = SocketCustomer(on_a, {}, session_id=customer.session_id, last_seq=last_seq)
        try:
            time.sleep(1)
            assert again.received == []
        finally:
            again.close()


QUESTIONS = [
    "how long does it take to get my refund back?",
    "do you ship abroad",
    "how do I return an item",
    "what payment methods do you accept",
    "退货要多久",
    "can I change my delivery address",
    "do you have gift cards",
    "怎么开发票",
]


def turns(events: list[dict]) -> list[list[dict]]:
    """The tracker's events from its first user message on, cut at each user message."""
    cut: list[list[dict]] = []
    for event in events:
        if event["event"] == "user":
            cut.append([])
        if cut:
            cut[-1].append(event)
    return cut


def test_messages_of_one_conversation_sent_to_both_replicas_at_once_take_turns(stack, replicas, sender):
    def send(n: int) -> list[str]:
        response = httpx.post(
            f"{replicas[n % 2]}/webhooks/rest/webhook",
            headers={"Authorization": f"Bearer {stack.settings.rest_token}"},
            json={"sender": sender, "message": QUESTIONS[n]},
            timeout=180,
        )
        response.raise_for_status()
        return [m["text"] for m in response.json() if "text" in m]

    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        answers = dict(zip(QUESTIONS, pool.map(send, range(len(QUESTIONS)))))

    tracker = httpx.get(
        f"{replicas[0]}/conversations/{sender}/tracker", params={"token": stack.settings.rasa_token}, timeout=30
    ).json()
    taken = turns(tracker["events"])
    assert sorted(turn[0]["text"] for turn in taken) == sorted(QUESTIONS)
    for turn in taken:
        # Each turn whole: its question, the bot's answers to it, then listening for the next.
        said = [e["text"] for e in turn if e["event"] == "bot" and e.get("text")]
        assert said and said == answers[turn[0]["text"]], turn[0]["text"]
        assert turn[-1]["event"] == "action" and turn[-1]["name"] == "action_listen", turn[0]["text"]


@pytest.fixture(scope="module")
def second_console(stack, tmp_path_factory) -> Iterator[str]:
    """Another console on the stack's database."""
    port = free_port()
    console = started(stack, tmp_path_factory.mktemp("console2"), "console", console_port=port)
    start([console])
    yield f"http://{stack.settings.host}:{port}"
    stop_all([console])


def test_an_agent_s_reply_through_one_console_reaches_a_page_following_another(stack, second_console, sender):
    stack.send(sender, "hi", metadata={"token": stack.token("V100")})
    stack.send(sender, "I need a person")
    handoff_id = stack.handoff_of(sender)["id"]
    text = "Hello from the first console"
    headers = {"Authorization": f"Bearer {stack.agent_tokens['ben']}"}
    with httpx.stream(
        "GET", f"{second_console}/events", params={"handoff": handoff_id}, headers=headers, timeout=30
    ) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines()
        # What the page gets first: the queue, and the conversation so far.
        for line in lines:
            if line == "event: status":
                break
        assert stack.api("POST", f"/api/handoffs/{handoff_id}/accept").status_code == 200
        assert stack.api("POST", f"/api/handoffs/{handoff_id}/messages", json={"text": text}).status_code == 201
        expected = {'data: {"status": "active"}', "the agent's message"}
        seen: list[str] = []
        # A quiet stream sends a keep-alive now and then, so it is read until a deadline, not a timeout.
        deadline = time.monotonic() + 30
        for line in lines:
            seen.append(line)
            expected.discard("the agent's message" if line.startswith("data: [") and text in line else line)
            if not expected or time.monotonic() > deadline:
                break
    assert not expected, seen
