"""The database schema comes from Alembic migrations only, and matches the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from airlock.db.engine import make_engine
from airlock.db.models import Base
from airlock.db.schema import alembic_config, is_current, upgrade


def test_migrations__head_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    engine = make_engine(url)
    assert not is_current(engine)
    upgrade(url)
    assert is_current(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    with engine.connect() as conn:
        head = conn.exec_driver_sql("SELECT id, seq, hash FROM audit_head").all()
    assert head == [(1, 0, "0" * 64)]
    engine.dispose()


def test_migrations__downgrade_and_upgrade_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade(url)
    assert is_current(engine)
    engine.dispose()
