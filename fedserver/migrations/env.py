"""Alembic environment: runs on the connection fedserver.db.migrate hands over."""
from __future__ import annotations

from alembic import context

import fedserver.inbox.queue  # noqa: F401  (registers every table)
import fedserver.local.models  # noqa: F401
import fedserver.outbox.deliveries  # noqa: F401
import fedserver.outbox.published  # noqa: F401
from fedserver.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `fedserver db upgrade` (fedserver.db.migrate), not the alembic CLI")

# render_as_batch: SQLite cannot ALTER most things; batch mode rebuilds tables instead.
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
