"""The console's event stream refuses a malformed position with a clear 4xx instead of aborting."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.console.app import create_app
from bot.db.session import sessions_for
from bot.service.agents import add_agent
from bot.settings import load_settings


@pytest.fixture
def client(db_url):
    with sessions_for(db_url).begin() as session:
        _, token = add_agent(session, username="anna", display_name="Anna", role="agent", password="anna-password")
    settings = load_settings(
        {
            "DATABASE_URL": db_url,
            "IDENTITY_SECRET": "i" * 32,
            "RASA_TOKEN": "r" * 32,
            "CONSOLE_SECRET": "c" * 32,
            "ACTION_TOKEN": "a" * 32,
            "RASA_PORT": "9",
        }
    )
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.mark.parametrize(
    "query", [{"after": "abc"}, {"after": "-1"}, {"after": str(2**63)}, {"handoff": "x"}, {"handoff": str(2**63)}]
)
def test_a_malformed_position_or_handoff_is_refused(client, query):
    response = client.get("/events", params=query)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(query))]
