"""The coordinator in-process (its FastAPI app through a TestClient), on SQLite and PostgreSQL:
accounts, signed requests, signed polls, bundles verified against the registry, the merge.

The registered analyses and the merge are the STUBS of tests.federation.stubs until the real
ones land (then those run here). The three-node scenarios are in tests/federation.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import tarfile

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text

from tests.federation.bundles import archive_of, make_bundle
from tests.federation.keys import NodeKeys, new_key, registry_document, write_registry
from tests.federation.stubs import install
from tresor.federation.coordinator.app import create_app
from tresor.federation.coordinator.config import CoordinatorSettings
from tresor.federation.coordinator.db import alembic_config, is_current, make_engine, upgrade
from tresor.federation.coordinator.models import AccountRow, Base, BeaconQueriesRow, EventRow
from tresor.federation.coordinator.service import Coordinator
from tresor.federation.crate import SignedCrate, verify_signed_crate
from tresor.federation.signing import generate_private_key, sign_call

STUBBED = install()


def table() -> bytes:
    """An allele count table as the (stub) analysis writes it."""
    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame(
        {"#CHROM": ["chr22"], "POS": [100], "ID": ["chr22:100:A:G"], "REF": ["A"], "ALT": ["G"],
         "ALT_CTS": [20], "OBS_CT": [200]}
    ).to_parquet(buffer, index=False)  # fmt: skip
    return buffer.getvalue()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path):
    if request.param == "sqlite":
        (tmp_path / "data").mkdir()
        return f"sqlite:///{tmp_path / 'data' / 'coordinator.sqlite'}"
    return request.getfixturevalue("postgres_server").new_database()


@pytest.fixture
def world(tmp_path, database):
    coordinator_key_path = tmp_path / "coordinator.pem"
    coordinator_key = generate_private_key(coordinator_key_path)
    nodes = {n: NodeKeys(n, n.upper(), new_key(), new_key()) for n in ("dk", "se")}
    document = registry_document(
        "test", "http://coordinator.test", coordinator_key, list(nodes.values())
    )
    registry = write_registry(tmp_path / "registry.toml", document)
    settings = CoordinatorSettings(
        registry_path=tmp_path / "registry.toml",
        signing_key_path=coordinator_key_path,
        data_dir=tmp_path / "data",
        database_url=database,
    )
    upgrade(settings.url)
    service = Coordinator(settings)
    client = TestClient(create_app(service), raise_server_exceptions=True)
    token = service.add_account("alice", ["nordic-gwas"])
    yield service, client, registry, nodes, {"Authorization": f"Bearer {token}"}
    service.close()


def signed(client, keys: NodeKeys, path: str, body: bytes, node: str | None = None, **kw):
    headers = sign_call(keys.agent, node or keys.name, "POST", path, body, **kw)
    if path.endswith("/poll"):
        headers["Content-Type"] = "application/json"
    return client.post(path, content=body, headers=headers), headers


def poll(client, keys, statuses=()):
    body = json.dumps({"statuses": list(statuses)}).encode()
    response, _ = signed(client, keys, "/api/node/poll", body)
    assert response.status_code == 200, response.text
    return response.json()


def test_coordinator__migrations_make_the_models_schema(database):
    engine = make_engine(database)
    assert not is_current(engine)
    upgrade(database)
    assert is_current(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    command.downgrade(alembic_config(database), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()


def test_coordinator__request_polls_bundles_merge(world, tmp_path):
    service, client, registry, nodes, alice = world
    body = {
        "project": "nordic-gwas",
        "analysis": "allele_counts",
        "targets": [{"node": "dk", "dataset": "dk"}, {"node": "se", "dataset": "se"}],
    }
    r = client.post("/api/requests", json=body, headers=alice)
    assert r.status_code == 201, r.text
    request = r.json()
    rid = request["id"]
    assert {t["node"]: t["status"] for t in request["targets"]} == {
        "dk": "waiting",
        "se": "waiting",
    }
    # the signed crate is what nodes verify, with the registry's coordinator key
    crate = SignedCrate.from_json(client.get(f"/api/requests/{rid}/crate", headers=alice).json())
    assert crate.sha256 == request["crate_sha256"]
    assert verify_signed_crate(crate, registry).targets[0].node == "dk"

    # dk polls: gets the crate; reports running, then in review
    answer = poll(client, nodes["dk"])
    assert [p["request_id"] for p in answer["requests"]] == [rid]
    assert SignedCrate.from_json(answer["requests"][0]["crate"]).sha256 == crate.sha256
    poll(client, nodes["dk"], [{"request_id": rid, "status": "running"}])
    poll(client, nodes["dk"], [{"request_id": rid, "status": "in_review"}])
    # a node cannot claim released without a bundle
    body_released = json.dumps({"statuses": [{"request_id": rid, "status": "released"}]}).encode()
    r, _ = signed(client, nodes["dk"], "/api/node/poll", body_released)
    assert r.status_code == 422
    # going back is ignored, with the reason
    back = poll(client, nodes["dk"], [{"request_id": rid, "status": "running"}])
    assert "cannot go from in_review to running" in back["ignored"][0]

    bundle = make_bundle(
        tmp_path / "dk", nodes["dk"].release, node="dk", request_id=rid,
        crate_sha256=crate.sha256, files={"allele_counts.parquet": table()},
    )  # fmt: skip
    r, _ = signed(client, nodes["dk"], f"/api/node/requests/{rid}/bundle", archive_of(bundle))
    assert r.status_code == 200, r.text
    status = client.get(f"/api/requests/{rid}", headers=alice).json()
    assert {t["node"]: t["status"] for t in status["targets"]} == {
        "dk": "released",
        "se": "waiting",
    }
    assert status["state"] == "open"
    r = client.get(f"/api/requests/{rid}/result", headers=alice)
    assert r.status_code == 409 and "waiting for se" in r.json()["detail"]
    # dk has answered: no more crate for it; the same bundle again is refused as answered
    assert poll(client, nodes["dk"])["requests"] == []
    r, _ = signed(client, nodes["dk"], f"/api/node/requests/{rid}/bundle", archive_of(bundle))
    assert r.status_code == 409 and "already answered" in r.json()["detail"]

    # se refuses: every node has answered, the merge runs over dk's bundle
    poll(client, nodes["se"], [{"request_id": rid, "status": "refused", "reason": "not granted"}])
    status = client.get(f"/api/requests/{rid}", headers=alice).json()
    if "merge" in STUBBED:
        assert status["state"] == "merged", status
        assert "refused by se" in status["message"]
        r = client.get(f"/api/requests/{rid}/result", headers=alice)
        assert r.status_code == 200
        with tarfile.open(fileobj=io.BytesIO(r.content)) as tar:
            assert f"{rid}/provenance.json" in tar.getnames()
    kinds = [e.kind for e in _events(service, rid)]
    assert kinds[:1] == ["request_created"] and "bundle_received" in kinds
    assert kinds.count("status_reported") == 3


def test_coordinator__imports_the_signed_refusal_of_an_offline_node(world, tmp_path):
    from tresor.federation.coordinator.service import Conflict
    from tresor.federation.refusal import Refusal, RefusalNotAccepted, sign_refusal

    service, client, _, nodes, alice = world
    body = {
        "project": "nordic-gwas",
        "analysis": "allele_counts",
        "targets": [{"node": "dk", "dataset": "dk"}, {"node": "se", "dataset": "se"}],
    }
    request = client.post("/api/requests", json=body, headers=alice).json()
    rid, crate_sha256 = request["id"], request["crate_sha256"]

    def refusal(node: str, key, **changes) -> bytes:
        fields = dict(federation="test", request_id=rid, crate_sha256=crate_sha256, node=node,
                      reason=f"node {node} does not offer dataset {node} to the federation",
                      refused_at=dt.datetime.now(dt.UTC))  # fmt: skip
        return sign_refusal(Refusal(**{**fields, **changes}), key).to_bytes()

    # signed with se's release key, or about another crate: not accepted, and recorded
    with pytest.raises(RefusalNotAccepted, match=r"\(signature\)"):
        service.receive_refusal(rid, refusal("se", nodes["se"].release), actor="import")
    with pytest.raises(RefusalNotAccepted, match=r"\(other crate\)"):
        service.receive_refusal(
            rid, refusal("se", nodes["se"].agent, crate_sha256="0" * 64), actor="import"
        )
    status = client.get(f"/api/requests/{rid}", headers=alice).json()
    assert {t["node"]: t["status"] for t in status["targets"]} == {"dk": "waiting", "se": "waiting"}

    said = service.receive_refusal(rid, refusal("se", nodes["se"].agent), actor="import")
    assert said.node == "se"
    status = client.get(f"/api/requests/{rid}", headers=alice).json()
    se = next(t for t in status["targets"] if t["node"] == "se")
    assert se["status"] == "refused" and "does not offer dataset se" in se["reason"]
    assert status["state"] == "open"  # dk has not answered
    # once dk has released, it cannot refuse any more
    bundle = make_bundle(
        tmp_path / "dk", nodes["dk"].release, node="dk", request_id=rid,
        crate_sha256=crate_sha256, files={"allele_counts.parquet": table()},
    )  # fmt: skip
    service.receive_bundle(rid, archive_of(bundle), poster="dk", actor="node:dk")
    with pytest.raises(Conflict, match="dk has already answered"):
        service.receive_refusal(rid, refusal("dk", nodes["dk"].agent), actor="import")
    events = [(e.kind, e.actor) for e in _events(service, rid)]
    assert events.count(("refusal_not_accepted", "import")) == 2
    assert ("refusal_imported", "import") in events


def _events(service, rid):
    with service.store.transaction() as s:
        return s.scalars(
            select(EventRow).where(EventRow.request_id == rid).order_by(EventRow.id)
        ).all()


def test_coordinator__researchers_and_nodes_are_authenticated(world):
    service, client, _, nodes, alice = world
    with service.store.transaction() as s:
        stored = s.scalars(select(AccountRow)).one()
    assert len(stored.token_sha256) == 64 and alice["Authorization"][7:] not in stored.token_sha256
    assert client.get("/api/requests").status_code == 401
    assert client.get("/api/requests", headers={"Authorization": "Bearer nope"}).status_code == 401
    for body, message in [
        ({"project": "other", "analysis": "allele_counts",
          "targets": [{"node": "dk", "dataset": "dk"}]}, "not 'other'"),
        ({"project": "nordic-gwas", "analysis": "nonesuch",
          "targets": [{"node": "dk", "dataset": "dk"}]}, "no registered analysis 'nonesuch'"),
        ({"project": "nordic-gwas", "analysis": "allele_counts",
          "targets": [{"node": "fi", "dataset": "fi"}]}, "node 'fi' is not a member"),
        ({"project": "nordic-gwas", "analysis": "allele_counts", "parameters": {"x": 1},
          "targets": [{"node": "dk", "dataset": "dk"}]}, "parameters of allele_counts"),
    ]:  # fmt: skip
        r = client.post("/api/requests", json=body, headers=alice)
        assert r.status_code in (403, 422) and message in r.json()["detail"], r.text

    body = b'{"statuses": []}'
    r, headers = signed(client, nodes["dk"], "/api/node/poll", body)
    assert r.status_code == 200
    again = client.post("/api/node/poll", content=body, headers=headers)  # a replayed call
    assert again.status_code == 401 and "used before" in again.json()["detail"]
    r = client.post("/api/node/poll", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and "not signed" in r.json()["detail"]
    r, _ = signed(client, nodes["dk"], "/api/node/poll", body, node="fi")  # not a member
    assert r.status_code == 401 and "'fi' has no agent key" in r.json()["detail"]
    r, _ = signed(client, nodes["dk"], "/api/node/poll", body, node="se")  # dk's key, se's name
    assert r.status_code == 401 and "does not verify with node se's agent key" in r.json()["detail"]
    old = dt.datetime.now(dt.UTC).timestamp() - 3600
    r, _ = signed(client, nodes["dk"], "/api/node/poll", body, now=old)
    assert r.status_code == 401 and "clock" in r.json()["detail"]
    with service.engine.connect() as conn:  # nonces are kept while they could be accepted
        assert conn.execute(text("SELECT count(*) FROM nonces")).scalar() >= 1


def test_coordinator__refuses_to_start_with_a_key_the_registry_does_not_name(world, tmp_path):
    service, *_ = world
    other = tmp_path / "other.pem"
    generate_private_key(other)
    settings = service.settings.model_copy(update={"signing_key_path": other})
    with pytest.raises(Exception, match="not a coordinator key of the registry"):
        Coordinator(settings)


# -- the Beacon's daily budget: in the database -------------------------------------------------
G_VARIANTS = "/beacon/g_variants?referenceName=1&start=99&alternateBases=A"


def test_coordinator__beacon_budget_survives_a_restart_and_is_shared_with_the_portal(world):
    service, _, _, _, alice = world
    settings = service.settings.model_copy(update={"beacon_daily_budget": 2})

    def started() -> tuple[Coordinator, TestClient]:
        c = Coordinator(settings)
        return c, TestClient(create_app(c))

    first, client = started()
    assert client.get(G_VARIANTS).json()["responseSummary"]["exists"] is False
    page = client.get("/portal/variant?chrom=1&pos=100&ref=C&alt=A")  # the same allowance
    assert page.status_code == 200 and "budget spent" not in page.text
    refused = client.get(G_VARIANTS)
    assert refused.status_code == 429
    assert "2 queries a day" in refused.json()["error"]["errorMessage"]
    assert "query budget spent" in client.get("/portal/variant?chrom=1&pos=100&ref=C&alt=A").text
    assert client.get(G_VARIANTS, headers=alice).status_code == 200  # each caller their own
    first.close()

    restarted, client = started()  # a restart renews nobody's day
    assert client.get(G_VARIANTS).status_code == 429
    assert client.get(G_VARIANTS, headers=alice).status_code == 200
    assert client.get(G_VARIANTS, headers=alice).status_code == 429
    with restarted.store.transaction() as s:
        rows = {r.caller: r.queries for r in s.scalars(select(BeaconQueriesRow))}
    assert rows == {"anonymous:testclient": 2, "alice": 2}
    restarted.close()


def test_coordinator__beacon_budget_forgets_earlier_days(world):
    from tresor.federation.coordinator.budget import EPOCH, DatabaseDailyCounts

    service, *_ = world
    days = DatabaseDailyCounts(service.store)
    assert days.spend("bob", 20_000, 1) and not days.spend("bob", 20_000, 1)
    assert days.spend("carol", 20_000, 1)
    assert days.spend("bob", 20_001, 1)  # a new day: the earlier days' rows go
    with service.store.transaction() as s:
        rows = {(r.caller, (r.day - EPOCH).days) for r in s.scalars(select(BeaconQueriesRow))}
    assert rows == {("bob", 20_001)}


def test_coordinator__migration_0002_upgrades_a_database_with_data(database):
    """A database of the first schema with an account, a request, its targets, a nonce and
    events is upgraded with every row intact, and counts Beacon queries afterwards."""
    upgrade(database, "0001")
    engine = make_engine(database)
    now = "2026-11-30 12:00:00"
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO accounts (name, token_sha256, projects, created_at) VALUES "
                 "('alice', :h, '[\"nordic-gwas\"]', :now)"),
            {"h": "a" * 64, "now": now},
        )  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO requests (id, created_at, requester, project, analysis, "
                "analysis_version, parameters, crate, crate_sha256, signature, signed_by, state, "
                "message) VALUES (:id, :now, 'alice', 'nordic-gwas', 'allele_counts', '1', '{}', "
                "'{}', :sha, 'sig', 'coordinator', 'open', '')"
            ),
            {"id": "f" * 32, "now": now, "sha": "c" * 64},
        )
        for node, status in (("dk", "released"), ("se", "waiting")):
            conn.execute(
                text("INSERT INTO targets (request_id, node, dataset, status, reason, updated_at)"
                     " VALUES (:id, :node, :node, :status, '', :now)"),
                {"id": "f" * 32, "node": node, "status": status, "now": now},
            )  # fmt: skip
        conn.execute(
            text("INSERT INTO nonces (node, nonce, seen_at) VALUES ('dk', :n, :now)"),
            {"n": "1" * 32, "now": now},
        )
        conn.execute(
            text("INSERT INTO events (at, kind, actor, request_id, node, details) VALUES "
                 "(:now, 'request_created', 'alice', :id, NULL, '{}')"),
            {"id": "f" * 32, "now": now},
        )  # fmt: skip
    engine.dispose()

    upgrade(database)
    engine = make_engine(database)
    assert is_current(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name, projects FROM accounts")).all() == [
            ("alice", '["nordic-gwas"]')
        ]
        assert conn.execute(text("SELECT id, state FROM requests")).all() == [("f" * 32, "open")]
        assert conn.execute(text("SELECT node, status FROM targets ORDER BY node")).all() == [
            ("dk", "released"),
            ("se", "waiting"),
        ]
        assert conn.execute(text("SELECT count(*) FROM nonces")).scalar() == 1
        assert conn.execute(text("SELECT kind FROM events")).all() == [("request_created",)]
    from tresor.federation.coordinator.budget import DatabaseDailyCounts
    from tresor.federation.coordinator.service import Store

    days = DatabaseDailyCounts(Store(engine))
    assert days.spend("alice", 20_000, 1) and not days.spend("alice", 20_000, 1)
    engine.dispose()


def test_serve__beacon_options_reach_the_coordinator_and_are_validated(world, tmp_path):
    """``tresor federation serve --beacon-...`` (and their environment variables) set the
    Beacon's access; a bad value stops it before it starts, saying which. The running service
    limits anonymous callers to the configured granularity, each caller's rate, and each
    caller's day as counted in the database (a day spent before it started stays spent)."""
    import os
    import subprocess
    import sys
    import time

    import httpx
    from click.testing import CliRunner

    from tests.postgres import free_port
    from tresor.cli import cli
    from tresor.cli.federation import BEACON_OPTIONS
    from tresor.federation.coordinator.budget import DatabaseDailyCounts
    from tresor.federation.coordinator.config import CoordinatorSettings

    service, *_, alice = world
    fields = CoordinatorSettings.model_fields
    assert {k: v[2] for k, v in BEACON_OPTIONS.items()} == {k: fields[k].default
                                                             for k in BEACON_OPTIONS}  # fmt: skip
    s = service.settings
    common = ["federation", "serve", "--registry", str(s.registry_path),
              "--signing-key", str(s.signing_key_path), "--data-dir", str(s.data_dir)]  # fmt: skip
    if s.database_url:
        common += ["--database-url", s.database_url]
    for bad, why in (
        (["--beacon-daily-budget", "0"], "0 is not in the range x>=1"),
        (["--beacon-anonymous-granularity", "all"], "'all' is not one of"),
    ):
        result = CliRunner().invoke(cli, [*common, *bad])
        assert result.exit_code == 2 and why in result.output, result.output

    port = free_port()
    env = {**os.environ, "TRESOR_BEACON_PER_MINUTE": "1"}  # and the day's budget an option
    process = subprocess.Popen(
        [sys.executable, "-m", "tresor", *common, "--port", str(port),
         "--beacon-anonymous-granularity", "boolean", "--beacon-daily-budget", "3"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}/beacon"
        deadline = time.monotonic() + 60
        while True:
            try:
                configuration = httpx.get(f"{base}/configuration", timeout=5).json()
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.3)
        security = configuration["response"]["securityAttributes"]
        assert security["defaultGranularity"] == "boolean"
        query = f"{base}/{G_VARIANTS.split('/')[-1]}&requestedGranularity=count"
        first = httpx.get(query, timeout=10).json()
        assert first["meta"]["returnedGranularity"] == "boolean"
        again = httpx.get(query, timeout=10)
        assert again.status_code == 429 and "1 queries a minute" in again.text
        today = int(time.time() // 86400)
        assert all(DatabaseDailyCounts(service.store).spend("alice", today, 3) for _ in range(3))
        spent = httpx.get(query, headers=alice, timeout=10)
        assert spent.status_code == 429 and "3 queries a day" in spent.text, spent.text
    finally:
        process.terminate()
        process.wait(30)
