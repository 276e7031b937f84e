"""Helpers for the airlock tests: settings in a temp dir, users, a client per user, DB dumps.

Where no hub runs (API, workflow and concurrency tests), :class:`FixedIdentities` answers the
question the service asks the hub ("who owns this token?") with the same user model the hub
returns (name, groups, token scopes); everything behind it, including the scope check, is the
service's real code. Tests under tests/hub and tests/browser use the real hub instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from airlock.api.deps import ACCESS_SCOPE
from airlock.app import build_airlock, create_app
from airlock.checks import FileReport, Finding, Location, Verdict
from airlock.config import Settings
from airlock.db.models import Base
from airlock.db.schema import upgrade
from airlock.domain import AuditEntry
from airlock.web.sessions import Sessions
from airlock.workflow import Airlock
from tresor.core.airlock_config import AirlockConfig

PROJECTS = ("nordic-gwas", "uk-study")

USERS: dict[str, frozenset[str]] = {
    "researcher1": frozenset({"researchers", "nordic-gwas"}),
    "researcher2": frozenset({"researchers", "uk-study"}),
    "reviewer1": frozenset({"airlock-reviewers"}),
    "reviewer2": frozenset({"airlock-reviewers"}),
    "reviewer3": frozenset({"airlock-reviewers"}),
    "admin1": frozenset({"admins"}),
    # a researcher who is also a reviewer: may review others' requests, never their own
    "both1": frozenset({"researchers", "airlock-reviewers", "nordic-gwas"}),
    "outsider": frozenset(),
}

#: token prefix for tokens of a real user that lack the airlock's access scope
NO_SCOPE = "noscope-"
#: token prefix for hub services' tokens (with the access scope): ``service-<name>``
SERVICE = "service-"
#: the token of the node's federation agent (the hub service tresor.core.site.FEDERATION_SERVICE)
AGENT_TOKEN = f"{SERVICE}federation-agent"


class FixedIdentities:
    """Stands in for the hub where none runs: token -> the hub's user model, or None.

    A token is the user's name; ``noscope-<name>`` is that user's token without
    ``access:services!service=airlock``; ``service-<name>`` is hub service ``name``'s token.
    """

    async def user_for_token(self, token: str) -> dict[str, Any] | None:
        if token.startswith(SERVICE):
            name = token.removeprefix(SERVICE)
            return {"kind": "service", "name": name, "scopes": [ACCESS_SCOPE]}
        name = token.removeprefix(NO_SCOPE)
        if name not in USERS:
            return None
        scopes = [f"read:users:name!user={name}"]
        if not token.startswith(NO_SCOPE):
            scopes.append(ACCESS_SCOPE)
        return {"kind": "user", "name": name, "groups": sorted(USERS[name]), "scopes": scopes}


def make_chain(n: int) -> list[AuditEntry]:
    """A valid audit hash chain of ``n`` entries (no database)."""
    from airlock.audit import GENESIS_HASH, canonical_json, entry_hash

    entries, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        fields = {
            "seq": seq,
            "time": f"2026-01-01T00:00:{seq:02d}.000000Z",
            "type": "file_viewed",
            "actor": f"reviewer{seq % 3}",
            "request_id": "0123456789abcdef",
            "details": {"file": f"f{seq}.csv", "n": seq},
        }
        h = entry_hash(**{**fields, "details": canonical_json(fields["details"])}, prev_hash=prev)
        entries.append(AuditEntry(**fields, prev_hash=prev, hash=h))
        prev = h
    return entries


def marker_checker(path: Path, name: str, context=None) -> FileReport:
    """Workflow-test checker: a file containing ``BLOCK`` (or ``REVIEW``) gets that verdict,
    with a finding at row 1, column 1. The checks' own tests cover the real rules."""
    data = Path(path).read_bytes()
    for word, verdict in ((b"BLOCK", Verdict.BLOCK), (b"REVIEW", Verdict.REVIEW)):
        if word in data:
            return FileReport(
                path=name,
                findings=(
                    Finding(
                        rule=f"test-{word.decode().lower()}",
                        verdict=verdict,
                        message=f"the file contains {word.decode()}",
                        location=Location(row=1, column="1", value=word.decode()),
                    ),
                ),
            )
    return FileReport(path=name)


