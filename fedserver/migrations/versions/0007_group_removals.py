"""group removals: the posts a group's moderators took out of it

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 16:40:00

group_removals keeps one row per post a moderator removed from a group: who removed it, when, why,
and the post's address, author and a short excerpt, since the post itself may be gone. The moderator
and the author are kept as actor ids that become NULL when the actor goes; the row stays until the
group goes. Removal is not a ban: the author may post in the group again.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('group_removals',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('group_id', sa.BigInteger(), nullable=False),
    sa.Column('moderator_id', sa.BigInteger(), nullable=True),
    sa.Column('author_id', sa.BigInteger(), nullable=True),
    sa.Column('post_ap_id', sa.String(length=2048), nullable=False),
    sa.Column('excerpt', sa.String(length=500), nullable=False),
    sa.Column('reason', sa.String(length=1024), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['actors.id'], name=op.f('fk_group_removals_author_id_actors'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['actors.id'], name=op.f('fk_group_removals_group_id_actors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['moderator_id'], ['actors.id'], name=op.f('fk_group_removals_moderator_id_actors'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_removals'))
    )
    with op.batch_alter_table('group_removals', schema=None) as batch_op:
        batch_op.create_index('ix_group_removals_group_id_id', ['group_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('group_removals', schema=None) as batch_op:
        batch_op.drop_index('ix_group_removals_group_id_id')
    op.drop_table('group_removals')
