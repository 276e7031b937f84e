"""The coordinator's database: SQLite (one machine) or PostgreSQL (production), schema by
Alembic only.

SQLite: every transaction starts with ``BEGIN IMMEDIATE`` (one writer at a time; the
coordinator's traffic is a few polls a minute per node), WAL journal, ``synchronous=FULL``.
PostgreSQL: writes that change a request lock its row (``SELECT ... FOR UPDATE``), so two
bundles arriving at once cannot both start the merge.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from tresor.core import database
from tresor.core.errors import ConfigError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=FULL"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise ConfigError(
        "the coordinator supports SQLite and PostgreSQL databases, not "
        f"{parsed.get_backend_name()!r}"
    )


def alembic_config(url: str) -> Config:
    return database.alembic_config(url, MIGRATIONS)


def upgrade(url: str, revision: str = "head") -> None:
    """``alembic upgrade head`` on the database (``tresor federation serve`` runs it first)."""
    database.upgrade(url, MIGRATIONS, revision)


def is_current(engine: Engine) -> bool:
    return database.is_current(engine, MIGRATIONS)
