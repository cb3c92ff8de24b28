"""Agents and supervisors: their accounts, passwords and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Agent

__all__ = [
    "DEMO_AGENTS",
    "ROLES",
    "AgentError",
    "add_agent",
    "agent_for_token",
    "issue_token",
    "seed_demo_agents",
    "verify_password",
]

ROLES = ("agent", "supervisor")
MIN_PASSWORD = 8
# Demo mode only: the README gives these to whoever tries the product.
DEMO_AGENTS = (
    ("anna", "Anna", "agent", "anna-demo-password"),
    ("sam", "Sam", "supervisor", "sam-demo-password"),
)
_hasher = PasswordHasher()


class AgentError(ValueError):
    """A bad username, role or password; nothing was stored."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_agent(session: Session, *, username: str, display_name: str, role: str, password: str) -> tuple[Agent, str]:
    """A new agent and their first API token (shown once, stored only as a hash)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,63}", username):
        raise AgentError("username: 2-64 lowercase letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise AgentError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AgentError(f"password must have at least {MIN_PASSWORD} characters")
    if session.scalar(select(Agent).where(Agent.username == username)) is not None:
        raise AgentError(f"agent {username!r} already exists")
    agent = Agent(
        username=username, display_name=display_name.strip() or username, role=role,
        password_hash=_hasher.hash(password),
    )
    session.add(agent)
    token = issue_token(session, agent)
    return agent, token


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
    try:
        return _hasher.verify(agent.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def seed_demo_agents(session: Session) -> list[str]:
    """The demo agent and supervisor, unless any agent exists; returns the usernames added."""
    if session.scalar(select(Agent.id).limit(1)) is not None:
        return []
    for username, name, role, password in DEMO_AGENTS:
        add_agent(session, username=username, display_name=name, role=role, password=password)
    return [username for username, *_ in DEMO_AGENTS]
