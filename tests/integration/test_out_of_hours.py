"""Outside the agents' hours: a ticket or a call-back instead of a queue nobody serves.

A second action server runs with hours that exclude today; it is called the way
Rasa calls it, with the tracker of a customer who asks for a person.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone

import httpx
import pytest
from sqlalchemy import select

from bot.cli.processes import Process, free_port
from bot.db.models import Handoff, Ticket
from bot.db.session import sessions_for
from bot.hours import DAYS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def closed_actions(stack, tmp_path_factory) -> Iterator[str]:
    today = DAYS[datetime.now(timezone.utc).weekday()]
    port = free_port()
    env = {
        **stack.settings.to_env(),
        "ACTION_PORT": str(port),
        "SERVICE_TIMEZONE": "UTC",
        "SERVICE_DAYS": ",".join(d for d in DAYS if d != today),
    }
    process = Process(
        name="closed action server",
        args=[sys.executable, "-m", "actions.server"],
        health_url=f"http://{stack.settings.host}:{port}/health",
        log_path=tmp_path_factory.mktemp("closed") / "actions.log",
        env=env,
    )
    process.start()
    try:
        process.wait_healthy(120)
        yield f"http://{stack.settings.host}:{port}/webhook"
    finally:
        process.stop()


def call(stack, url: str, action: str, sender: str, slots: dict, text: str) -> list[dict]:
    """Runs ``action`` as Rasa would (with its token), after ``text`` from a customer with these slots."""
    tracker = {
        "sender_id": sender,
        "slots": {
            "language": "en",
            "conversation_started": datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0).isoformat(),
            **slots,
        },
        "latest_message": {"text": text, "intent": {"name": "request_human", "confidence": 1.0}, "entities": []},
        "events": [{"event": "user", "text": text, "timestamp": time.time()}],
        "latest_input_channel": "rest",
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    response = httpx.post(
        url,
        json={"next_action": action, "sender_id": sender, "tracker": tracker, "domain": {}},
        headers={"Authorization": f"Bearer {stack.settings.action_token}"},
        timeout=60,
    )
    response.raise_for_status()
    return response.json()["responses"]


def profile(stack, customer_id: str, tier: str) -> dict:
    from bot.service.tiers import load_tiers

    policy = load_tiers(stack.settings.tiers_file).get(tier).policy.as_slot()
    return {"customer_id": customer_id, "tier": tier, "tier_policy": policy}


def test_a_vip_asking_for_a_person_out_of_hours_is_offered_a_ticket_or_a_call_back(stack, closed_actions):
    sender = f"closed-{uuid.uuid4().hex[:8]}"
    responses = call(
        stack, closed_actions, "action_request_human", sender, profile(stack, "V100", "vip"), "a person please"
    )
    assert [r["response"] for r in responses] == ["utter_agents_closed", "utter_ticket_or_callback"]
    with sessions_for(stack.settings.database_url)() as session:
        assert not session.scalars(select(Handoff).where(Handoff.sender_id == sender)).all()


def test_a_call_back_is_booked_as_a_ticket_to_the_number_on_record(stack, closed_actions):
    sender = f"closed-{uuid.uuid4().hex[:8]}"
    [booked] = call(
        stack, closed_actions, "action_request_callback", sender, profile(stack, "N200", "normal"), "/request_callback"
    )
    assert booked["response"] == "utter_callback_booked" and booked["phone"] == "138****8000"
    with sessions_for(stack.settings.database_url)() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.sender_id == sender)).one()
    assert ticket.category == "callback" and ticket.number == booked["number"]


def test_a_guest_cannot_book_a_call_back(stack, closed_actions):
    sender = f"closed-{uuid.uuid4().hex[:8]}"
    [reply] = call(stack, closed_actions, "action_request_callback", sender, {"tier": "guest"}, "/request_callback")
    assert reply["response"] == "utter_callback_needs_phone"
