"""Tickets in the console: the list with its SLA, a status change with a note, the customer told."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.integration.conftest import PASSWORD, wait_for

pytestmark = pytest.mark.slow


def signed_in(stack, username: str) -> httpx.Client:
    client = httpx.Client(base_url=stack.console_url, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    return client


def test_a_resolved_ticket_is_told_to_the_customer_through_their_channel(stack, sender):
    stack.send(sender, "hi", metadata={"token": stack.token("N200")})
    stack.send(sender, "I want to complain, the courier was rude to me at the door")
    opened = " ".join(m.get("text", "") for m in stack.send(sender, '/choose{"complaint_order": "none"}'))
    number = re.search(r"T\d{6}-[A-Z0-9]{4}", opened).group(0)

    agent = signed_in(stack, "anna")
    listing = agent.get("/tickets", params={"tier": "normal", "category": "service_attitude"})
    assert number in listing.text and "Service attitude" in listing.text
    ticket_id = re.search(rf'data-ticket="{number}".*?action="/tickets/(\d+)/status"', listing.text, re.S).group(1)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', listing.text).group(1)

    refused = agent.post(f"/tickets/{ticket_id}/status", data={"status": "resolved", "note": "x"})
    assert refused.status_code == 403
    unexplained = agent.post(
        f"/tickets/{ticket_id}/status", data={"status": "resolved", "note": "", "csrf_token": csrf}
    )
    assert unexplained.status_code == 422

    done = agent.post(
        f"/tickets/{ticket_id}/status",
        data={
            "status": "resolved",
            "note": "The courier company has apologised and retrained the driver.",
            "csrf_token": csrf,
        },
    )
    assert done.status_code in (200, 303)
    told = wait_for(
        lambda: next((t for t in stack.tracker_texts(sender) if number in t and "resolved" in t), None),
        what="the resolution in the customer's conversation",
    )
    assert "retrained the driver" in told
    assert number not in agent.get("/tickets").text  # open tickets only, by default
    assert number in agent.get("/tickets", params={"status": "resolved"}).text
