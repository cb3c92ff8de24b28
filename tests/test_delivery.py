"""The console's background work without Rasa: the escalation webhook, and messages kept when Rasa is away."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from bot.agents import add_agent
from bot.complaints import open_ticket
from bot.console.delivery import Deliverer
from bot.db.session import sessions_for
from bot.handoffs import accept, open_handoff, pending_deliveries, post_agent_message
from bot.processes import free_port
from bot.settings import load_settings
from bot.tickets import pending_ticket_updates, update_ticket


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """``handler`` listening on a free loopback port, for the test's length."""
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def hook():
    received: list[dict] = []

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

    with serving(Handler) as port:
        yield f"http://127.0.0.1:{port}/hook", received


def deliverer(db_url: str, tiers, **env: str) -> Deliverer:
    settings = load_settings({"BOT_DEMO": "1", "DATABASE_URL": db_url, "RASA_PORT": str(free_port()), **env})
    return Deliverer(settings, sessions_for(db_url), tiers)


def queue_one(db_url: str, tiers, sender: str) -> int:
    with sessions_for(db_url).begin() as session:
        return open_handoff(
            session, sender_id=sender, channel="rest", customer_id=None, tier=tiers.get("vip"), language="en",
            reason="requested", packet={"customer": {"tier_label": "VIP", "name": "Victoria"}},
        ).id


def test_each_new_escalation_is_posted_to_the_webhook_once(db_url, tiers, hook):
    url, received = hook
    queue_one(db_url, tiers, "before-start")
    worker = deliverer(db_url, tiers, ESCALATION_WEBHOOK_URL=url)
    assert worker.announce() == 0  # what was queued before the console started is not announced
    handoff_id = queue_one(db_url, tiers, "s1")
    assert worker.announce() == 1 and worker.announce() == 0
    [posted] = received
    assert posted["id"] == handoff_id and posted["tier"] == "vip" and "Victoria" in posted["text"]
    assert posted["url"].endswith(f"/handoffs/{handoff_id}")


def test_without_a_webhook_nothing_is_posted(db_url, tiers):
    queue_one(db_url, tiers, "s1")
    assert deliverer(db_url, tiers).announce() == 0


def test_agent_messages_stay_pending_while_rasa_cannot_be_reached(db_url, tiers):
    handoff_id = queue_one(db_url, tiers, "s1")
    with sessions_for(db_url).begin() as session:
        agent, _ = add_agent(session, username="anna", display_name="Anna", role="agent", password="long-enough")
        accept(session, handoff_id, agent)
        post_agent_message(session, handoff_id, agent, "hello")
    assert deliverer(db_url, tiers).deliver() == 0
    with sessions_for(db_url)() as session:
        assert [m.text for m in pending_deliveries(session)] == ["joined", "hello"]


@pytest.fixture
def rasa():
    """A stand-in for Rasa's trigger_intent endpoint that refuses the conversation ``down``."""
    taken: list[tuple[str, str]] = []

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            sender = self.path.split("/")[2]
            intent = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["name"]
            if sender == "down":
                self.send_response(500)
            else:
                taken.append((sender, intent))
                self.send_response(200)
            self.end_headers()

    with serving(Handler) as port:
        yield port, taken


def test_one_conversation_rasa_refuses_holds_back_only_its_own_messages(db_url, tiers, rasa):
    port, taken = rasa
    handoffs = {sender: queue_one(db_url, tiers, sender) for sender in ("down", "up")}
    with sessions_for(db_url).begin() as session:
        agent, _ = add_agent(session, username="anna", display_name="Anna", role="agent", password="long-enough")
        for sender, handoff_id in handoffs.items():
            accept(session, handoff_id, agent)
            ticket = open_ticket(
                session, policy=tiers.get("bronze").policy, tier="bronze", sender_id=sender, channel="rest",
                customer_id=None, language="en", category="other", order_id=None, description="broken lamp",
            )
            update_ticket(session, ticket.id, agent, status="resolved", note="A new lamp is on its way.")
    delivered = deliverer(db_url, tiers, RASA_PORT=str(port), RASA_URL=f"http://127.0.0.1:{port}").deliver()
    assert delivered == 2 and taken == [("up", "handoff_event"), ("up", "ticket_update")]
    with sessions_for(db_url)() as session:
        assert [m.handoff.sender_id for m in pending_deliveries(session)] == ["down"]
        assert [u.ticket.sender_id for u in pending_ticket_updates(session)] == ["down"]
