"""The console's event stream refuses a malformed position with a clear 4xx instead of aborting."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.console.app import create_app
from bot.db.session import sessions_for
from bot.service.agents import add_agent
from tests.factories import console_settings


@pytest.fixture
def client(db_url):
    with sessions_for(db_url).begin() as session:
        _, token = add_agent(session, username="anna", display_name="Anna", role="agent", password="anna-password")
    settings = console_settings(db_url)
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.mark.parametrize(
    "query", [{"after": "abc"}, {"after": "-1"}, {"after": str(2**63)}, {"handoff": "x"}, {"handoff": str(2**63)}]
)
def test_a_malformed_position_or_handoff_is_refused(client, query):
    response = client.get("/events", params=query)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(query))]
