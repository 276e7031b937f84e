"""The airlock's part in a federation: requests bound to a federated request by the node's
agent, shown to reviewers, written into the signed manifest; the whole bundle as one archive.

Identity as in the other API tests (tests.airlock_support.FixedIdentities): the agent's token
is a hub *service* token, which the airlock's real code maps to the federation account.
"""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from airlock import bundles
from tests.airlock_support import AGENT_TOKEN, Api, make_airlock, make_app, make_settings
from tests.airlock_support import write_workspace_file as write
from tresor.core.bundles import unpack_bundle

TABLE = b"variant,ALT_CT,OBS_CT\n1:1000:A:G,40,600\n1:2000:C:T,55,600\n"
BINDING = {"request_id": "f" * 32, "crate_sha256": "c" * 64}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def service(request, tmp_path, airlock_databases):
    url = airlock_databases.new(request.param, tmp_path / "node" / "airlock.sqlite")
    settings = make_settings(tmp_path / "node", url, node_name="dk")
    airlock = make_airlock(settings)
    yield Api(make_app(airlock), settings.base_url), airlock, settings
    airlock.dal.engine.dispose()


def _released(api, settings, token=AGENT_TOKEN, user="federation", binding=BINDING):
    body = {"project": "nordic-gwas"} | ({"federation": binding} if binding else {})
    r = api.as_(token).post("/requests", json=body)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    write(settings, user, "federation/out/freq.csv", TABLE)
    r = api.as_(token).post(
        f"/requests/{rid}/files",
        json={
            "path": "federation/out/freq.csv",
            "name": "freq.csv",
            "description": "allele counts of the dk cohort for a federated request",
            "disclosure_control": "every count is at least 10",
        },
    )
    assert r.status_code == 201, r.text
    assert api.as_(token).post(f"/requests/{rid}/submit").status_code == 200
    return rid


def test_federation_binding__made_by_the_agent_shown_to_reviewers_signed_in_manifest(service):
    api, airlock, settings = service
    rid = _released(api, settings)
    seen = api.as_("reviewer1").get(f"/requests/{rid}").json()
    assert seen["requester"] == "federation" and seen["federation"] == BINDING
    from airlock.web.sessions import SESSION_COOKIE

    api.client.cookies.set(
        SESSION_COOKIE, api.client.app.state.sessions.encode("reviewer1"), path=settings.base_url
    )
    page = api.client.get(f"{settings.base_url}requests/{rid}")
    api.client.cookies.clear()
    assert "answers the federated request" in page.text and BINDING["request_id"] in page.text
    assert api.as_("reviewer1").get("/queue").json()["requests"][0]["federation"] == BINDING
    # a bundle not yet released cannot be taken
    r = api.as_(AGENT_TOKEN).get(f"/requests/{rid}/bundle")
    assert r.status_code == 409, r.text
    for reviewer in ("reviewer1", "reviewer2"):
        r = api.as_(reviewer).post(f"/requests/{rid}/reviews", json={"decision": "approve"})
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "released"
    bundle = settings.outbox_dir / r.json()["bundle_name"]
    report = bundles.verify_bundle(bundle, bundles.load_public_key(settings.public_key_path))
    assert report.ok, report.problems
    assert report.manifest["federation"] == BINDING
    assert report.manifest["node"] == "dk"
    assert report.manifest["request"]["requester"] == "federation"
    created = airlock.audit_entries(make_admin(), request_id=rid, limit=1)[
        0
    ]  # the audit log records the binding with the creation
    assert created.type == "request_created" and created.details["federation"] == BINDING


def make_admin():
    from airlock.domain import User

    return User("admin1", frozenset({"admins"}))


def test_whole_bundle__the_requester_downloads_one_archive_that_verifies(service, tmp_path):
    api, airlock, settings = service
    rid = _released(api, settings)
    for reviewer in ("reviewer1", "reviewer2"):
        api.as_(reviewer).post(f"/requests/{rid}/reviews", json={"decision": "approve"})
    # only the requester: not a reviewer, not another researcher
    assert api.as_("reviewer1").get(f"/requests/{rid}/bundle").status_code == 403
    assert api.as_("researcher1").get(f"/requests/{rid}/bundle").status_code == 403
    r = api.as_(AGENT_TOKEN).get(f"/requests/{rid}/bundle")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(r.content)) as tar:
        names = tar.getnames()
    name = f"dk-{rid}"
    expected = ["manifest.json", "manifest.sig", "files", "files/freq.csv"]
    assert names == [f"{name}/{e}" for e in expected]
    received = unpack_bundle(r.content, tmp_path / "received")
    report = bundles.verify_bundle(received, bundles.load_public_key(settings.public_key_path))
    assert report.ok, report.problems
    assert (received / "files" / "freq.csv").read_bytes() == TABLE
    assert (
        hashlib.sha256((received / "manifest.json").read_bytes()).hexdigest()
        == (airlock.audit_entries(make_admin(), request_id=rid)[-1].details["manifest_sha256"])
    )
    assert airlock.audit_entries(make_admin(), request_id=rid)[-1].type == "bundle_downloaded"


def test_federation_binding__only_the_agent_binds(service):
    api, _, settings = service
    r = api.as_("researcher1").post(
        "/requests", json={"project": "nordic-gwas", "federation": BINDING}
    )
    assert r.status_code == 403 and "not this node's federation agent" in r.json()["detail"]
    r = api.as_("researcher1").post(
        "/requests",
        json={"project": "nordic-gwas", "federation": {**BINDING, "crate_sha256": "x"}},
    )
    assert r.status_code == 422
    # the agent's own requests without a binding are plain requests of the federation account
    rid = _released(api, settings, binding=None)
    assert api.as_("reviewer1").get(f"/requests/{rid}").json()["federation"] is None
    # any other hub service is refused, as before
    assert api.as_("service-idle-culler").get("/me").status_code == 403
    me = api.as_(AGENT_TOKEN).get("/me").json()
    assert me["name"] == "federation" and me["projects"] == ["nordic-gwas"] and me["researcher"]
