"""The airlock's REST API through its whole lifecycle, on SQLite and on PostgreSQL.

Identity: no hub runs here, so tokens are resolved by tests.airlock_support.FixedIdentities
(the hub's user model); the browser and hub tests use the real hub.
"""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from airlock import bundles
from airlock.enums import AuditEventType
from tests.airlock_support import (
    NO_SCOPE,
    Api,
    database_dump,
    make_airlock,
    make_app,
    make_settings,
    png,
    tree,
    write_workspace_file,
)

# with the node's real disclosure checks: a table that passes, an image (always reviewed), and a
# per-variant table whose minor allele count of 3 blocks it (row 2, column ALT_CT)
TABLE = b"variant,ALT_CT,OBS_CT\n1:1000:A:G,40,600\n1:2000:C:T,55,600\n"
PLOT = png()
BLOCKED = b"variant,ALT_CT,OBS_CT\n1:1000:A:G,40,600\n1:2000:C:T,3,600\n"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def service(request, tmp_path, airlock_databases):
    url = airlock_databases.new(request.param, tmp_path / "node" / "airlock.sqlite")
    settings = make_settings(tmp_path / "node", url)
    airlock = make_airlock(settings)
    api = Api(make_app(airlock), settings.base_url)
    yield api, airlock, settings
    airlock.dal.engine.dispose()


def _new_request(api, settings, user="researcher1", project="nordic-gwas", files=None):
    files = files if files is not None else {"freq.csv": TABLE}
    r = api.as_(user).post("/requests", json={"project": project})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    ids = {}
    for name, data in files.items():
        write_workspace_file(settings, user, f"results/{name}", data)
        body = {
            "path": f"results/{name}",
            "name": name,
            "description": f"{name}: allele counts per variant",
            "disclosure_control": "every count is at least 10",
        }
        if data == BLOCKED:
            body["exception"] = "the sample column holds cohort labels, not people"
        r = api.as_(user).post(f"/requests/{rid}/files", json=body)
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    return rid, ids


def _submitted(api, settings, **kw):
    rid, ids = _new_request(api, settings, **kw)
    r = api.as_(kw.get("user", "researcher1")).post(f"/requests/{rid}/submit")
    assert r.status_code == 200, r.text
    return rid, ids


def _status_in_db(airlock, rid):
    with airlock.dal.read() as r:
        return r.get_request(rid).status.value


