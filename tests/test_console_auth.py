"""Nothing in the console without signing in; forged, expired and cross-site requests refused."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from bot.agents import add_agent
from bot.console.app import create_app
from bot.console.auth import COOKIE
from bot.db.models import Handoff
from bot.db.session import sessions_for
from bot.settings import load_settings

SECRET = "console-test-secret"
PAGES = ["/", "/queue", "/queue/rows", "/handoffs/1", "/tickets", "/gaps", "/analytics", "/status"]
API = [("GET", "/api/handoffs"), ("GET", "/api/handoffs/1"), ("POST", "/api/handoffs/1/accept"),
       ("POST", "/api/handoffs/1/messages"), ("POST", "/api/handoffs/1/close"), ("POST", "/api/handoffs/1/ticket"),
       ("GET", "/events")]


@pytest.fixture
def client(db_url):
    with sessions_for(db_url).begin() as session:
        add_agent(session, username="anna", display_name="Anna", role="agent", password="anna-password")
        add_agent(session, username="sam", display_name="Sam", role="supervisor", password="sam-password")
        session.add(Handoff(sender_id="s1", channel="rest", tier="vip", priority=8, reason="requested",
                            summary="VIP guest · asked for a person", packet={}))
    settings = load_settings({
        "DATABASE_URL": db_url, "IDENTITY_SECRET": "i" * 20, "RASA_TOKEN": "r" * 20, "CONSOLE_SECRET": SECRET,
        "RASA_PORT": "9", "CONSOLE_SESSION_MINUTES": "30",
    })
    with TestClient(create_app(settings)) as client:
        yield client


def sign_in(client: TestClient, username: str, password: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303


def csrf_of(client: TestClient) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/queue").text).group(1)


def test_every_page_redirects_to_sign_in_and_every_api_answers_401(client):
    for path in PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), path
    for method, path in API:
        assert client.request(method, path).status_code == 401, path
    assert client.get("/health").status_code == 200


def test_signing_in_opens_the_pages_and_a_wrong_password_does_not(client):
    sign_in(client, "anna", "wrong-password")
    assert client.get("/queue", follow_redirects=False).status_code == 303
    sign_in(client, "anna", "anna-password")
    queue = client.get("/queue")
    assert queue.status_code == 200 and "VIP guest" in queue.text
    assert client.get("/api/handoffs").json()[0]["tier"] == "vip"


def test_analytics_is_for_supervisors(client):
    sign_in(client, "anna", "anna-password")
    assert client.get("/analytics").status_code == 403
    sign_in(client, "sam", "sam-password")
    assert client.get("/analytics").status_code == 200


def test_a_forged_session_cookie_is_refused(client):
    forged = URLSafeTimedSerializer("not-the-secret", salt="console-session").dumps({"agent": 1, "csrf": "x"})
    client.cookies.set(COOKIE, forged)
    assert client.get("/queue", follow_redirects=False).status_code == 303
    assert client.get("/api/handoffs").status_code == 401


def test_an_expired_session_is_refused(client):
    class HourAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3600

    old = URLSafeTimedSerializer(SECRET, salt="console-session", signer=HourAgo).dumps({"agent": 1, "csrf": "x"})
    client.cookies.set(COOKIE, old)
    assert client.get("/queue", follow_redirects=False).status_code == 303
    fresh = URLSafeTimedSerializer(SECRET, salt="console-session").dumps({"agent": 1, "csrf": "x"})
    client.cookies.set(COOKIE, fresh)
    assert client.get("/queue", follow_redirects=False).status_code == 200


def test_forms_and_writes_without_the_csrf_token_are_refused(client):
    page = client.get("/login")
    assert client.post("/login", data={"username": "anna", "password": "anna-password"},
                       follow_redirects=False).status_code == 403
    assert page.status_code == 200
    sign_in(client, "anna", "anna-password")
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.post("/tickets/1/status", data={"status": "resolved", "note": "x"}).status_code == 403
    assert client.post("/api/handoffs/1/accept").status_code == 403
    assert client.post("/api/handoffs/1/accept", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert client.get("/api/handoffs/1").json()["status"] == "waiting"
    accepted = client.post("/api/handoffs/1/accept", headers={"X-CSRF-Token": csrf_of(client)})
    assert accepted.status_code == 200 and accepted.json()["status"] == "active"


def test_the_sign_in_page_only_sends_agents_back_to_this_site(client):
    page = client.get("/login", params={"next": "//evil.example/steal"})
    assert 'name="next" value="/queue"' in page.text
