"""knowledge-base answers, resolved gaps, ticket updates

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 02:06:16.649441
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kb_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.Column('sender_id', sa.String(length=128), nullable=False),
    sa.Column('tier', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_answers'))
    )
    with op.batch_alter_table('kb_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_answers_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_answers_entry_id'), ['entry_id'], unique=False)

    op.create_table('ticket_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('notify', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_ticket_updates_agent_id_agents')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_updates_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_updates'))
    )
    with op.batch_alter_table('ticket_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_updates_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('kb_gaps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_entry_id', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('kb_gaps', schema=None) as batch_op:
        batch_op.drop_column('resolved_entry_id')

    with op.batch_alter_table('ticket_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_updates_ticket_id'))

    op.drop_table('ticket_updates')
    with op.batch_alter_table('kb_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_answers_entry_id'))
        batch_op.drop_index(batch_op.f('ix_kb_answers_created_at'))

    op.drop_table('kb_answers')