def test_airlock_api__whole_lifecycle(service):
    api, airlock, settings = service
    rid, ids = _new_request(api, settings, files={"freq.csv": TABLE, "manhattan.png": PLOT})
    assert _status_in_db(airlock, rid) == "draft"
    assert api.as_("reviewer1").get("/queue").json()["count"] == 0

    r = api.as_("researcher1").post(f"/requests/{rid}/submit")
    assert r.status_code == 200 and r.json()["status"] == "submitted" and r.json()["round"] == 1
    mine = r.json()["abilities"]  # the same abilities the web page shows (airlock.abilities)
    assert mine["can_withdraw"] and not (mine["can_edit"] or mine["can_review"])
    assert mine["hide_values"]
    theirs = api.as_("reviewer1").get(f"/requests/{rid}").json()["abilities"]
    assert theirs["can_review"] and theirs["can_preview"] and not theirs["can_withdraw"]
    assert api.as_("reviewer1").get("/queue").json()["count"] == 1
    assert [q["id"] for q in api.as_("researcher1").get("/requests").json()] == [rid]

    # a reviewer reads a file: the bytes are the snapshot, and the review has started
    r = api.as_("reviewer1").get(f"/requests/{rid}/files/{ids['freq.csv']}/content")
    assert r.status_code == 200 and r.content == TABLE
    assert "attachment" in r.headers["content-disposition"]
    assert _status_in_db(airlock, rid) == "in_review"

    r = api.as_("reviewer1").post(f"/requests/{rid}/reviews", json={"decision": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "in_review"
    assert r.json()["approvals"] == ["reviewer1"]
    assert tree(settings.outbox_dir) == []

    r = api.as_("reviewer2").post(f"/requests/{rid}/reviews", json={"decision": "approve"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "released" and body["bundle_name"] == f"testnode-{rid}"
    assert _status_in_db(airlock, rid) == "released"
    assert api.as_("reviewer1").get("/queue").json()["count"] == 0

    # the bundle: verifies with the published key, holds exactly the submitted bytes
    bundle = settings.outbox_dir / body["bundle_name"]
    key_pem = api.as_(None).get("/public-key").text.encode()
    assert key_pem == settings.public_key_path.read_bytes()
    report = bundles.verify_bundle(bundle, bundles.load_public_key(settings.public_key_path))
    assert report.ok, report.problems
    assert (bundle / "files" / "freq.csv").read_bytes() == TABLE
    assert (bundle / "files" / "manhattan.png").read_bytes() == PLOT
    manifest = report.manifest
    assert manifest["request"]["requester"] == "researcher1"
    assert manifest["request"]["project"] == "nordic-gwas"
    assert {f["name"]: f["sha256"] for f in manifest["files"]} == {
        "freq.csv": hashlib.sha256(TABLE).hexdigest(),
        "manhattan.png": hashlib.sha256(PLOT).hexdigest(),
    }
    assert {f["name"]: f["size"] for f in manifest["files"]} == {
        "freq.csv": len(TABLE),
        "manhattan.png": len(PLOT),
    }
    assert {f["name"]: f["check"]["verdict"] for f in manifest["files"]} == {
        "freq.csv": "pass",
        "manhattan.png": "review",  # images always need a human
    }
    assert [(v["reviewer"], v["decision"]) for v in manifest["reviews"]] == [
        ("reviewer1", "approve"),
        ("reviewer2", "approve"),
    ]
    assert manifest["tresor_version"]

    # the researcher downloads the released file
    r = api.as_("researcher1").get(f"/requests/{rid}/files/{ids['freq.csv']}/download")
    assert r.status_code == 200 and r.content == TABLE

    # the audit log tells the story, and its chain verifies
    entries = api.as_("admin1").get("/audit", params={"request_id": rid}).json()
    types = [e["type"] for e in entries]
    assert types[0] == AuditEventType.REQUEST_CREATED
    for expected in (
        "file_added",
        "file_checked",
        "request_submitted",
        "file_viewed",
        "request_in_review",
        "review_decision",
        "request_approved",
        "request_released",
        "file_downloaded",
    ):
        assert expected in types, expected
    assert types.index("request_approved") < types.index("request_released")
    verify = api.as_("admin1").get("/audit/verify").json()
    assert verify["ok"] and verify["entries"] >= len(entries)


def test_airlock_api__openapi_document(service):
    api, _, settings = service
    r = api.client.get(f"{settings.base_url}api/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/services/airlock/api/requests/{request_id}/reviews" in paths


def _forbidden_cases():
    """(name, setup, action, status): setup makes the scene, action is refused."""

    def self_review(api, s):
        rid, _ = _submitted(api, s, user="both1")
        return lambda: api.as_("both1").post(
            f"/requests/{rid}/reviews", json={"decision": "approve"}
        )

    def approve_twice(api, s):
        rid, _ = _submitted(api, s)
        api.as_("reviewer1").post(f"/requests/{rid}/reviews", json={"decision": "approve"})
        return lambda: api.as_("reviewer1").post(
            f"/requests/{rid}/reviews", json={"decision": "approve"}
        )

    def approve_blocked_without_acknowledging(api, s):
        rid, _ = _submitted(api, s, files={"ids.csv": BLOCKED})
        return lambda: api.as_("reviewer1").post(
            f"/requests/{rid}/reviews", json={"decision": "approve"}
        )

    def approve_blocked_without_exception(api, s):
        rid, ids = _new_request(api, s, files={"ids.csv": BLOCKED})
        api.as_("researcher1").patch(
            f"/requests/{rid}/files/{ids['ids.csv']}", json={"exception": ""}
        )
        api.as_("researcher1").post(f"/requests/{rid}/submit")
        return lambda: api.as_("reviewer1").post(
            f"/requests/{rid}/reviews",
            json={"decision": "approve", "acknowledge_exceptions": [ids["ids.csv"]]},
        )

    def release_before_two_approvals(api, s):
        rid, _ = _submitted(api, s)
        api.as_("reviewer1").post(f"/requests/{rid}/reviews", json={"decision": "approve"})
        return lambda: api.as_("reviewer2").post(f"/requests/{rid}/release")

    def change_submitted_file(api, s):
        rid, ids = _submitted(api, s)
        return lambda: api.as_("researcher1").patch(
            f"/requests/{rid}/files/{ids['freq.csv']}", json={"description": "something else"}
        )

    def refresh_submitted_file(api, s):
        rid, ids = _submitted(api, s)
        write_workspace_file(s, "researcher1", "results/freq.csv", b"a,b\n1,2\n")
        return lambda: api.as_("researcher1").patch(
            f"/requests/{rid}/files/{ids['freq.csv']}", json={"refresh": True}
        )

    def add_file_to_submitted(api, s):
        rid, _ = _submitted(api, s)
        write_workspace_file(s, "researcher1", "more.csv", TABLE)
        return lambda: api.as_("researcher1").post(
            f"/requests/{rid}/files",
            json={"path": "more.csv", "description": "d", "disclosure_control": "c"},
        )

    def remove_submitted_file(api, s):
        rid, ids = _submitted(api, s)
        return lambda: api.as_("researcher1").delete(f"/requests/{rid}/files/{ids['freq.csv']}")

    def read_other_project(api, s):
        rid, _ = _submitted(api, s)
        return lambda: api.as_("researcher2").get(f"/requests/{rid}")

    def download_other_project(api, s):
        rid, ids = _submitted(api, s)
        for reviewer in ("reviewer1", "reviewer2"):
            api.as_(reviewer).post(f"/requests/{rid}/reviews", json={"decision": "approve"})
        return lambda: api.as_("researcher2").get(
            f"/requests/{rid}/files/{ids['freq.csv']}/download"
        )

    def requester_reads_content_before_release(api, s):
        rid, ids = _submitted(api, s)
        return lambda: api.as_("researcher1").get(
            f"/requests/{rid}/files/{ids['freq.csv']}/content"
        )

    def download_before_release(api, s):
        rid, ids = _submitted(api, s)
        return lambda: api.as_("researcher1").get(
            f"/requests/{rid}/files/{ids['freq.csv']}/download"
        )

    def request_in_foreign_project(api, s):
        return lambda: api.as_("researcher1").post("/requests", json={"project": "uk-study"})

    def reviewer_reads_draft(api, s):
        rid, _ = _new_request(api, s)
        return lambda: api.as_("reviewer1").get(f"/requests/{rid}")

    def admin_approves(api, s):
        rid, _ = _submitted(api, s)
        return lambda: api.as_("admin1").post(
            f"/requests/{rid}/reviews", json={"decision": "approve"}
        )

    def withdraw_released(api, s):
        rid, _ = _submitted(api, s)
        for reviewer in ("reviewer1", "reviewer2"):
            api.as_(reviewer).post(f"/requests/{rid}/reviews", json={"decision": "approve"})
        return lambda: api.as_("researcher1").post(f"/requests/{rid}/withdraw")

    def resubmit_in_review(api, s):
        rid, _ = _submitted(api, s)
        return lambda: api.as_("researcher1").post(f"/requests/{rid}/submit")

    def token_without_access_scope(api, s):
        return lambda: api.as_(NO_SCOPE + "researcher1").get("/requests")

    def symlink_out_of_workspace(api, s):
        rid, _ = _new_request(api, s)
        link = s.workspaces_dir / "researcher1" / "passwd.csv"
        link.symlink_to("/etc/passwd")
        return lambda: api.as_("researcher1").post(
            f"/requests/{rid}/files",
            json={"path": "passwd.csv", "description": "d", "disclosure_control": "c"},
        )

    def symlinked_directory(api, s):
        rid, _ = _new_request(api, s)
        write_workspace_file(s, "researcher2", "theirs.csv", TABLE)
        (s.workspaces_dir / "researcher1" / "shared").symlink_to(s.workspaces_dir / "researcher2")
        return lambda: api.as_("researcher1").post(
            f"/requests/{rid}/files",
            json={"path": "shared/theirs.csv", "description": "d", "disclosure_control": "c"},
        )

    def hard_link_to_other_workspace(api, s):
        rid, _ = _new_request(api, s)
        theirs = write_workspace_file(s, "researcher2", "theirs.csv", TABLE)
        os.link(theirs, s.workspaces_dir / "researcher1" / "mine.csv")
        return lambda: api.as_("researcher1").post(
            f"/requests/{rid}/files",
            json={"path": "mine.csv", "description": "d", "disclosure_control": "c"},
        )

    def dotdot_path(api, s):
        rid, _ = _new_request(api, s)
        write_workspace_file(s, "researcher2", "theirs.csv", TABLE)
        return lambda: api.as_("researcher1").post(
            f"/requests/{rid}/files",
            json={
                "path": "../researcher2/theirs.csv",
                "description": "d",
                "disclosure_control": "c",
            },
        )

    def absolute_path(api, s):
        rid, _ = _new_request(api, s)
        return lambda: api.as_("researcher1").post(
            f"/requests/{rid}/files",
            json={"path": "/etc/passwd", "description": "d", "disclosure_control": "c"},
        )

    def name_is_a_file_and_a_directory(api, s):
        """The bundle is a tree: `out` cannot be a file and hold `out/b.tsv` (issue 12)."""
        rid, _ = _new_request(api, s, files={})
        write_workspace_file(s, "researcher1", "a.tsv", TABLE)
        context = {"path": "a.tsv", "description": "d", "disclosure_control": "c"}
        r = api.as_("researcher1").post(f"/requests/{rid}/files", json={**context, "name": "out"})
        assert r.status_code == 201, r.text
        return lambda: api.as_("researcher1").post(
            f"/requests/{rid}/files", json={**context, "name": "out/b.tsv"}
        )

    def names_differ_only_in_case(api, s):
        rid, _ = _new_request(api, s)  # results/freq.csv, released as freq.csv
        return lambda: api.as_("researcher1").post(
            f"/requests/{rid}/files",
            json={"path": "results/freq.csv", "name": "./Freq.CSV", "description": "d",
                  "disclosure_control": "c"},
        )  # fmt: skip

    return [
        ("name_is_a_file_and_a_directory", name_is_a_file_and_a_directory, 409),
        ("names_differ_only_in_case", names_differ_only_in_case, 409),
        ("self_review", self_review, 403),
        ("approve_twice", approve_twice, 409),
        ("approve_blocked_without_acknowledging", approve_blocked_without_acknowledging, 409),
        ("approve_blocked_without_exception", approve_blocked_without_exception, 409),
        ("release_before_two_approvals", release_before_two_approvals, 409),
        ("change_submitted_file", change_submitted_file, 409),
        ("refresh_submitted_file", refresh_submitted_file, 409),
        ("add_file_to_submitted", add_file_to_submitted, 409),
        ("remove_submitted_file", remove_submitted_file, 409),
        ("read_other_project", read_other_project, 403),
        ("download_other_project", download_other_project, 403),
        ("requester_reads_content_before_release", requester_reads_content_before_release, 403),
        ("download_before_release", download_before_release, 409),
        ("request_in_foreign_project", request_in_foreign_project, 403),
        ("reviewer_reads_draft", reviewer_reads_draft, 403),
        ("admin_approves", admin_approves, 403),
        ("withdraw_released", withdraw_released, 409),
        ("resubmit_in_review", resubmit_in_review, 409),
        ("token_without_access_scope", token_without_access_scope, 403),
        ("symlink_out_of_workspace", symlink_out_of_workspace, 403),
        ("symlinked_directory", symlinked_directory, 403),
        ("hard_link_to_other_workspace", hard_link_to_other_workspace, 403),
        ("dotdot_path", dotdot_path, 403),
        ("absolute_path", absolute_path, 403),
    ]


@pytest.mark.parametrize(
    ("setup", "status"),
    [pytest.param(setup, status, id=name) for name, setup, status in _forbidden_cases()],
)
def test_airlock_api__forbidden_action_is_refused_and_changes_nothing(service, setup, status):
    api, airlock, settings = service
    action = setup(api, settings)
    before = (database_dump(airlock), tree(settings.outbox_dir), tree(settings.store_dir))
    r = action()
    assert r.status_code == status, r.text
    assert r.json()["detail"]  # says why
    after = (database_dump(airlock), tree(settings.outbox_dir), tree(settings.store_dir))
    assert after == before


def test_airlock_api__failed_release_is_shown_retried_and_returned(service):
    """A release that fails (here: something not of this request under the bundle's name in
    the outbox) is a status with its reason, for reviewers and admins; never a 5xx."""
    api, _, settings = service
    rid, _ = _submitted(api, settings)
    stray = settings.outbox_dir / f"testnode-{rid}"
    stray.mkdir()
    (stray / "old.txt").write_text("a copy restored from a backup")
    api.as_("reviewer1").post(f"/requests/{rid}/reviews", json={"decision": "approve"})
    r = api.as_("reviewer2").post(f"/requests/{rid}/reviews", json={"decision": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "release_failed"
    reason = r.json()["release_error"]
    assert "does not verify" in reason
    detail = api.as_("reviewer3").get(f"/requests/{rid}").json()
    assert detail["abilities"]["can_release"] and detail["abilities"]["can_return_release"]
    mine = api.as_("researcher1").get(f"/requests/{rid}").json()
    assert mine["status"] == "release_failed" and mine["release_error"] == reason
    assert not mine["abilities"]["can_release"] and not mine["abilities"]["can_return_release"]
    for who in ("admin1", "reviewer3"):
        listed = api.as_(who).get("/failed-releases")
        assert listed.status_code == 200, listed.text
        assert [(x["id"], x["release_error"]) for x in listed.json()] == [(rid, reason)]
    assert api.as_("researcher1").get("/failed-releases").status_code == 403
    r = api.as_("reviewer3").post(f"/requests/{rid}/release")  # Finish release: fails again
    assert r.status_code == 200 and r.json()["status"] == "release_failed"
    back = f"/requests/{rid}/return"
    assert api.as_("reviewer3").post(back, json={"reason": ""}).status_code == 422
    assert api.as_("researcher1").post(back, json={"reason": "x"}).status_code == 403
    r = api.as_("reviewer3").post(back, json={"reason": "an old copy is in the way; resubmit"})
    assert r.status_code == 200 and r.json()["status"] == "returned"
    assert r.json()["release_error"] is None
    assert api.as_("admin1").get("/failed-releases").json() == []
    assert api.as_("reviewer3").post(back, json={"reason": "again"}).status_code == 409


def test_airlock_api__no_token_is_401(service):
    api, _, _ = service
    assert api.as_(None).get("/requests").status_code == 401
    assert api.as_("not-a-user").get("/requests").status_code == 401


def test_airlock_api__return_change_and_resubmit(service):
    api, _, settings = service
    rid, ids = _submitted(api, settings)
    fid = ids["freq.csv"]
    api.as_("reviewer1").post(f"/requests/{rid}/reviews", json={"decision": "approve"})
    r = api.as_("reviewer2").post(f"/requests/{rid}/reviews", json={"decision": "return"})
    assert r.status_code == 422  # a reason is required
    r = api.as_("reviewer2").post(
        f"/requests/{rid}/reviews", json={"decision": "return", "reason": "round the counts"}
    )
    assert r.status_code == 200 and r.json()["status"] == "returned"

    rounded = b"variant,ALT_CT,OBS_CT\n1:1000:A:G,40,600\n1:2000:C:T,55,600\n1:3000:G:A,60,600\n"
    write_workspace_file(settings, "researcher1", "results/freq.csv", rounded)
    r = api.as_("researcher1").patch(
        f"/requests/{rid}/files/{fid}",
        json={"refresh": True, "disclosure_control": "counts rounded to 5, all at least 10"},
    )
    assert r.status_code == 200 and r.json()["sha256"] == hashlib.sha256(rounded).hexdigest()
    r = api.as_("researcher1").post(f"/requests/{rid}/submit")
    assert r.json()["status"] == "submitted" and r.json()["round"] == 2
    assert r.json()["approvals"] == []  # approvals of the first round do not carry over

    r = api.as_("reviewer1").post(f"/requests/{rid}/reviews", json={"decision": "approve"})
    assert r.json()["status"] == "in_review"
    r = api.as_("reviewer3").post(f"/requests/{rid}/reviews", json={"decision": "approve"})
    assert r.json()["status"] == "released"
    bundle = settings.outbox_dir / r.json()["bundle_name"]
    assert (bundle / "files" / "freq.csv").read_bytes() == rounded


def test_airlock_api__workspace_edits_after_submission_change_nothing(service):
    api, _, settings = service
    rid, ids = _submitted(api, settings)
    write_workspace_file(settings, "researcher1", "results/freq.csv", b"variant\nchanged later\n")
    (settings.workspaces_dir / "researcher1" / "results" / "freq.csv").unlink()
    for reviewer in ("reviewer1", "reviewer2"):
        r = api.as_(reviewer).post(f"/requests/{rid}/reviews", json={"decision": "approve"})
    assert r.json()["status"] == "released"
    r = api.as_("researcher1").get(f"/requests/{rid}/files/{ids['freq.csv']}/download")
    assert r.content == TABLE


def test_airlock_api__blocked_file_needs_acknowledged_exception(service):
    api, _, settings = service
    rid, ids = _submitted(api, settings, files={"ids.csv": BLOCKED, "freq.csv": TABLE})
    blocked = ids["ids.csv"]
    detail = api.as_("reviewer1").get(f"/requests/{rid}").json()
    by_name = {f["name"]: f for f in detail["files"]}
    assert by_name["ids.csv"]["verdict"] == "block"
    assert by_name["ids.csv"]["findings"][0]["rule"] == "minor-allele-count"
    assert by_name["ids.csv"]["findings"][0]["location"] == {
        "row": 2,
        "column": "ALT_CT",
        "value": "3",
    }
    # the requester's own view carries no cell values before release
    mine = api.as_("researcher1").get(f"/requests/{rid}").json()
    assert {f["name"]: f for f in mine["files"]}["ids.csv"]["findings"][0]["location"][
        "value"
    ] is None

    for reviewer in ("reviewer1", "reviewer2"):
        r = api.as_(reviewer).post(
            f"/requests/{rid}/reviews",
            json={"decision": "approve", "acknowledge_exceptions": [blocked]},
        )
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "released"
    manifest = json.loads(
        (settings.outbox_dir / r.json()["bundle_name"] / "manifest.json").read_text()
    )
    assert [v["acknowledged_exceptions"] for v in manifest["reviews"]] == [["ids.csv"], ["ids.csv"]]
    assert {f["name"]: f["exception"] for f in manifest["files"]}["ids.csv"].startswith(
        "the sample"
    )


def test_airlock_api__reject_and_withdraw_are_final(service):
    api, airlock, settings = service
    rid, _ = _submitted(api, settings)
    r = api.as_("reviewer1").post(
        f"/requests/{rid}/reviews", json={"decision": "reject", "reason": "individual-level data"}
    )
    assert r.json()["status"] == "rejected"
    assert (
        api.as_("reviewer2")
        .post(f"/requests/{rid}/reviews", json={"decision": "approve"})
        .status_code
        == 409
    )
    rid2, _ = _submitted(api, settings)
    r = api.as_("researcher1").post(f"/requests/{rid2}/withdraw")
    assert r.json()["status"] == "withdrawn"
    assert (
        api.as_("reviewer1")
        .post(f"/requests/{rid2}/reviews", json={"decision": "approve"})
        .status_code
        == 409
    )
    assert _status_in_db(airlock, rid2) == "withdrawn"
    assert tree(settings.outbox_dir) == []


def test_airlock_api__approvals_required_is_configurable_never_below_two(service):
    api, _, settings = service
    assert (
        api.as_("researcher1").patch("/config", json={"approvals_required": 3}).status_code == 403
    )
    assert api.as_("admin1").patch("/config", json={"approvals_required": 1}).status_code == 422
    r = api.as_("admin1").patch("/config", json={"approvals_required": 3})
    assert r.status_code == 200 and r.json()["approvals_required"] == 3
    rid, _ = _submitted(api, settings)
    for reviewer in ("reviewer1", "reviewer2"):
        r = api.as_(reviewer).post(f"/requests/{rid}/reviews", json={"decision": "approve"})
    assert r.json()["status"] == "in_review"
    r = api.as_("reviewer3").post(f"/requests/{rid}/reviews", json={"decision": "approve"})
    assert r.json()["status"] == "released"
    changes = [e for e in api.as_("admin1").get("/audit").json() if e["type"] == "config_changed"]
    assert changes[-1]["actor"] == "admin1"
    assert changes[-1]["details"]["changed"] == {"approvals_required": [2, 3]}


def test_airlock_api__size_limit_and_missing_files(service):
    api, _, settings = service
    api.as_("admin1").patch("/config", json={"max_summary_statistics_bytes": 100})
    rid, _ = _new_request(api, settings, files={})
    write_workspace_file(settings, "researcher1", "big.csv", b"x" * 101)
    body = {"description": "d", "disclosure_control": "c"}
    r = api.as_("researcher1").post(f"/requests/{rid}/files", json={"path": "big.csv", **body})
    assert r.status_code == 422 and "MiB" in r.json()["detail"]
    r = api.as_("researcher1").post(f"/requests/{rid}/files", json={"path": "nope.csv", **body})
    assert r.status_code == 422 and "does not exist" in r.json()["detail"]
    (settings.workspaces_dir / "researcher1" / "adir").mkdir()
    r = api.as_("researcher1").post(f"/requests/{rid}/files", json={"path": "adir", **body})
    assert r.status_code == 422
    r = api.as_("researcher1").post(
        f"/requests/{rid}/files",
        json={"path": "x.csv", "description": "", "disclosure_control": "c"},
    )
    assert r.status_code == 422  # context is required
    assert api.as_("researcher1").post(f"/requests/{rid}/submit").status_code == 409  # no files


def test_airlock_api__size_limits_refuse_the_largest_and_review_the_large(service):
    """Two limits: files above max_summary_statistics_bytes are refused when added; other
    files above max_file_bytes need review (the checks apply the limit in force, also when an
    admin lowers it after the file was added), recognised summary statistics do not, and size
    alone never blocks."""
    api, _, settings = service
    counts = b"group,n\na,20\nb,25\n"
    rid, _ = _new_request(api, settings, files={"freq.csv": TABLE, "counts.csv": counts})
    files = api.as_("researcher1").get(f"/requests/{rid}").json()["files"]
    assert {f["name"]: f["verdict"] for f in files} == {"freq.csv": "pass", "counts.csv": "pass"}
    assert api.as_("admin1").patch("/config", json={"max_file_bytes": 10}).status_code == 200
    r = api.as_("researcher1").post(f"/requests/{rid}/submit")
    files = {f["name"]: f for f in r.json()["files"]}
    assert files["freq.csv"]["verdict"] == "pass"  # summary statistics (58 bytes)
    assert files["counts.csv"]["verdict"] == "review"
    assert "file-size" in {x["rule"] for x in files["counts.csv"]["findings"]}
    assert api.as_("admin1").get("/config").json()["max_file_bytes"] == 10
    limits = {"max_summary_statistics_bytes": len(TABLE) - 1}
    assert api.as_("admin1").patch("/config", json=limits).status_code == 200
    rid, _ = _new_request(api, settings, files={})
    write_workspace_file(settings, "researcher1", "t.csv", TABLE)
    body = {"path": "t.csv", "description": "d", "disclosure_control": "c"}
    r = api.as_("researcher1").post(f"/requests/{rid}/files", json=body)
    assert r.status_code == 422 and "MiB" in r.json()["detail"]


def test_airlock_api__values_naming_the_nodes_samples_are_blocked(
    tmp_path, airlock_databases, demo_cohorts
):
    """The service hands the checks the sample IDs of the catalogue's datasets."""
    from tresor.demo import register_cohorts
    from tresor.io import open_store

    root = tmp_path / "node"
    settings = make_settings(root, airlock_databases.new("sqlite", root / "airlock.sqlite"))
    register_cohorts([demo_cohorts["dk"]], settings.catalogue_dir, {"dk": ["nordic-gwas"]})
    sample = str(open_store(demo_cohorts["dk"].store)["sample_id"].values[7])
    airlock = make_airlock(settings)
    [dk] = airlock.samples().datasets  # the sample-ID provider: the catalogue and its stores
    assert (dk.id, dk.grants, dk.n_samples) == ("dk", {"nordic-gwas"}, demo_cohorts["dk"].n_samples)
    assert sample in dk.sample_ids
    api = Api(make_app(airlock), settings.base_url)
    named = f"cohort,outlier\ndk,{sample}\n".encode()
    unnamed = b"cohort,outlier\ndk,none\n"
    rid, _ = _new_request(api, settings, files={"named.csv": named, "unnamed.csv": unnamed})
    files = {f["name"]: f for f in api.as_("researcher1").get(f"/requests/{rid}").json()["files"]}
    rules = {name: {x["rule"] for x in f["findings"]} for name, f in files.items()}
    assert files["named.csv"]["verdict"] == "block"
    assert "individual-level.sample-id" in rules["named.csv"]
    assert "individual-level.sample-id" not in rules["unnamed.csv"]
    airlock.dal.engine.dispose()
