"""Agents' messages and ticket updates: stored by the console at once, sent by the worker in order."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.console.app import create_app
from bot.db.session import sessions_for
from bot.service.agents import add_agent
from bot.service.handoffs import accept, pending_deliveries, post_agent_message
from bot.service.tickets import pending_ticket_updates, update_ticket
from bot.worker.delivery import Delivery
from tests.factories import add_ticket


def delivery(rasa_url: str = "http://127.0.0.1:9", retry_after: float = 0) -> Delivery:
    return Delivery(httpx.Client(timeout=5), rasa_url=rasa_url, rasa_token="t" * 32, retry_after=retry_after)


def deliver(db_url: str, worker: Delivery) -> int:
    with sessions_for(db_url)() as session:
        return worker(session)


@pytest.fixture
def anna(db_url):
    with sessions_for(db_url).begin() as session:
        agent, token = add_agent(session, username="anna", display_name="Anna", role="agent", password="long-enough")
    return agent, token


def test_agent_messages_stay_pending_while_rasa_cannot_be_reached(db_url, queue_one, anna):
    handoff_id = queue_one("s1")
    with sessions_for(db_url).begin() as session:
        accept(session, handoff_id, anna[0])
        post_agent_message(session, handoff_id, anna[0], "hello")
    assert deliver(db_url, delivery()) == 0
    with sessions_for(db_url)() as session:
        assert [m.text for m in pending_deliveries(session)] == ["joined", "hello"]


def test_one_conversation_rasa_refuses_holds_back_only_its_own_messages(db_url, tiers, queue_one, anna, rasa):
    url, taken, _ = rasa
    handoffs = {sender: queue_one(sender) for sender in ("down", "up")}
    with sessions_for(db_url).begin() as session:
        for sender, handoff_id in handoffs.items():
            accept(session, handoff_id, anna[0])
            ticket = add_ticket(session, tiers, sender=sender, customer_id=None)
            update_ticket(session, ticket.id, anna[0], status="resolved", note="A new lamp is on its way.")
    assert deliver(db_url, delivery(url)) == 2
    assert taken == [("up", "handoff_event"), ("up", "ticket_update")]
    with sessions_for(db_url)() as session:
        assert [m.handoff.sender_id for m in pending_deliveries(session)] == ["down"]
        assert [u.ticket.sender_id for u in pending_ticket_updates(session)] == ["down"]


def test_a_conversation_rasa_refused_is_tried_again_only_after_the_interval(db_url, queue_one, anna, rasa):
    url, _, asked = rasa
    handoff_id = queue_one("down")
    with sessions_for(db_url).begin() as session:
        accept(session, handoff_id, anna[0])
    patient, eager = delivery(url, retry_after=3600), delivery(url, retry_after=0)
    deliver(db_url, patient)
    deliver(db_url, patient)
    assert asked == ["down"]
    deliver(db_url, eager)
    deliver(db_url, eager)
    assert asked == ["down"] * 3


def test_an_agents_reply_is_stored_and_answered_without_rasa_and_the_worker_delivers_it(
    db_url, settings_for, queue_one, anna, rasa
):
    url, taken, asked = rasa
    handoff_id = queue_one("s1")
    settings = settings_for(RASA_URL=url)
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {anna[1]}"}) as console:
        assert console.post(f"/api/handoffs/{handoff_id}/accept").status_code == 200
        sent = console.post(f"/api/handoffs/{handoff_id}/messages", json={"text": "I'm looking at it now."})
        assert sent.status_code == 201 and not sent.json()["delivered"]
        # The console stored the reply and answered; it never asked Rasa anything.
        assert asked == []
        assert deliver(db_url, delivery(url)) == 2
        assert taken == [("s1", "handoff_event")] * 2
        messages = console.get(f"/api/handoffs/{handoff_id}").json()["messages"]
        assert [(m["text"], m["delivered"]) for m in messages] == [("joined", True), ("I'm looking at it now.", True)]
