"""Engines and session factories, made on first use from a database URL.

Nothing connects at import: the action server imports every actions module at
start, and the URL may differ per process (tests run several databases).
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Session", "Sessions", "engine_for", "sessions_for"]

# What adapters (actions, console routes) name when they hold a unit of work, without
# depending on SQLAlchemy themselves.
Sessions = sessionmaker[Session]


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Foreign keys are off by default in SQLite; WAL lets the action server read
    # while the console or the CLI writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@lru_cache(maxsize=8)
def sessions_for(url: str) -> Sessions:
    """The session factory for ``url``; callers frame transactions with ``.begin()``."""
    return sessionmaker(engine_for(url), expire_on_commit=False)
