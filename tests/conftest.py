from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.db.migrate import upgrade
from bot.db.session import sessions_for
from bot.service.tiers import TierConfig, load_tiers
from bot.settings import ROOT

SECRET = "test-identity-secret"


@pytest.fixture(scope="session")
def tiers() -> TierConfig:
    return load_tiers(ROOT / "tiers.yml")


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database at the newest migration, made once: migrating takes longer than most tests."""
    path = tmp_path_factory.mktemp("migrated") / "bot.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def db_url(tmp_path: Path, migrated_db: Path) -> str:
    """A database of the test's own, copied from the migrated one."""
    path = tmp_path / "bot.db"
    with closing(sqlite3.connect(migrated_db)) as source, closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    return f"sqlite:///{path}"


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    with sessions_for(db_url).begin() as session:
        yield session
