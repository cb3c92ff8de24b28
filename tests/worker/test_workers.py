"""Several workers on one database: every message delivered once and each conversation in order,
every overdue handoff expired once into one ticket, every escalation announced once.

Real worker processes, as ``bot run`` starts them, share a PostgreSQL database (where they
claim rows) or a SQLite one (where they take turns). The stand-in Rasa answers slowly, so
that the workers' passes overlap.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.processes import Process
from bot.db.models import Handoff, HandoffMessage, Ticket, utcnow
from bot.db.session import sessions_for
from bot.service.agents import add_agent
from bot.service.handoffs import accept, pending_deliveries, post_agent_message
from bot.service.tickets import pending_ticket_updates, update_ticket
from bot.worker import READY
from tests.factories import add_handoff, add_ticket
from tests.worker.conftest import QuietHandler

pytestmark = pytest.mark.slow

CONVERSATIONS = 6
REPLIES = 6  # an agent's replies in each conversation
RASA_SECONDS = 0.05  # how long the stand-in Rasa takes over each message


class SlowRasa:
    """A stand-in for Rasa's trigger_intent: records what it takes, per conversation, and how many at once."""

    def __init__(self) -> None:
        self.taken: dict[str, list[tuple[str, int]]] = defaultdict(list)
        self.most_at_once = 0
        self._at_once = 0
        self._lock = threading.Lock()
        rasa = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                sender = self.path.split("/")[2]
                body = self.body()
                [entity_id] = body["entities"].values()
                with rasa._lock:
                    rasa._at_once += 1
                    rasa.most_at_once = max(rasa.most_at_once, rasa._at_once)
                time.sleep(RASA_SECONDS)
                with rasa._lock:
                    rasa._at_once -= 1
                    rasa.taken[sender].append((body["name"], entity_id))
                self.send_response(200)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"


class Hook:
    """A stand-in chat tool: which handoffs were announced to it."""

    def __init__(self) -> None:
        self.announced: list[int] = []
        hook = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                hook.announced.append(self.body()["id"])
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"


@pytest.fixture(params=[pytest.param("postgresql", id="postgresql"), pytest.param("sqlite", id="sqlite")])
def database(request) -> str:
    return request.getfixturevalue("pg_url" if request.param == "postgresql" else "db_url")


@pytest.fixture
def rasa() -> Iterator[SlowRasa]:
    rasa = SlowRasa()
    yield rasa
    rasa.server.shutdown()


@pytest.fixture
def hook() -> Iterator[Hook]:
    hook = Hook()
    yield hook
    hook.server.shutdown()


@pytest.fixture
def workers(database: str, rasa: SlowRasa, hook: Hook, tmp_path: Path) -> Iterator[list[Process]]:
    """Three workers on ``database``, each up and past its first pass."""
    env = {
        "BOT_DEMO": "1",
        "DATABASE_URL": database,
        "RASA_URL": rasa.url,
        "HANDOFF_TIMEOUT_MINUTES": "10",
        "ESCALATION_WEBHOOK_URL": hook.url,
    }
    started = [
        Process(
            name=f"worker {n}",
            args=[sys.executable, "-m", "bot.worker"],
            log_path=tmp_path / f"worker{n}.log",
            ready_text=READY,
            env=env,
        )
        for n in range(3)
    ]
    try:
        for worker in started:
            worker.start()
        for worker in started:
            worker.wait_healthy(60)
        # The webhook takes its starting point on the first pass, which comes a moment after "ready".
        time.sleep(2)
        yield started
    finally:
        for worker in started:
            worker.stop()


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.25)


def _nothing_pending(database: str) -> bool:
    with sessions_for(database)() as session:
        return not pending_deliveries(session) and not pending_ticket_updates(session)


def test_every_message_is_delivered_once_and_each_conversation_in_order(database, tiers, rasa, workers):
    expected: dict[str, list[tuple[str, int]]] = {}
    with sessions_for(database).begin() as session:
        agent, _ = add_agent(session, username="anna", display_name="Anna", role="agent", password="long-enough")
        for n in range(CONVERSATIONS):
            sender = f"customer-{n}"
            handoff = add_handoff(session, tiers, sender=sender, tier="vip")
            ticket = add_ticket(session, tiers, sender=sender, customer_id=None)
            accept(session, handoff.id, agent)
            for reply in range(REPLIES):
                post_agent_message(session, handoff.id, agent, f"reply {reply}")
            update = update_ticket(session, ticket.id, agent, status="resolved", note="A new lamp is on its way.")
            messages = session.scalars(
                select(HandoffMessage.id).where(HandoffMessage.handoff_id == handoff.id).order_by(HandoffMessage.id)
            )
            expected[sender] = [("handoff_event", m) for m in messages] + [("ticket_update", update.id)]

    wait_for(lambda: _nothing_pending(database), timeout=120, what="every message delivered")
    assert dict(rasa.taken) == expected
    if database.startswith("postgresql"):
        # The workers did work side by side, not merely one after another.
        assert rasa.most_at_once >= 2


def test_an_overdue_handoff_becomes_one_ticket_and_each_escalation_is_announced_once(
    database, tiers, rasa, hook, workers
):
    with sessions_for(database).begin() as session:
        overdue = [
            add_handoff(session, tiers, sender=f"late-{n}", tier="vip", now=utcnow() - timedelta(hours=1)).id
            for n in range(8)
        ]

    def all_expired() -> bool:
        with sessions_for(database)() as session:
            statuses = session.scalars(select(Handoff.status).where(Handoff.id.in_(overdue))).all()
            return set(statuses) == {"expired"} and _nothing_pending(database) and len(hook.announced) >= len(overdue)

    wait_for(all_expired, timeout=120, what="every overdue handoff expired, its customer told and announced")
    time.sleep(2)  # a second announcement or delivery would have come by now
    with sessions_for(database)() as session:
        tickets = Counter(session.scalars(select(Ticket.sender_id).where(Ticket.sender_id.like("late-%"))))
        notices = session.execute(
            select(Handoff.sender_id, HandoffMessage.id)
            .join(HandoffMessage)
            .where(Handoff.id.in_(overdue), HandoffMessage.text == "expired")
        ).all()
    assert tickets == {f"late-{n}": 1 for n in range(len(overdue))}
    assert dict(rasa.taken) == {sender: [("handoff_event", notice)] for sender, notice in notices}
    assert len(notices) == len(overdue)
    assert sorted(hook.announced) == overdue
