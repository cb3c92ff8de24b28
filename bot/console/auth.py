"""Who is using the console: signed, expiring session cookies, CSRF tokens, and API tokens.

A session cookie holds the agent's id and the session's CSRF token, signed with
CONSOLE_SECRET and stamped, so a forged cookie fails its signature and an old one
its age. Every form carries the CSRF token, and every unsafe request made with the
cookie must present it; API clients use a bearer token instead.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from bot.agents import agent_for_token
from bot.db.models import Agent

__all__ = [
    "COOKIE",
    "AgentDep",
    "NotSignedIn",
    "SessionDep",
    "SupervisorDep",
    "csrf_token",
    "current_agent",
    "new_session_cookie",
    "page_agent",
    "require_csrf",
]

COOKIE = "console_session"
# Before sign-in the login form's CSRF token lives in a cookie of its own.
LOGIN_CSRF_COOKIE = "console_login_csrf"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_bearer = HTTPBearer(auto_error=False)


class NotSignedIn(Exception):
    """A page was asked for without a valid session: the app redirects to the sign-in page."""


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.console_secret, salt="console-session")


def new_session_cookie(request: Request, agent: Agent) -> str:
    return _serializer(request).dumps({"agent": agent.id, "csrf": secrets.token_urlsafe(24)})


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


def get_session(request: Request):
    with request.app.state.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _cookie_agent(request: Request, session: Session) -> Agent | None:
    data = _session_data(request)
    if data is None:
        return None
    agent = session.get(Agent, data.get("agent"))
    if agent is None or not agent.active:
        return None
    request.state.csrf = data.get("csrf", "")
    return agent


def csrf_token(request: Request) -> str:
    return getattr(request.state, "csrf", "")


def _check_csrf(request: Request, presented: str | None) -> None:
    expected = csrf_token(request)
    if not expected or not presented or not hmac.compare_digest(expected, presented):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")




def current_agent(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Agent:
    """The API's caller: a bearer token, or the session cookie with its CSRF header on writes."""
    if credentials is not None:
        agent = agent_for_token(session, credentials.credentials)
    else:
        agent = _cookie_agent(request, session)
        if agent is not None and request.method in UNSAFE:
            _check_csrf(request, request.headers.get("X-CSRF-Token"))
    if agent is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "sign in, or send an agent token", headers={"WWW-Authenticate": "Bearer"}
        )
    return agent


def page_agent(request: Request, session: SessionDep) -> Agent:
    agent = _cookie_agent(request, session)
    if agent is None:
        raise NotSignedIn()
    return agent


async def require_csrf(request: Request, agent: Annotated[Agent, Depends(page_agent)]) -> None:
    """For forms of a signed-in agent: the token is a field of the posted form."""
    form = await request.form()
    _check_csrf(request, str(form.get("csrf_token") or ""))


def supervisor(agent: Annotated[Agent, Depends(page_agent)]) -> Agent:
    if agent.role != "supervisor":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "supervisors only")
    return agent


AgentDep = Annotated[Agent, Depends(current_agent)]
SupervisorDep = Annotated[Agent, Depends(supervisor)]
