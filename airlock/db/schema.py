"""Create or upgrade the airlock database with Alembic (never ``create_all``)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy import Engine

from tresor.core import database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    return database.alembic_config(url, MIGRATIONS)


def upgrade(url: str, revision: str = "head") -> None:
    """``alembic upgrade head`` on the database at ``url``; run before the service starts."""
    database.upgrade(url, MIGRATIONS, revision)


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest migration."""
    return database.is_current(engine, MIGRATIONS)
