"""search: full-text index of statuses (SQLite FTS5 table; PostgreSQL GIN index over a tsvector)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 18:00:00

SQLite: `status_search` holds each post's plain text under the status id as rowid. fedserver.local.search
writes it when a post is created, edited or arrives; a trigger drops it when the status row goes, so
cascades (an account deleted) leave no text behind. PostgreSQL: an expression index, nothing to keep
in step. Both expressions are copied here on purpose: a migration must not change when the code does.
"""
from __future__ import annotations

import html
import re

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Must stay identical to fedserver.local.search.PG_DOCUMENT, or PostgreSQL will not use the index.
PG_DOCUMENT = ("to_tsvector('simple', coalesce(statuses.spoiler_text, '') || ' ' || coalesce(statuses.title, '')"
               " || ' ' || regexp_replace(statuses.content_html, '<[^>]*>', ' ', 'g'))")
_TAG = re.compile(r"<[^>]*>")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_statuses_search ON statuses USING gin (({PG_DOCUMENT}))")
        return
    op.execute("CREATE VIRTUAL TABLE status_search USING fts5(body, tokenize='unicode61 remove_diacritics 2')")
    op.execute("CREATE TRIGGER status_search_forget AFTER DELETE ON statuses "
               "BEGIN DELETE FROM status_search WHERE rowid = old.id; END")
    rows = op.get_bind().execute(sa.text(
        "SELECT id, spoiler_text, title, content_html FROM statuses WHERE reblog_of_id IS NULL")).all()
    for row in rows:
        body = " ".join([row.spoiler_text or "", row.title or "", html.unescape(_TAG.sub(" ", row.content_html or ""))])
        op.get_bind().execute(sa.text("INSERT INTO status_search (rowid, body) VALUES (:id, :body)"),
                              {"id": row.id, "body": body})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_statuses_search")
        return
    op.execute("DROP TRIGGER status_search_forget")
    op.execute("DROP TABLE status_search")
