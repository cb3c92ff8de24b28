"""The agents' API answers in the shapes its OpenAPI document gives, and the console's pages and
event stream show the same handoffs and messages; the agent is set by overriding a dependency."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.console.app import create_app
from bot.console.deps import current_agent, page_agent
from bot.console.routes.events import changes
from bot.db.session import sessions_for
from bot.service.agents import AgentView, add_agent
from bot.service.handoffs import add_customer_message
from tests.factories import add_handoff, console_settings

SUMMARY = {
    "id",
    "status",
    "tier",
    "priority",
    "reason",
    "summary",
    "customer_id",
    "customer_name",
    "language",
    "channel",
    "position",
    "waiting_seconds",
    "agent",
    "created_at",
    "accepted_at",
    "closed_at",
    "ticket",
    "rating",
}
DETAIL = SUMMARY | {"packet", "messages"}
MESSAGE = {"id", "author", "text", "created_at", "delivered"}


class Console:
    """A console whose caller is whichever agent ``acting`` names."""

    def __init__(self, client: TestClient, agents: dict[str, AgentView], handoffs: dict[str, int]) -> None:
        self.client, self.agents, self.handoffs = client, agents, handoffs
        self.acting = agents["anna"]


@pytest.fixture
def console(db_url: str, tiers) -> Iterator[Console]:
    agents, handoffs = {}, {}
    with sessions_for(db_url).begin() as session:
        for username in ("anna", "ben"):
            agent, _ = add_agent(
                session, username=username, display_name=username.title(), role="agent", password="long-enough"
            )
            agents[username] = AgentView.of(agent)
        for sender, tier, name in (("s-normal", "normal", None), ("s-vip", "vip", "Victoria")):
            handoff = add_handoff(session, tiers, sender=sender, tier=tier, name=name)
            add_customer_message(session, handoff, f"hello from {sender}")
            handoffs[tier] = handoff.id
    settings = console_settings(db_url)
    app = create_app(settings)
    with TestClient(app) as client:
        console = Console(client, agents, handoffs)
        app.dependency_overrides[current_agent] = app.dependency_overrides[page_agent] = lambda: console.acting
        yield console


def test_the_queue_lists_summaries_in_the_order_agents_take_them(console):
    queue = console.client.get("/api/handoffs").json()
    assert all(set(handoff) == SUMMARY for handoff in queue)
    assert [(h["id"], h["position"]) for h in queue] == [(console.handoffs["vip"], 1), (console.handoffs["normal"], 2)]
    assert queue[0]["customer_name"] == "Victoria" and queue[0]["created_at"].endswith("Z")
    assert console.client.get("/api/handoffs", params={"status_filter": "active"}).json() == []


def test_a_record_holds_the_packet_and_the_messages(console):
    record = console.client.get(f"/api/handoffs/{console.handoffs['vip']}").json()
    assert set(record) == DETAIL and record["packet"]["customer"]["name"] == "Victoria"
    [message] = record["messages"]
    assert set(message) == MESSAGE
    assert (message["author"], message["text"], message["delivered"]) == ("customer", "hello from s-vip", True)


def test_accepting_replying_and_closing_answer_the_record_as_stored(console):
    handoff = console.handoffs["vip"]
    accepted = console.client.post(f"/api/handoffs/{handoff}/accept").json()
    assert (accepted["status"], accepted["agent"], accepted["position"]) == ("active", "anna", None)
    assert accepted["accepted_at"].endswith("Z")
    assert [(m["author"], m["text"], m["delivered"]) for m in accepted["messages"][1:]] == [("system", "joined", False)]

    sent = console.client.post(f"/api/handoffs/{handoff}/messages", json={"text": "  How can I help?  "})
    assert sent.status_code == 201 and set(sent.json()) == MESSAGE
    assert (sent.json()["text"], sent.json()["delivered"]) == ("How can I help?", False)
    assert console.client.get(f"/api/handoffs/{handoff}").json()["messages"][-1] == sent.json()

    closed = console.client.post(f"/api/handoffs/{handoff}/close").json()
    assert closed["status"] == "closed" and closed["closed_at"] and closed["messages"][-1]["text"] == "closed"


def test_a_reply_sent_again_with_its_idempotency_key_is_stored_once(console):
    handoff = console.handoffs["vip"]
    console.client.post(f"/api/handoffs/{handoff}/accept")
    url, key = f"/api/handoffs/{handoff}/messages", {"Idempotency-Key": "reply-1"}
    first = console.client.post(url, json={"text": "One moment please."}, headers=key)
    again = console.client.post(url, json={"text": "One moment please."}, headers=key)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    other = console.client.post(url, json={"text": "One moment please."}, headers={"Idempotency-Key": "reply-2"})
    assert other.json()["id"] != first.json()["id"]
    texts = [m["text"] for m in console.client.get(f"/api/handoffs/{handoff}").json()["messages"]]
    assert texts.count("One moment please.") == 2
    # The same key for other words is a mistake of the tool's, not a repeat.
    reused = console.client.post(url, json={"text": "Something else"}, headers=key)
    assert reused.status_code == 409 and "reply-1" in reused.json()["detail"]


@pytest.mark.parametrize("key", ["", "a b", "x" * 65, "../x"])
def test_a_malformed_idempotency_key_is_refused_and_nothing_is_stored(console, key):
    handoff = console.handoffs["vip"]
    console.client.post(f"/api/handoffs/{handoff}/accept")
    refused = console.client.post(
        f"/api/handoffs/{handoff}/messages", json={"text": "hello"}, headers={"Idempotency-Key": key}
    )
    assert refused.status_code == 422
    assert "hello" not in [m["text"] for m in console.client.get(f"/api/handoffs/{handoff}").json()["messages"]]


def test_a_handoff_converted_to_a_ticket_shows_its_number(console):
    converted = console.client.post(f"/api/handoffs/{console.handoffs['normal']}/ticket").json()
    assert converted["status"] == "ticketed" and converted["ticket"].startswith("T")
    assert converted["messages"][-1]["text"] == "ticketed"


def test_refusals_say_why(console):
    handoff = console.handoffs["vip"]
    missing = console.client.get("/api/handoffs/999")
    assert missing.status_code == 404 and missing.json() == {"detail": "no handoff 999"}
    console.client.post(f"/api/handoffs/{handoff}/accept")
    console.acting = console.agents["ben"]
    taken = console.client.post(f"/api/handoffs/{handoff}/messages", json={"text": "hi"})
    assert taken.status_code == 409 and "another agent" in taken.json()["detail"]
    assert console.client.post(f"/api/handoffs/{handoff}/messages", json={"text": ""}).status_code == 422


@pytest.mark.parametrize("body", [b"NaN", b'{"text": Infinity}'])
def test_nan_or_infinity_in_a_body_is_a_422_not_a_500(console, body):
    headers = {"content-type": "application/json"}
    refused = console.client.post(f"/api/handoffs/{console.handoffs['vip']}/messages", content=body, headers=headers)
    assert refused.status_code == 422 and refused.json()["detail"]


def test_the_openapi_document_describes_the_api_and_only_the_api(console):
    document = console.client.app.openapi()
    assert {"HandoffSummary", "HandoffDetail", "Message", "MessageIn"} <= set(document["components"]["schemas"])
    assert set(document["components"]["schemas"]["HandoffDetail"]["properties"]) == DETAIL
    read = document["paths"]["/api/handoffs/{handoff_id}"]["get"]["responses"]["200"]
    assert read["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/HandoffDetail"}
    assert all(path.startswith("/api/") for path in document["paths"])


def test_the_pages_show_the_queue_and_the_conversation_the_api_does(console):
    console.client.post(f"/api/handoffs/{console.handoffs['vip']}/accept")
    rows = console.client.get("/queue/rows").text
    vip, normal = (rows.index(f'data-handoff="{console.handoffs[tier]}"') for tier in ("vip", "normal"))
    assert vip < normal
    assert "Victoria" in rows and "Active · Anna" in rows
    page = console.client.get(f"/handoffs/{console.handoffs['vip']}").text
    assert "hello from s-vip" in page and 'data-status="active"' in page
    assert console.client.get("/handoffs/999").status_code == 404


def test_the_event_stream_sends_messages_as_the_api_shows_them(console, db_url):
    handoff = console.handoffs["vip"]
    with sessions_for(db_url)() as session:
        state: dict[str, Any] = {"after": 0}
        first = changes(session, state, handoff)
        assert changes(session, state, handoff) == []
    assert first[0] == 'event: queue\ndata: {"size": 2}\n\n'
    messages = console.client.get(f"/api/handoffs/{handoff}").json()["messages"]
    assert f"event: messages\ndata: {json.dumps(messages, ensure_ascii=False)}\n\n" in first
    assert 'event: status\ndata: {"status": "waiting"}\n\n' in first


@pytest.mark.parametrize("path", ["/queue", "/tickets", "/gaps", "/status"])
def test_the_pages_open_for_a_signed_in_agent(console, path):
    assert console.client.get(path).status_code == 200
