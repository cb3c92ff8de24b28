"""orders: shipment status, carrier, tracking number, shipped, promised and delivered dates

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 10:00:00.000000

Existing orders are backfilled from what they already say: the parcel's state from the
order's status, and the promise the shop made until now, five days after the order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Frozen here as they were when written: later changes to the models must not rewrite history.
PROMISED_DAYS = 5
SHIPMENT_OF_STATUS = {
    "placed": "pending",
    "paid": "pending",
    "cancelled": "pending",
    "shipped": "in_transit",
    "delivered": "delivered",
    "returned": "returned",
    "refunded": "returned",
}


def _promised(dialect: str) -> sa.TextClause:
    if dialect == "sqlite":
        return sa.text(f"date(placed_at, '+{PROMISED_DAYS} days')")
    # PostgreSQL: a date plus an integer is a date.
    return sa.text(f"placed_at + {PROMISED_DAYS}")


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shipment_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("carrier", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("tracking_number", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("shipped_at", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("promised_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("delivered_at", sa.Date(), nullable=True))

    orders = sa.table(
        "orders",
        sa.column("status", sa.String()),
        sa.column("shipment_status", sa.String()),
        sa.column("promised_date", sa.Date()),
    )
    op.execute(
        orders.update().values(
            shipment_status=sa.case(SHIPMENT_OF_STATUS, value=orders.c.status, else_="pending"),
            promised_date=_promised(op.get_bind().dialect.name),
        )
    )

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column("shipment_status", existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column("promised_date", existing_type=sa.Date(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("promised_date")
        batch_op.drop_column("shipped_at")
        batch_op.drop_column("tracking_number")
        batch_op.drop_column("carrier")
        batch_op.drop_column("shipment_status")
