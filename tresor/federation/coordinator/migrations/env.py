"""Alembic environment: the coordinator's metadata, the URL from the caller (coordinator.db)."""

from __future__ import annotations

from tresor.core.database import run_migrations
from tresor.federation.coordinator.db import make_engine
from tresor.federation.coordinator.models import Base

run_migrations(Base.metadata, make_engine)
