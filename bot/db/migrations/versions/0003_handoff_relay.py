"""handoff relay, agent api tokens, one outcome per conversation

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 01:33:57.583881
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows from before this revision get English, the language they were served in by default.
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_agents_api_token_hash'), ['api_token_hash'])

    with op.batch_alter_table('conversation_outcomes', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_conversation_outcomes_sender_id'), ['sender_id', 'started_at'])

    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=False, server_default='en'))
        batch_op.add_column(sa.Column('ticket_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_handoffs_ticket_id_tickets'), 'tickets', ['ticket_id'], ['id'])

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=False, server_default='en'))



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('language')

    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_handoffs_ticket_id_tickets'), type_='foreignkey')
        batch_op.drop_column('ticket_id')
        batch_op.drop_column('language')

    with op.batch_alter_table('conversation_outcomes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_conversation_outcomes_sender_id'), type_='unique')

    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_agents_api_token_hash'), type_='unique')
        batch_op.drop_column('api_token_hash')