def make_settings(
    root: Path, database_url: str | None = None, node_name: str = "testnode", **runtime: Any
) -> Settings:
    """Settings of a node whose federation agent acts as the account ``federation``, a
    researcher of project nordic-gwas."""
    root.mkdir(parents=True, exist_ok=True)
    return Settings(
        node_name=node_name,
        database_url=database_url or f"sqlite:///{root / 'airlock.sqlite'}",
        workspaces_dir=root / "workspaces",
        store_dir=root / "store",
        outbox_dir=root / "outbox",
        signing_key_path=root / "secrets" / "signing_key.pem",
        audit_checkpoints_path=root / "audit-checkpoints.jsonl",
        cookie_secret_path=root / "secrets" / "cookie_secret",
        catalogue_dir=root / "catalogue",
        projects=PROJECTS,
        defaults=AirlockConfig(**runtime),
        federation_service="federation-agent",
        federation_account="federation",
        federation_groups=("nordic-gwas", "researchers"),
    )


def make_airlock(settings: Settings, checker=None) -> Airlock:
    """The service's workflow over ``settings``; the node's real disclosure checks unless a
    ``checker`` is given."""
    upgrade(settings.database_url)  # a no-op on a copy of a migrated template
    return build_airlock(settings, checker=checker)


def png(width: int = 4, height: int = 3) -> bytes:
    """A small, valid PNG image (red pixels)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class MigratedDatabases:
    """Fresh, migrated databases quickly: Alembic runs once per backend, then copies are made
    (a file copy for SQLite, ``CREATE DATABASE ... TEMPLATE`` for PostgreSQL)."""

    def __init__(self, workdir: Path, postgres=None) -> None:
        self.workdir = workdir
        self.postgres = postgres
        self._sqlite: Path | None = None
        self._pg_template: str | None = None

    def sqlite(self, target: Path) -> str:
        if self._sqlite is None:
            self._sqlite = self.workdir / "template.sqlite"
            upgrade(f"sqlite:///{self._sqlite}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._sqlite, target)
        return f"sqlite:///{target}"

    def postgresql(self) -> str:
        if self._pg_template is None:
            url = self.postgres.new_database()
            upgrade(url)
            self._pg_template = url.rsplit("/", 1)[1]
        return self.postgres.new_database(template=self._pg_template)

    def new(self, backend: str, target: Path) -> str:
        return self.sqlite(target) if backend == "sqlite" else self.postgresql()


def make_app(airlock: Airlock):
    sessions = Sessions(secrets.token_hex(16), path=airlock.settings.base_url)
    return create_app(airlock, identity=FixedIdentities(), sessions=sessions)


def register_samples(
    catalogue: Path, dataset: str, sample_ids: list[str], grants: tuple[str, ...]
) -> Path:
    """A dataset in a catalogue: a Zarr store holding just its ``sample_id`` array (what the
    airlock reads of a VCF Zarr store) and its catalogue entry granted to ``grants``."""
    import numpy as np
    import zarr

    from tresor.core.catalogue import DatasetEntry, register_dataset

    store = catalogue.parent / "stores" / f"{dataset}.vcz"
    group = zarr.open_group(str(store), mode="w")
    array = group.create_array("sample_id", shape=(len(sample_ids),), dtype=str)
    array[:] = np.array(sample_ids, dtype=object)
    entry = DatasetEntry(
        id=dataset, title=dataset, store=store, n_samples=len(sample_ids), grants=grants
    )
    return register_dataset(entry, catalogue)


def write_workspace_file(settings: Settings, user: str, relative: str, data: bytes) -> Path:
    path = settings.workspaces_dir / user / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


class Api:
    """A TestClient that speaks as one user or another: ``api.as_("reviewer1").post(...)``."""

    def __init__(self, app, prefix: str) -> None:
        from fastapi.testclient import TestClient

        self.client = TestClient(app, raise_server_exceptions=False)
        self.prefix = prefix.rstrip("/") + "/api"

    def as_(self, token: str | None) -> _As:
        return _As(self, token)


class _As:
    def __init__(self, api: Api, token: str | None) -> None:
        self.api, self.token = api, token

    def request(self, method: str, path: str, **kw):
        headers = kw.pop("headers", {})
        if self.token is not None:
            headers["Authorization"] = f"token {self.token}"
        return self.api.client.request(method, self.api.prefix + path, headers=headers, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def with_colliding_names(airlock: Airlock, settings: Settings) -> str:
    """A submitted request with files named `out` and `out/b.tsv`, as a database written before
    names were checked may hold them (a bundle cannot hold both: issue 12), approved once.
    Returns its id."""
    from sqlalchemy import text

    from airlock.domain import User
    from airlock.enums import Decision, RequestStatus
    from airlock.workflow import set_status

    researcher = User("researcher1", USERS["researcher1"])
    request = airlock.create_request(researcher, "nordic-gwas")
    for name in ("a.tsv", "b.tsv"):
        data = b"variant,ALT_CT\n1:1:A:G,40\n" + name.encode()
        write_workspace_file(settings, "researcher1", name, data)
        airlock.add_file(researcher, request.id, path=name, description="d", disclosure_control="c")
    with airlock.dal.engine.begin() as conn:
        for old, new in (("a.tsv", "out"), ("b.tsv", "out/b.tsv")):
            conn.execute(
                text("UPDATE request_files SET name = :new WHERE request_id = :id AND name = :old"),
                {"new": new, "old": old, "id": request.id},
            )
    with airlock.dal.write(request.id) as tx:  # submitted, as the older version allowed
        set_status(tx, tx.get_request(request.id), RequestStatus.SUBMITTED, researcher, round=1)
    airlock.decide(User("reviewer1", USERS["reviewer1"]), request.id, Decision.APPROVE)
    return request.id


def rewrite_audit_log(
    database_url: str, *, edit: dict[int, dict[str, Any]] | None = None, keep: int | None = None
) -> None:
    """What someone with write access to the airlock's SQLite database (but not its signing
    key) can do to the audit log: drop the append-only triggers, change entries (``edit``:
    seq -> fields) or delete all after entry ``keep``, recompute every later hash with the
    project's own ``entry_hash``, and move the head, so that the chain itself verifies."""
    import sqlalchemy as sa

    from airlock.audit import GENESIS_HASH, entry_hash

    edit = edit or {}
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
        if keep is not None:
            conn.exec_driver_sql(f"DELETE FROM audit_log WHERE seq > {int(keep)}")
        rows = conn.exec_driver_sql(
            "SELECT seq, time, type, actor, request_id, details FROM audit_log ORDER BY seq"
        ).all()
        prev, first = GENESIS_HASH, min(edit, default=None)
        for seq, time_, type_, actor, request_id, details in rows:
            stored = {"seq": seq, "time": time_, "type": type_, "actor": actor,
                      "request_id": request_id, "details": details}  # fmt: skip
            fields = {**stored, **edit.get(seq, {})}
            new = entry_hash(**fields, prev_hash=prev)
            if first is not None and seq >= first:
                conn.execute(
                    sa.text(
                        "UPDATE audit_log SET actor = :actor, details = :details, "
                        "prev_hash = :prev, hash = :new WHERE seq = :seq"
                    ),
                    {**fields, "prev": prev, "new": new},
                )
            prev = new
        conn.execute(
            sa.text("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1"),
            {"seq": rows[-1][0] if rows else 0, "hash": prev},
        )
    engine.dispose()


