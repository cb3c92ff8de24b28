from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.cli.local_servers import PostgresCluster, ServerMissing
from bot.db.migrate import upgrade
from bot.db.session import engine_for, sessions_for
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


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster for the run, started when a test first asks."""
    try:
        cluster = PostgresCluster().start()
    except ServerMissing as missing:
        pytest.fail(str(missing))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def migrated_pg(postgres: PostgresCluster) -> str:
    """A PostgreSQL database at the newest migration, the template each test's copy is made from."""
    url = postgres.create_database("migrated")
    upgrade(url)
    # A database is copied only while nobody is connected to it.
    engine_for(url).dispose()
    return "migrated"


_pg_databases = itertools.count()


@pytest.fixture
def pg_url(postgres: PostgresCluster, migrated_pg: str) -> str:
    """A PostgreSQL database of the test's own at the newest migration."""
    return postgres.create_database(f"test_{next(_pg_databases)}", template=migrated_pg)
