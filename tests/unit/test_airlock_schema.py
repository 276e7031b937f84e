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


def test_migrations__the_release_ledger_keeps_the_files_checked_before_it(tmp_path):
    """0003 (release ledger, reviewer-only findings) on a database with a request in it: its
    file keeps its report, has no reviewer-only findings or tables, and nothing is in the
    ledger until something is released."""
    from airlock.db.data_access import DataAccess

    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    upgrade(url, "0002")
    engine = make_engine(url)
    now = "2026-11-30 12:00:00.000000"
    report = '{"findings":[],"path":"counts.csv","verdict":"pass"}'
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO requests (id, project, requester, status, round, created_at, "
            "updated_at) VALUES ('r1', 'nordic-gwas', 'researcher1', 'submitted', 1, ?, ?)",
            (now, now),
        )
        conn.exec_driver_sql(
            "INSERT INTO request_files (request_id, name, source_path, description, "
            "disclosure_control, sha256, size, verdict, report, added_at, updated_at) "
            "VALUES ('r1', 'counts.csv', 'out/counts.csv', 'd', 'c', ?, 42, 'pass', ?, ?, ?)",
            ("ab" * 32, report, now, now),
        )
    upgrade(url)
    assert is_current(engine)
    with DataAccess(engine).read() as r:
        [f] = r.get_request("r1").files
        assert r.ledger(project="nordic-gwas", datasets=["dk"], projects=[], request_id="r2") == []
    assert (f.name, f.size, f.verdict, f.report["path"]) == ("counts.csv", 42, "pass", "counts.csv")
    assert (f.reviewer_findings, f.tables) == ((), ())
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM released_tables").scalar() == 0
    engine.dispose()
