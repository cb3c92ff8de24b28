"""Agents and supervisors: their accounts, passwords, API tokens and console sessions.

Console sessions live in the database, so signing out, a new password or removal ends
them at once. Wrong passwords are counted per account and per client address; past
MAX_ACCOUNT_FAILURES or MAX_ADDRESS_FAILURES within FAILURE_WINDOW, sign-in is refused
without checking the password until the window has passed.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from bot.db.models import Agent, ConsoleSession, SignInFailure, utcnow

__all__ = [
    "DEMO_AGENTS",
    "FAILURE_WINDOW",
    "MAX_ACCOUNT_FAILURES",
    "MAX_ADDRESS_FAILURES",
    "MAX_PASSWORD",
    "ROLES",
    "AgentError",
    "AgentRef",
    "AgentView",
    "TooManyFailures",
    "add_agent",
    "agent_for_token",
    "end_session",
    "issue_token",
    "open_session",
    "remove_agent",
    "seed_demo_agents",
    "session_agent",
    "set_password",
    "sign_in",
    "verify_password",
]

ROLES = ("agent", "supervisor")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
# Demo mode only: the README gives these to whoever tries the product.
DEMO_AGENTS = (
    ("anna", "Anna", "agent", "anna-demo-password"),
    ("sam", "Sam", "supervisor", "sam-demo-password"),
)
MAX_ACCOUNT_FAILURES = 5
# Higher than per account: several agents may sign in from behind one office address.
MAX_ADDRESS_FAILURES = 20
FAILURE_WINDOW = timedelta(minutes=15)
_hasher = PasswordHasher()


class AgentError(ValueError):
    """A bad username, role or password; nothing was stored."""


class TooManyFailures(Exception):
    """Too many wrong passwords for this account or from this address lately; nothing was checked."""


class AgentRef(Protocol):
    """The agent an action is done for, as the functions that record it need them: by id.

    An account's row is one, and so is the console's view of the agent signed in.
    """

    @property
    def id(self) -> int: ...


@dataclass(frozen=True)
class AgentView:
    """An agent as the console shows them: no secrets, and nothing left to load from the database."""

    id: int
    username: str
    display_name: str
    role: str

    @classmethod
    def of(cls, agent: Agent) -> AgentView:
        return cls(id=agent.id, username=agent.username, display_name=agent.display_name, role=agent.role)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_agent(session: Session, *, username: str, display_name: str, role: str, password: str) -> tuple[Agent, str]:
    """A new agent and their first API token (shown once, stored only as a hash)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,63}", username):
        raise AgentError("username: 2-64 lowercase letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise AgentError(f"role must be one of {', '.join(ROLES)}")
    _check_password(password)
    if session.scalar(select(Agent).where(Agent.username == username)) is not None:
        raise AgentError(f"agent {username!r} already exists")
    agent = Agent(
        username=username,
        display_name=display_name.strip() or username,
        role=role,
        password_hash=_hasher.hash(password),
    )
    session.add(agent)
    token = issue_token(session, agent)
    return agent, token


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AgentError(f"password must have at least {MIN_PASSWORD} characters")
    # The sign-in form's limit, so every password that can be set can be used.
    if len(password) > MAX_PASSWORD:
        raise AgentError(f"password must have at most {MAX_PASSWORD} characters")


def set_password(session: Session, agent: Agent, password: str) -> None:
    """A new password; every console session of the agent ends, since one may be the reason for it."""
    _check_password(password)
    agent.password_hash = _hasher.hash(password)
    _revoke(session, ConsoleSession.agent_id == agent.id)


def remove_agent(session: Session, agent: Agent) -> None:
    """Ends the agent's access: sessions and API token. The row stays, as handoffs and tickets name it."""
    agent.active = False
    agent.api_token_hash = None
    _revoke(session, ConsoleSession.agent_id == agent.id)


def issue_token(session: Session, agent: Agent) -> str:
    """A new API token for ``agent``; the previous one stops working."""
    token = secrets.token_urlsafe(32)
    agent.api_token_hash = _token_hash(token)
    session.flush()
    return token


def agent_for_token(session: Session, token: str) -> Agent | None:
    if not token:
        return None
    return session.scalar(select(Agent).where(Agent.api_token_hash == _token_hash(token), Agent.active.is_(True)))


def verify_password(agent: Agent, password: str) -> bool:
    return _verify(agent.password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def sign_in(session: Session, *, username: str, password: str, address: str) -> Agent | None:
    """The active agent these credentials prove, or None; counts the failures and prunes what is stale.

    Raises TooManyFailures, before any password check, while the account or the address
    is over its limit.
    """
    now = utcnow()
    session.execute(delete(SignInFailure).where(SignInFailure.at <= now - FAILURE_WINDOW))
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))
    if (
        _failures(session, SignInFailure.username == username) >= MAX_ACCOUNT_FAILURES
        or _failures(session, SignInFailure.address == address) >= MAX_ADDRESS_FAILURES
    ):
        raise TooManyFailures()
    agent = session.scalar(select(Agent).where(Agent.username == username, Agent.active.is_(True)))
    # An unknown name costs one Argon2 verification too, so the answer's time does not tell
    # which names exist; failures are counted for unknown names alike, for the same reason.
    proven = _verify(agent.password_hash if agent else _dummy_hash(), password)
    if agent is None or not proven:
        session.add(SignInFailure(username=username, address=address, at=now))
        return None
    session.execute(delete(SignInFailure).where(SignInFailure.username == username))
    return agent


def _failures(session: Session, condition: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count(SignInFailure.id)).where(condition)) or 0


def open_session(session: Session, agent: AgentRef, lifetime: timedelta) -> str:
    """A new console session; returns its id for the cookie (the database keeps only a hash)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(ConsoleSession(id=_token_hash(token), agent_id=agent.id, created_at=now, expires_at=now + lifetime))
    return token


def session_agent(session: Session, token: str) -> Agent | None:
    """The active agent of a console session that is neither ended nor expired."""
    if not token:
        return None
    row = session.get(ConsoleSession, _token_hash(token))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow() or not row.agent.active:
        return None
    return row.agent


def end_session(session: Session, token: str) -> None:
    _revoke(session, ConsoleSession.id == _token_hash(token))


def _revoke(session: Session, which: ColumnElement[bool]) -> None:
    session.execute(
        update(ConsoleSession).where(which, ConsoleSession.revoked_at.is_(None)).values(revoked_at=utcnow())
    )


def seed_demo_agents(session: Session) -> list[str]:
    """The demo agent and supervisor, unless any agent exists; returns the usernames added."""
    if session.scalar(select(Agent.id).limit(1)) is not None:
        return []
    for username, name, role, password in DEMO_AGENTS:
        add_agent(session, username=username, display_name=name, role=role, password=password)
    return [username for username, *_ in DEMO_AGENTS]
