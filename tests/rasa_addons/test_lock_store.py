"""The lock store endpoints.yml names, in separate processes as Rasa replicas run it, sharing one Redis."""

from __future__ import annotations

import json
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.local_servers import redis_server
from tests.integration.conftest import wait_for
from tests.rasa_addons.rasa_python import start_in_rasa

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).with_name("lock_replica.py")
# Short, so that the tests outlive it; a turn renews it every third.
EXPIRY = 1.0


class Replica:
    """A process with the lock store, as one Rasa replica has it; see lock_replica.py."""

    def __init__(self, redis_url: str, expiry: float | str = EXPIRY, **variables: str) -> None:
        # A file, not a pipe: a pipe nobody reads would stop the process once full.
        self.stderr = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by stop)
        self.process = start_in_rasa(
            SCRIPT,
            str(expiry),
            stderr=self.stderr,
            REDIS_URL=redis_url,
            # What endpoints.yml reads besides.
            TRACKER_STORE_URL="sqlite://",
            ACTION_SERVER_URL="http://127.0.0.1:1/webhook",
            ACTION_TOKEN="unused",
            **variables,
        )
        self.events: list[dict] = []
        self.turns = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                self.events.append(json.loads(line))

    def ready(self) -> dict:
        return self.wait("ready", 0, timeout=60)

    def turn(self, conversation: str, seconds: float, *options: str) -> int:
        """Starts a turn of ``conversation`` holding the lock ``seconds``; returns its number."""
        assert self.process.stdin is not None
        self.process.stdin.write(" ".join([conversation, str(seconds), *options]) + "\n")
        self.process.stdin.flush()
        self.turns += 1
        return self.turns

    def event(self, event: str, turn: int) -> dict | None:
        return next((e for e in self.events if e["event"] == event and e.get("turn", 0) == turn), None)

    def wait(self, event: str, turn: int, timeout: float = 30) -> dict:
        return wait_for(lambda: self.event(event, turn), timeout, f"turn {turn} {event} (events: {self.events})")

    def errors(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read()

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        self.stderr.close()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="module")
def replicas(redis_url) -> Iterator[tuple[Replica, Replica]]:
    pair = Replica(redis_url), Replica(redis_url)
    try:
        for replica in pair:
            assert replica.ready() == {**replica.ready(), "store": "ConversationLockStore", "redis": True}
        yield pair
    finally:
        for replica in pair:
            replica.stop()


def test_a_turn_on_another_replica_waits_until_the_first_lets_go(replicas):
    a, b = replicas
    first = a.turn("c-wait", 1.5)
    a.wait("acquired", first)
    second = b.turn("c-wait", 0)
    assert b.wait("acquired", second)["at"] >= a.wait("released", first)["at"]


def test_a_turn_longer_than_the_lock_expiry_still_keeps_the_other_replica_out(replicas):
    a, b = replicas
    # Four expiries long, with the event loop blocked as Rasa's NLU blocks it.
    first = a.turn("c-long", 4 * EXPIRY, "busy")
    a.wait("acquired", first)
    second = b.turn("c-long", 0)
    assert b.wait("acquired", second)["at"] >= a.wait("released", first)["at"]


def test_the_locks_of_a_replica_that_dies_expire(redis_url, replicas):
    _, b = replicas
    doomed = Replica(redis_url)
    try:
        doomed.ready()
        doomed.wait("acquired", doomed.turn("c-crash", 3600))
        second = b.turn("c-crash", 0)
        # Waiting while the holder lives, and its lock renewed past its expiry.
        threading.Event().wait(3 * EXPIRY)
        assert b.event("acquired", second) is None
        doomed.process.send_signal(signal.SIGKILL)
        doomed.process.wait()
        assert b.wait("acquired", second, timeout=10 * EXPIRY)
    finally:
        doomed.stop()


def test_different_conversations_do_not_wait_for_each_other(replicas):
    a, b = replicas
    first = a.turn("c-one", 3)
    a.wait("acquired", first)
    second = b.turn("c-other", 0)
    assert b.wait("acquired", second)["at"] < a.wait("released", first)["at"]


def test_a_replica_takes_a_conversation_s_messages_in_the_order_they_came(replicas):
    a, _ = replicas
    turns = [a.turn("c-order", 0.5)] + [a.turn("c-order", 0.05) for _ in range(6)]
    taken = [a.wait("acquired", t)["at"] for t in turns]
    assert taken == sorted(taken)


def test_a_message_that_waits_longer_than_the_lock_lifetime_gives_up(replicas):
    a, b = replicas
    first = a.turn("c-stuck", 3)
    a.wait("acquired", first)
    second = b.turn("c-stuck", 0, "1")
    assert "stayed locked" in b.wait("gave up", second)["error"]
    a.wait("released", first)
    assert b.event("acquired", second) is None


def test_without_redis_the_store_is_rasa_s_in_memory_one():
    alone = Replica("")
    try:
        assert alone.ready() == {**alone.ready(), "store": "ConversationLockStore", "redis": False}
        first = alone.turn("c-local", 1)
        second = alone.turn("c-local", 0)
        assert alone.wait("acquired", second)["at"] >= alone.wait("released", first)["at"]
    finally:
        alone.stop()


@pytest.mark.parametrize("expiry", ["0", "soon"])
def test_a_bad_expiry_in_endpoints_yml_stops_the_store_with_a_clear_error(redis_url, expiry):
    replica = Replica(redis_url, expiry)
    try:
        assert replica.process.wait(60) != 0
        assert (
            f"lock_store's expiry_seconds in endpoints.yml must be a positive number of seconds, not '{expiry}'"
            in replica.errors()
        )
    finally:
        replica.stop()


def test_several_sanic_workers_without_redis_stop_the_store_with_a_clear_error():
    replica = Replica("", SANIC_WORKERS="2")
    try:
        assert replica.process.wait(60) != 0
        assert "SANIC_WORKERS above 1 shares conversations between processes: set REDIS_URL" in replica.errors()
    finally:
        replica.stop()
