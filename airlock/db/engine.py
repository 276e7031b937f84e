"""Database engines with the locking the workflow relies on, on SQLite and PostgreSQL.

SQLite: write transactions start with ``BEGIN IMMEDIATE`` (the database write lock is taken at
the start, so two writers never both read a state and then both act on it), WAL journal,
``synchronous=FULL`` (a committed release survives a crash), foreign keys on.
PostgreSQL: write transactions lock the request's row (``SELECT ... FOR UPDATE``) and the audit
head row; see airlock.db.data_access.
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

#: execution option marking a connection whose transactions will write
WRITE_OPTION = "airlock_write"


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            for pragma in (
                "foreign_keys=ON",
                "journal_mode=WAL",
                "synchronous=FULL",
                "busy_timeout=60000",
            ):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            write = conn.get_execution_options().get(WRITE_OPTION)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise ValueError(
        f"the airlock supports SQLite and PostgreSQL databases, not {parsed.get_backend_name()!r}"
    )
