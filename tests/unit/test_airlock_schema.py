"""The database schema comes from Alembic migrations only, and matches the models."""

from __future__ import annotations

import pytest
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


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_migration_0004_federation_binding__upgrades_a_database_with_data(
    tmp_path, backend, request
):
    """A database of the schema before 0004, holding a released request, its file, review and
    audit entry, upgrades: every row is kept, the request has no binding, and bound requests
    can be stored after."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from airlock.db.data_access import DataAccess
    from airlock.domain import AuditEvent, FederationBinding
    from airlock.enums import AuditEventType

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_server").new_database()
    scripts = ScriptDirectory.from_config(alembic_config(url))
    previous = scripts.get_revision("0004").down_revision
    upgrade(url, previous)
    engine = make_engine(url)
    rows = {
        "requests": "INSERT INTO requests (id, project, requester, status, round, created_at, "
        "updated_at, submitted_at, released_at, bundle_name) VALUES ('0123456789abcdef', "
        "'nordic-gwas', 'researcher1', 'released', 1, :t, :t, :t, :t, 'dk-0123456789abcdef')",
        "request_files": "INSERT INTO request_files (request_id, name, source_path, description, "
        "disclosure_control, sha256, size, verdict, report, exception, added_at, updated_at) "
        "VALUES ('0123456789abcdef', 'freq.csv', 'results/freq.csv', 'counts', 'n >= 10', "
        "'ab', 2, 'pass', '{}', NULL, :t, :t)",
        "reviews": "INSERT INTO reviews (request_id, round, reviewer, decision, reason, "
        "acknowledged, created_at) VALUES ('0123456789abcdef', 1, 'reviewer1', 'approve', '', "
        "'[]', :t)",
    }
    import datetime as dt

    now = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
    stamp = now.replace(tzinfo=None) if backend == "sqlite" else now
    with engine.begin() as conn:
        for sql in rows.values():
            conn.execute(text(sql), {"t": stamp})
    dal = DataAccess(engine)
    with dal.write() as tx:
        tx.append_audit(AuditEvent(AuditEventType.CONFIG_CHANGED, "admin1", None, {"x": 1}))
    with engine.connect() as conn:
        before = {t: conn.execute(text(f"SELECT * FROM {t}")).all() for t in [*rows, "audit_log"]}
    engine.dispose()

    upgrade(url)
    engine = make_engine(url)
    assert is_current(engine)
    with engine.connect() as conn:
        for table, old in before.items():
            new = conn.execute(text(f"SELECT * FROM {table}")).all()
            width = len(old[0])
            assert [tuple(r)[:width] for r in new] == [tuple(r) for r in old], table
    dal = DataAccess(engine)
    with dal.read() as r:
        old_request = r.get_request("0123456789abcdef")
        assert old_request.federation is None and old_request.files[0].name == "freq.csv"
        assert r.verify_audit_chain().ok
    binding = FederationBinding("f" * 32, "c" * 64)
    with dal.write() as tx:
        tx.create_request(
            request_id="fedfedfedfedfed0",
            project="nordic-gwas",
            requester="federation",
            federation=binding,
            audit=AuditEvent(AuditEventType.REQUEST_CREATED, "federation", "fedfedfedfedfed0"),
        )
    with dal.read() as r:
        assert r.get_request("fedfedfedfedfed0").federation == binding


def test_migration_0003__a_database_with_requests_gets_release_errors(tmp_path):
    """A database made by the schema before release failures (0002), with a request, a file,
    a review and a chain of audit entries, upgrades with all of them intact."""
    from sqlalchemy import text

    from airlock.audit import GENESIS_HASH, canonical_json, entry_hash
    from airlock.db.data_access import DataAccess

    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    upgrade(url, "0002")
    engine = make_engine(url)
    now = "2026-11-30 10:00:00.000000"
    prev = GENESIS_HASH
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO requests (id, project, requester, status, round, created_at, "
                "updated_at, submitted_at) VALUES ('0123456789abcdef', 'nordic-gwas', "
                "'researcher1', 'approved', 1, :now, :now, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO request_files (request_id, name, source_path, description, "
                "disclosure_control, sha256, size, verdict, report, added_at, updated_at) VALUES "
                "('0123456789abcdef', 'freq.csv', 'results/freq.csv', 'counts', '>= 10', :sha, "
                "12, 'pass', '{\"findings\":[]}', :now, :now)"
            ),
            {"sha": "a" * 64, "now": now},
        )
        conn.execute(
            text(
                "INSERT INTO reviews (request_id, round, reviewer, decision, reason, "
                "acknowledged, created_at) VALUES ('0123456789abcdef', 1, 'reviewer1', "
                "'approve', '', '[]', :now)"
            ),
            {"now": now},
        )
        for seq, kind in enumerate(("request_created", "request_submitted"), start=1):
            fields = {
                "seq": seq,
                "time": f"2026-11-30T10:00:0{seq}.000000Z",
                "type": kind,
                "actor": "researcher1",
                "request_id": "0123456789abcdef",
                "details": canonical_json({"n": seq}),
                "prev_hash": prev,
            }
            prev = entry_hash(**fields)
            conn.execute(
                text(
                    "INSERT INTO audit_log (seq, time, type, actor, request_id, details, "
                    "prev_hash, hash) VALUES (:seq, :time, :type, :actor, :request_id, "
                    ":details, :prev_hash, :hash)"
                ),
                {**fields, "hash": prev},
            )
        conn.execute(text("UPDATE audit_head SET seq = 2, hash = :h WHERE id = 1"), {"h": prev})
    tables = ("requests", "request_files", "reviews", "audit_log", "audit_head")
    with engine.connect() as conn:
        before = {t: conn.execute(text(f"SELECT * FROM {t}")).all() for t in tables}

    upgrade(url, "0003")
    with engine.connect() as conn:
        after = {t: conn.execute(text(f"SELECT * FROM {t}")).all() for t in tables}
        errors = conn.execute(text("SELECT release_error FROM requests")).scalars().all()
    assert after["requests"] == [(*row, None) for row in before["requests"]]
    assert {t: after[t] for t in tables[1:]} == {t: before[t] for t in tables[1:]}
    assert errors == [None]
    upgrade(url)  # and on to the current schema
    assert is_current(engine)
    with DataAccess(engine).read() as r:
        request = r.get_request("0123456789abcdef")
        assert request.status == "approved" and request.release_error is None
        assert [f.name for f in request.files] == ["freq.csv"] and request.approvers == {
            "reviewer1"
        }
        assert r.verify_audit_chain().ok
    engine.dispose()


def test_migrations__the_release_ledger_keeps_the_files_checked_before_it(tmp_path):
    """0005 (release ledger, reviewer-only findings) on a database with a request in it: its
    file keeps its report, has no reviewer-only findings or tables, and nothing is in the
    ledger until something is released."""
    from airlock.db.data_access import DataAccess

    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    upgrade(url, "0004")
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
