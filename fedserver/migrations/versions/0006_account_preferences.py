"""account preferences, account notes, scheduled statuses, notification groups

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 09:00:00

accounts gain the registration reason, the posting defaults (Mastodon's source[privacy],
source[sensitive], source[language]) and hide_collections. account_notes holds one private note per
(account, target actor). scheduled_statuses keep the posting parameters as JSON until they are due;
scheduled_status_media names the media they hold, so that the unattached-media cleanup spares them.
notifications.group_key is Mastodon 4.3's grouping key (favourite/reblog per status, follow), set when a
notification is made; older rows keep NULL and count as ungrouped.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registration_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('default_visibility', sa.String(length=16), nullable=False,
                                      server_default='public'))
        batch_op.add_column(sa.Column('default_sensitive', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('default_language', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('hide_collections', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_key', sa.String(length=64), nullable=True))

    op.create_table('account_notes',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('target_id', sa.BigInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_notes_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['actors.id'], name=op.f('fk_account_notes_target_id_actors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'target_id', name=op.f('pk_account_notes'))
    )
    op.create_table('scheduled_statuses',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_scheduled_statuses_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_statuses'))
    )
    with op.batch_alter_table('scheduled_statuses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_statuses_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scheduled_statuses_scheduled_at'), ['scheduled_at'], unique=False)

    op.create_table('scheduled_status_media',
    sa.Column('scheduled_status_id', sa.BigInteger(), nullable=False),
    sa.Column('media_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['media_id'], ['media_attachments.id'], name=op.f('fk_scheduled_status_media_media_id_media_attachments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scheduled_status_id'], ['scheduled_statuses.id'], name=op.f('fk_scheduled_status_media_scheduled_status_id_scheduled_statuses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('scheduled_status_id', 'media_id', name=op.f('pk_scheduled_status_media'))
    )
    with op.batch_alter_table('scheduled_status_media', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_status_media_media_id'), ['media_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('scheduled_status_media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_status_media_media_id'))
    op.drop_table('scheduled_status_media')
    with op.batch_alter_table('scheduled_statuses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_statuses_scheduled_at'))
        batch_op.drop_index(batch_op.f('ix_scheduled_statuses_account_id'))
    op.drop_table('scheduled_statuses')
    op.drop_table('account_notes')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('group_key')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('hide_collections')
        batch_op.drop_column('default_language')
        batch_op.drop_column('default_sensitive')
        batch_op.drop_column('default_visibility')
        batch_op.drop_column('registration_reason')
