"""Who is using the console: server-side sessions named by a signed cookie, and CSRF tokens.

A session cookie holds a console session's random id and its CSRF token, signed with
CONSOLE_SECRET and stamped, so a forged cookie fails its signature and an old one its
age. The session itself is a row (bot/service/agents.py): signing out, a new password or the
agent's removal ends it, and a copy of the cookie then opens nothing. The cookie is
``Secure`` when the console is reached over HTTPS. Every form carries the CSRF token,
and every unsafe request made with the cookie must present it; API clients use a
bearer token instead (bot/console/deps.py).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from fastapi import HTTPException, Request, Response, status
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.db.session import Session
from bot.service.agents import AgentRef, AgentView, end_session, open_session, session_agent

__all__ = [
    "COOKIE",
    "LOGIN_CSRF_COOKIE",
    "NotSignedIn",
    "check_csrf",
    "cookie_agent",
    "csrf_token",
    "end_cookie_session",
    "served_over_https",
    "start_cookie_session",
]

COOKIE = "console_session"
# Before sign-in the login form's CSRF token lives in a cookie of its own.
LOGIN_CSRF_COOKIE = "console_login_csrf"


class NotSignedIn(Exception):
    """A page was asked for without a valid session: the app redirects to the sign-in page."""


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.console_secret, salt="console-session")


def served_over_https(request: Request) -> bool:
    """Whether cookies may be ``Secure``. Behind a proxy this is its X-Forwarded-Proto, which
    uvicorn takes from the addresses in FORWARDED_ALLOW_IPS (loopback by default)."""
    return request.url.scheme == "https"


def start_cookie_session(request: Request, response: Response, session: Session, agent: AgentRef) -> None:
    minutes = request.app.state.settings.console_session_minutes
    session_id = open_session(session, agent, timedelta(minutes=minutes))
    response.set_cookie(
        COOKIE,
        _serializer(request).dumps({"session": session_id, "csrf": secrets.token_urlsafe(24)}),
        httponly=True,
        samesite="lax",
        secure=served_over_https(request),
        max_age=minutes * 60,
    )


def end_cookie_session(request: Request, response: Response, session: Session) -> None:
    """Ends the session on the server too: a copy of the cookie must not outlive signing out."""
    data = _session_data(request)
    if data is not None:
        end_session(session, str(data.get("session", "")))
    response.delete_cookie(COOKIE, httponly=True, samesite="lax", secure=served_over_https(request))


def _session_data(request: Request) -> dict | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    max_age = request.app.state.settings.console_session_minutes * 60
    try:
        data = _serializer(request).loads(raw, max_age=max_age)
    except BadSignature:
        # Covers a forged cookie and, as SignatureExpired, an expired one.
        return None
    return data if isinstance(data, dict) else None


def cookie_agent(request: Request, session: Session) -> AgentView | None:
    """The agent of the request's session cookie; their CSRF token is then ``csrf_token(request)``."""
    data = _session_data(request)
    agent = session_agent(session, str(data.get("session", ""))) if data is not None else None
    if data is None or agent is None:
        return None
    request.state.csrf = data.get("csrf", "")
    return AgentView.of(agent)


def csrf_token(request: Request) -> str:
    return getattr(request.state, "csrf", "")


def check_csrf(expected: str, presented: str | None) -> None:
    # As bytes: compare_digest refuses str with non-ASCII characters, which anyone can send.
    if not expected or not presented or not hmac.compare_digest(expected.encode(), presented.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
