"""handoff messages: the key an agents' tool sent an agent's message with

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 04:00:00.000000

A tool that sends an agent's message again, not knowing whether the first try was
stored, names it with the same key; a unique index makes the second one the same
message. Messages without a key (the console's pages) are not affected: NULLs never clash.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoff_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_key", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_handoff_messages_client_key", ["handoff_id", "client_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("handoff_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_messages_client_key")
        batch_op.drop_column("client_key")