def audit_verify_args(settings: Settings) -> list[str]:
    """``tresor airlock audit verify`` for the airlock of ``settings``."""
    return [
        "airlock", "audit", "verify",
        "--database-url", settings.database_url,
        "--checkpoints", str(settings.audit_checkpoints_path),
        "--outbox", str(settings.outbox_dir),
        "--public-key", str(settings.public_key_path),
    ]  # fmt: skip


def database_dump(airlock: Airlock) -> dict[str, list]:
    """Every row of every airlock table, for "this refused action changed nothing"."""
    dump = {}
    with airlock.dal.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:  # the migrated schema (test_airlock_schema)
            rows = conn.execute(select(table)).all()
            dump[table.name] = sorted(json.dumps([str(v) for v in row]) for row in rows)
    return dump


def tree(path: Path) -> list[str]:
    """Names of every file under ``path`` (outbox, store), sorted."""
    if not path.exists():
        return []
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


class Service:
    """``python -m tests.airlock_server`` on a free port; killed (SIGKILL) on exit."""

    def __init__(self, settings, env: dict | None = None) -> None:
        self.settings = settings
        from tests.postgres import free_port

        self.port = free_port()
        config = Path(settings.store_dir).parent / f"settings-{self.port}.json"
        config.write_text(settings.model_dump_json())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.airlock_server", str(config), str(self.port)],
            cwd=Path(__file__).resolve().parent.parent,
            env={**os.environ, **(env or {})},
        )
        self.url = f"http://127.0.0.1:{self.port}{settings.base_url}api"
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/public-key", timeout=5).status_code == 200:
                    break
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the airlock test service did not start")
            time.sleep(0.2)

    def post(self, token: str, path: str, **kw) -> httpx.Response:
        headers = {"Authorization": f"token {token}"}
        return httpx.post(f"{self.url}{path}", headers=headers, timeout=120, **kw)

    def get(self, token: str, path: str, **kw) -> httpx.Response:
        headers = {"Authorization": f"token {token}"}
        return httpx.get(f"{self.url}{path}", headers=headers, timeout=120, **kw)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
