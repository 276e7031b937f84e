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
from tresor.federation.coordinator.models import AccountRow, Base, EventRow
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
