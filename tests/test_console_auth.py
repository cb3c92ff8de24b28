"""Nothing in the console without signing in; forged, expired, ended and cross-site requests
refused; sign-in attempts limited, and unknown names answered like known ones."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from httpx import Response
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from bot.console.app import create_app
from bot.console.security import COOKIE
from bot.db.models import Agent, ConsoleSession, Handoff, SignInFailure, utcnow
from bot.db.session import sessions_for
from bot.service import agents
from bot.service.agents import add_agent, issue_token, remove_agent, set_password
from tests.factories import console_settings

SECRET = "console-test-secret-long-enough-to-pass"
PAGES = ["/", "/queue", "/queue/rows", "/handoffs/1", "/tickets", "/gaps", "/analytics", "/status"]
API = [
    ("GET", "/api/handoffs"),
    ("GET", "/api/handoffs/1"),
    ("POST", "/api/handoffs/1/accept"),
    ("POST", "/api/handoffs/1/messages"),
    ("POST", "/api/handoffs/1/close"),
    ("POST", "/api/handoffs/1/ticket"),
    ("GET", "/events"),
]


@pytest.fixture
def cheap_argon2(monkeypatch):
    # Argon2 at its cheapest: these tests count verifications, and make dozens of them.
    monkeypatch.setattr(agents, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    agents._dummy_hash.cache_clear()
    yield
    agents._dummy_hash.cache_clear()


@pytest.fixture
def client(db_url, cheap_argon2):
    with sessions_for(db_url).begin() as session:
        add_agent(session, username="anna", display_name="Anna", role="agent", password="anna-password")
        add_agent(session, username="sam", display_name="Sam", role="supervisor", password="sam-password")
        session.add(
            Handoff(
                sender_id="s1",
                channel="rest",
                tier="vip",
                priority=8,
                reason="requested",
                summary="VIP guest · asked for a person",
                packet={},
            )
        )
    settings = console_settings(db_url, CONSOLE_SECRET=SECRET, CONSOLE_SESSION_MINUTES="30")
    with TestClient(create_app(settings)) as client:
        yield client


def post_login(client: TestClient, username: str, password: str, **fields: str | None) -> Response:
    client.cookies.delete(COOKIE)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    data = {"username": username, "password": password, "csrf_token": token, **fields}
    return client.post("/login", data={k: v for k, v in data.items() if v is not None}, follow_redirects=False)


def sign_in(client: TestClient, username: str, password: str) -> str:
    """Signs in, or fails to with a wrong password; returns the session cookie, if any."""
    assert post_login(client, username, password).status_code == 303
    return client.cookies.get(COOKIE)


def signed_in(client: TestClient, cookie: str | None) -> bool:
    client.cookies.delete(COOKIE)
    if cookie:
        client.cookies.set(COOKIE, cookie)
    page = client.get("/queue", follow_redirects=False).status_code
    api = client.get("/api/handoffs").status_code
    assert (page, api) in ((200, 200), (303, 401)), (page, api)
    return page == 200


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


def test_a_signed_cookie_without_a_session_on_the_server_is_refused(client):
    for payload in ({"agent": 1, "csrf": "x"}, {"session": "made-up", "csrf": "x"}):
        assert not signed_in(client, URLSafeTimedSerializer(SECRET, salt="console-session").dumps(payload))


def test_an_expired_session_is_refused_and_pruned_at_the_next_sign_in(client, db_url):
    class HourAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3600

    payload = URLSafeTimedSerializer(SECRET, salt="console-session").loads(sign_in(client, "anna", "anna-password"))
    assert not signed_in(client, URLSafeTimedSerializer(SECRET, salt="console-session", signer=HourAgo).dumps(payload))
    assert signed_in(client, URLSafeTimedSerializer(SECRET, salt="console-session").dumps(payload))

    with sessions_for(db_url).begin() as session:
        session.execute(update(ConsoleSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert not signed_in(client, URLSafeTimedSerializer(SECRET, salt="console-session").dumps(payload))
    sign_in(client, "sam", "sam-password")
    with sessions_for(db_url)() as session:
        assert [row.agent.username for row in session.scalars(select(ConsoleSession))] == ["sam"]


def test_a_cookie_after_sign_out_is_refused(client):
    cookie = sign_in(client, "anna", "anna-password")
    response = client.post("/logout", data={"csrf_token": csrf_of(client)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert not signed_in(client, None)
    assert not signed_in(client, cookie)


def test_a_new_password_ends_every_session_of_the_agent(client, db_url):
    first, second = sign_in(client, "anna", "anna-password"), sign_in(client, "anna", "anna-password")
    sams = sign_in(client, "sam", "sam-password")
    with sessions_for(db_url).begin() as session:
        set_password(session, session.scalar(select(Agent).where(Agent.username == "anna")), "anna-new-password")
    assert not signed_in(client, first) and not signed_in(client, second)
    assert signed_in(client, sams)
    assert sign_in(client, "anna", "anna-password") is None
    assert signed_in(client, sign_in(client, "anna", "anna-new-password"))


def test_a_removed_agent_can_use_neither_a_session_nor_an_api_token(client, db_url):
    cookie = sign_in(client, "anna", "anna-password")
    with sessions_for(db_url).begin() as session:
        token = issue_token(session, session.scalar(select(Agent).where(Agent.username == "anna")))
    bearer = {"Authorization": f"Bearer {token}"}
    client.cookies.clear()
    assert client.get("/api/handoffs", headers=bearer).status_code == 200
    with sessions_for(db_url).begin() as session:
        remove_agent(session, session.scalar(select(Agent).where(Agent.username == "anna")))
    assert client.get("/api/handoffs", headers=bearer).status_code == 401
    assert not signed_in(client, cookie)
    assert sign_in(client, "anna", "anna-password") is None


def test_the_sixth_try_on_an_account_is_refused_even_with_the_right_password(client):
    for _ in range(5):
        assert post_login(client, "anna", "wrong-password").headers["location"].startswith("/login?error=1")
    refused = post_login(client, "anna", "anna-password")
    assert refused.status_code == 429 and refused.headers["retry-after"] == str(15 * 60)
    assert "Too many failed sign-ins. Try again in 15 minutes." in refused.text
    assert 'name="csrf_token"' in refused.text and COOKIE not in refused.cookies
    # Another account from the same address is not locked out.
    assert signed_in(client, sign_in(client, "sam", "sam-password"))


def test_a_success_clears_the_accounts_failures(client):
    for _ in range(2):
        for _ in range(4):
            sign_in(client, "anna", "wrong-password")
        assert signed_in(client, sign_in(client, "anna", "anna-password"))


def test_one_address_is_refused_after_many_failures_across_accounts(client):
    for n in range(20):
        sign_in(client, f"guess{n}", "wrong-password")
    assert post_login(client, "sam", "sam-password").status_code == 429


def test_an_unknown_name_costs_one_argon2_verification_like_a_known_one(client, monkeypatch):
    spy = mock.Mock(wraps=agents._hasher)
    monkeypatch.setattr(agents, "_hasher", spy)
    for username in ("nobody", "anna"):
        spy.reset_mock()
        assert post_login(client, username, "wrong-password").headers["location"].startswith("/login?error=1")
        assert spy.verify.call_count == 1, username


def test_the_session_cookie_is_secure_over_https_only(client):
    def cookie_headers(base_url: str) -> list[str]:
        other = TestClient(client.app, base_url=base_url)
        cookies = post_login(other, "anna", "anna-password").headers.get_list("set-cookie")
        assert any(c.startswith(f"{COOKIE}=") for c in cookies)
        return [c for c in cookies if "Max-Age=0" not in c]

    assert all("; secure" in c.lower() for c in cookie_headers("https://testserver"))
    assert not any("; secure" in c.lower() for c in cookie_headers("http://testserver"))


@pytest.mark.parametrize(
    "fields",
    [
        {"username": None},
        {"password": None},
        {"username": ""},
        {"username": "a" * 65},
        {"password": "p" * 1025},
        {"next": "/" * 2001},
    ],
)
def test_bad_input_on_the_sign_in_form_is_refused_and_changes_nothing(client, db_url, fields):
    response = post_login(client, **{"username": "anna", "password": "anna-password", **fields})
    assert response.status_code == 422 and COOKIE not in client.cookies
    with sessions_for(db_url)() as session:
        assert session.scalar(select(func.count()).select_from(SignInFailure)) == 0
        assert session.scalar(select(func.count()).select_from(ConsoleSession)) == 0


def test_a_csrf_token_with_unusual_characters_is_refused_cleanly(client):
    assert post_login(client, "anna", "anna-password", csrf_token="jalapeño").status_code == 403


def test_forms_and_writes_without_the_csrf_token_are_refused(client):
    page = client.get("/login")
    assert (
        client.post(
            "/login", data={"username": "anna", "password": "anna-password"}, follow_redirects=False
        ).status_code
        == 403
    )
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
