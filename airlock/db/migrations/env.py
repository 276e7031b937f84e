"""Alembic environment: the airlock's metadata, the URL from the caller (airlock.db.schema)."""

from __future__ import annotations

from airlock.db.engine import make_engine
from airlock.db.models import Base
from tresor.core.database import run_migrations

run_migrations(Base.metadata, make_engine)
