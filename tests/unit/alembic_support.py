"""Run Alembic's commands on a connection the test holds (the migrations' tests)."""
from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from fedserver.db import MIGRATIONS_DIR


def alembic(connection: Connection, action: str, revision: str) -> None:
    """`alembic <action> <revision>` (upgrade, downgrade) on this connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    getattr(command, action)(config, revision)


def tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())
