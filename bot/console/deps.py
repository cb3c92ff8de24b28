"""What the console's routes take besides the request: a database session, the settings and
tiers, and the agent using them, checked.

Pages want the session cookie (and a form's CSRF field on posts); without one they send
the browser to sign in. The API takes an agent's bearer token, or the cookie with its
CSRF token in ``X-CSRF-Token`` on writes, and answers 401 without either.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.console.security import NotSignedIn, check_csrf, cookie_agent, csrf_token
from bot.db.session import Session, Sessions
from bot.service.agents import AgentView, agent_for_token
from bot.service.tiers import TierConfig
from bot.settings import Settings

__all__ = [
    "CurrentAgent",
    "PageAgent",
    "SessionDep",
    "SessionsDep",
    "SettingsDep",
    "Supervisor",
    "TiersDep",
    "current_agent",
    "page_agent",
    "require_csrf",
]

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_bearer = HTTPBearer(auto_error=False)


def get_sessions(request: Request) -> Sessions:
    return request.app.state.sessions


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_tiers(request: Request) -> TierConfig:
    return request.app.state.tiers


SessionDep = Annotated[Session, Depends(get_session)]
# For routes that frame their own transactions, or work outside one request's session.
SessionsDep = Annotated[Sessions, Depends(get_sessions)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
TiersDep = Annotated[TierConfig, Depends(get_tiers)]


def current_agent(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AgentView:
    """The API's caller: a bearer token, or the session cookie with its CSRF header on writes."""
    if credentials is not None:
        agent = agent_for_token(session, credentials.credentials)
        view = AgentView.of(agent) if agent is not None else None
    else:
        view = cookie_agent(request, session)
        if view is not None and request.method in UNSAFE:
            check_csrf(csrf_token(request), request.headers.get("X-CSRF-Token"))
    if view is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "sign in, or send an agent token", headers={"WWW-Authenticate": "Bearer"}
        )
    return view


def page_agent(request: Request, session: SessionDep) -> AgentView:
    agent = cookie_agent(request, session)
    if agent is None:
        raise NotSignedIn()
    return agent


PageAgent = Annotated[AgentView, Depends(page_agent)]


async def require_csrf(request: Request, agent: PageAgent) -> None:
    """For forms of a signed-in agent: the token is a field of the posted form."""
    form = await request.form()
    check_csrf(csrf_token(request), str(form.get("csrf_token") or ""))


def supervisor(agent: PageAgent) -> AgentView:
    if agent.role != "supervisor":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "supervisors only")
    return agent


CurrentAgent = Annotated[AgentView, Depends(current_agent)]
Supervisor = Annotated[AgentView, Depends(supervisor)]
