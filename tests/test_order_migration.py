"""Migration 0007 on SQLite: orders stored before it keep their data and get their shipment facts."""

import sqlalchemy as sa
from alembic import command

from bot.db.migrate import alembic_config
from bot.db.session import engine_for


def _orders(url: str) -> list[tuple]:
    with engine_for(url).connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text("SELECT * FROM orders ORDER BY id"))]


def test_existing_orders_are_backfilled_going_up_and_keep_their_data_going_down(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0006")
    with engine_for(url).begin() as connection:
        connection.execute(
            sa.text("INSERT INTO customers (id, name, language, created_at) VALUES ('C1', 'Ann', 'en', '2026-01-01')")
        )
        connection.execute(
            sa.text(
                "INSERT INTO orders (id, customer_id, placed_at, amount, status, items) VALUES "
                "('O1', 'C1', '2026-11-28', 10, 'shipped', 'Lamp x1'), "
                "('O2', 'C1', '2026-10-30', 20, 'delivered', 'Mug x2'), "
                "('O3', 'C1', '2026-10-01', 30, 'refunded', 'Scarf x1'), "
                "('O4', 'C1', '2026-11-29', 40, 'paid', 'Tea x1')"
            )
        )
    before = _orders(url)

    command.upgrade(config, "0007")
    with engine_for(url).connect() as connection:
        rows = connection.execute(
            sa.text("SELECT id, shipment_status, promised_date, carrier, delivered_at FROM orders ORDER BY id")
        )
        assert [tuple(row) for row in rows] == [
            ("O1", "in_transit", "2026-12-03", None, None),
            ("O2", "delivered", "2026-11-04", None, None),
            ("O3", "returned", "2026-10-06", None, None),
            ("O4", "pending", "2026-12-04", None, None),
        ]

    command.downgrade(config, "0006")
    assert _orders(url) == before
