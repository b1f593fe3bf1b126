"""idempotency keys for scheduled statuses

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 19:40:00

A POST /api/v1/statuses with scheduled_at and an Idempotency-Key answers a retry with the scheduled
status made the first time, as Mastodon does: a key now points at a status or at a scheduled status
(and goes with it).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.alter_column('status_id', existing_type=sa.BigInteger(), nullable=True)
        batch_op.add_column(sa.Column('scheduled_status_id', sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_idempotency_keys_scheduled_status_id_scheduled_statuses'),
                                    'scheduled_statuses', ['scheduled_status_id'], ['id'], ondelete='CASCADE')
        batch_op.create_check_constraint('made', 'status_id IS NOT NULL OR scheduled_status_id IS NOT NULL')


def downgrade() -> None:
    op.execute("DELETE FROM idempotency_keys WHERE status_id IS NULL")
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_idempotency_keys_made'), type_='check')
        batch_op.drop_constraint(op.f('fk_idempotency_keys_scheduled_status_id_scheduled_statuses'),
                                 type_='foreignkey')
        batch_op.drop_column('scheduled_status_id')
        batch_op.alter_column('status_id', existing_type=sa.BigInteger(), nullable=False)
