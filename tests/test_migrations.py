"""Every migration runs up and down on both databases the product supports, and the newest
schema is the one the models describe."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.db.migrate import alembic_config
from bot.db.models import Base
from bot.db.session import engine_for


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def empty_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    cluster = request.getfixturevalue("postgres")
    return cluster.create_database(f"empty_{tmp_path.name.lower().replace('-', '_')}")


def _tables(url: str) -> set[str]:
    return set(sa.inspect(engine_for(url)).get_table_names()) - {"alembic_version"}


def _differences(url: str) -> list:
    with engine_for(url).connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def test_the_migrations_go_up_to_the_models_and_all_the_way_down_again(empty_url):
    config = alembic_config(empty_url)
    command.upgrade(config, "head")
    assert _tables(empty_url) == set(Base.metadata.tables)
    assert _differences(empty_url) == []

    command.downgrade(config, "base")
    assert _tables(empty_url) == set()

    command.upgrade(config, "head")
    assert _differences(empty_url) == []
