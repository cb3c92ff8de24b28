"""channel messages seen, account binding attempts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 02:41:17.271392
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bind_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('channel_user_id', sa.String(length=128), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bind_attempts'))
    )
    with op.batch_alter_table('bind_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bind_attempts_channel_user_id'), ['channel_user_id'], unique=False)

    op.create_table('channel_messages_seen',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_channel_messages_seen'))
    )
    with op.batch_alter_table('channel_messages_seen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_messages_seen_seen_at'), ['seen_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('channel_messages_seen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_messages_seen_seen_at'))

    op.drop_table('channel_messages_seen')
    with op.batch_alter_table('bind_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bind_attempts_channel_user_id'))

    op.drop_table('bind_attempts')
