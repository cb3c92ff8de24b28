from __future__ import annotations

from collections.abc import Iterator
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


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    return url


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    with sessions_for(db_url).begin() as session:
        yield session
