"""The airlock as the hub runs it: a managed service behind the proxy, identity from the hub.

A researcher submits from a notebook (tresor.airlock.submit with the server's own hub token),
two reviewers approve with their hub tokens, the researcher downloads; the bundle in the node's
outbox verifies with ``tresor airlock verify`` and the audit log with ``tresor airlock audit
verify``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from airlock.checks import check_file

pytestmark = pytest.mark.slow

NOTEBOOK = """
import json, pathlib
import tresor.airlock
pathlib.Path("results").mkdir(exist_ok=True)
pathlib.Path("results/ldl_summary.csv").write_text(
    "cohort,n,mean_ldl\\ndk,60,3.1\\n"
)
result = tresor.airlock.submit(
    "results/ldl_summary.csv",
    context={
        "description": "Mean LDL in the dk demo cohort",
        "disclosure_control": "one aggregate over 60 people",
        "exception": "an aggregate over the whole cohort, no small cells",
    },
)
print(json.dumps({"id": result.id, "status": result.status, "verdicts": result.verdicts,
                  "project": result.project}))
"""


def airlock(node, method: str, path: str, token: str, **kw) -> httpx.Response:
    return httpx.request(
        method,
        f"{node.url}services/airlock/api{path}",
        headers={"Authorization": f"token {token}"},
        timeout=120,
        **kw,
    )


def test_airlock_hub__notebook_submission_two_approvals_download(local_node):
    node = local_node
    token = node.user_token("researcher1")
    node.start_server("researcher1")
    try:
        out = node.run_in_kernel("researcher1", token, NOTEBOOK)
    finally:
        node.stop_server("researcher1")
    assert out["error"] is None, out
    submitted = json.loads(out["stdout"])
    rid = submitted["id"]
    assert submitted["status"] == "submitted" and submitted["project"] == "nordic-gwas"
    workspace_file = node.state_dir / "workspaces" / "researcher1" / "results" / "ldl_summary.csv"
    original = workspace_file.read_bytes()
    # the service ran the node's disclosure checks on the snapshot
    expected = check_file(workspace_file).verdict.value
    assert submitted["verdicts"] == {"results/ldl_summary.csv": expected}

    reviewers = {name: node.user_token(name) for name in ("reviewer1", "reviewer2")}
    queue = airlock(node, "GET", "/queue", reviewers["reviewer1"]).json()
    assert rid in [r["id"] for r in queue["requests"]]
    detail = airlock(node, "GET", f"/requests/{rid}", reviewers["reviewer1"]).json()
    blocked = [f["id"] for f in detail["files"] if f["verdict"] == "block"]
    workspace_file.write_text(
        "cohort,n,mean_ldl\ndk,3,9.9\n"
    )  # edits after submission count for nothing
    for name, reviewer_token in reviewers.items():
        r = airlock(
            node,
            "POST",
            f"/requests/{rid}/reviews",
            reviewer_token,
            json={"decision": "approve", "acknowledge_exceptions": blocked},
        )
        assert r.status_code == 200, (name, r.text)
    assert r.json()["status"] == "released"
    bundle_name = r.json()["bundle_name"]

    file_id = detail["files"][0]["id"]
    r = airlock(node, "GET", f"/requests/{rid}/files/{file_id}/download", token)
    assert r.status_code == 200 and r.content == original
    # another project's researcher cannot
    r = airlock(node, "GET", f"/requests/{rid}", node.user_token("researcher2"))
    assert r.status_code == 403

    outbox = node.state_dir / "airlock" / "outbox" / bundle_name
    public_key = node.state_dir / "secrets" / "airlock_signing_key.pub"
    assert (outbox / "files" / "results" / "ldl_summary.csv").read_bytes() == original
    env = {"TRESOR_SITE_CONFIG": str(node.site.source), "PATH": "/usr/bin:/bin"}
    tresor = [sys.executable, "-m", "tresor", "airlock"]
    verify = subprocess.run(
        [*tresor, "verify", str(outbox), "--public-key", str(public_key)],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stderr
    audit = subprocess.run(
        [*tresor, "audit", "verify"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert audit.returncode == 0, audit.stderr
    assert "audit log verifies" in audit.stdout


def test_airlock_hub__tokens_need_the_access_scope(local_node):
    node = local_node
    narrow = node.api(
        "POST", "/users/researcher1/tokens", json={"scopes": ["read:users:name!user"]}
    )
    assert narrow.status_code == 201, narrow.text
    assert airlock(node, "GET", "/me", narrow.json()["token"]).status_code == 403
    assert airlock(node, "GET", "/me", node.admin_token).status_code == 403  # a service
    assert airlock(node, "GET", "/me", "not-a-token").status_code == 401
    me = airlock(node, "GET", "/me", node.user_token("reviewer1")).json()
    assert me["reviewer"] and not me["researcher"] and me["projects"] == []


def test_airlock_hub__browser_login_goes_through_the_hub(local_node):
    with httpx.Client(base_url=local_node.url, follow_redirects=False) as client:
        r = client.get("services/airlock/requests/0123456789abcdef")
        assert r.status_code == 302
        assert r.headers["location"].startswith("/services/airlock/login?next=")
        r = client.get(r.headers["location"])
        assert r.status_code == 302
        location = r.headers["location"]
        assert location.startswith("/hub/api/oauth2/authorize?")
        assert "code_challenge=" in location and "state=" in location
        assert "client_id=service-airlock" in location


def test_airlock_hub__admin_who_adds_themself_to_reviewers_does_not_count(local_node):
    """Separation of duties: admin1 makes themself a reviewer from the airlock (through the hub)
    and approves; that approval does not count towards the two, and the audit log says who
    changed the group and what membership each decision relied on."""
    node = local_node
    admin = node.user_token("admin1")
    r = airlock(node, "PUT", "/reviewers/admin1", admin)
    assert r.status_code == 200, r.text
    assert "admin1" in r.json()
    groups = {g["name"]: set(g["users"]) for g in node.api("GET", "/groups").json()}
    assert "admin1" in groups["airlock-reviewers"]  # the hub's group, not a copy
    try:
        not_admin = node.user_token("reviewer1")
        assert airlock(node, "PUT", "/reviewers/reviewer1", not_admin).status_code == 403
        researcher = node.user_token("researcher1")
        workspace = node.state_dir / "workspaces" / "researcher1"
        node.start_server("researcher1")  # makes the workspace, owned by researcher1's account
        node.stop_server("researcher1")
        (workspace / "sod.csv").write_text("cohort,n\ndk,60\n")
        (workspace / "sod.csv").chmod(0o644)
        rid = airlock(node, "POST", "/requests", researcher, json={"project": "nordic-gwas"})
        rid = rid.json()["id"]
        added = airlock(node, "POST", f"/requests/{rid}/files", researcher, json={
            "path": "sod.csv", "description": "cohort size", "disclosure_control": "one count",
            "exception": "a whole-cohort count",
        })  # fmt: skip
        assert added.status_code == 201, added.text
        assert airlock(node, "POST", f"/requests/{rid}/submit", researcher).status_code == 200

        def approve(name: str) -> dict:
            detail = airlock(node, "GET", f"/requests/{rid}", node.user_token(name)).json()
            blocked = [f["id"] for f in detail["files"] if f["verdict"] == "block"]
            decision = {"decision": "approve", "acknowledge_exceptions": blocked}
            token = node.user_token(name)
            r = airlock(node, "POST", f"/requests/{rid}/reviews", token, json=decision)
            assert r.status_code == 200, (name, r.text)
            return r.json()

        assert approve("admin1")["status"] == "in_review"
        assert approve("reviewer1")["status"] == "in_review"  # one approval counts of two
        assert approve("reviewer2")["status"] == "released"
    finally:
        r = airlock(node, "DELETE", "/reviewers/admin1", admin)
        assert r.status_code == 200 and "admin1" not in r.json(), r.text
    entries = airlock(node, "GET", "/audit", admin).json()
    changes = [e for e in entries if e["type"] == "reviewers_changed"]
    assert [(e["actor"], e["details"]["action"], e["details"]["user"]) for e in changes][-2:] == [
        ("admin1", "added", "admin1"),
        ("admin1", "removed", "admin1"),
    ]
    assert changes[-2]["details"]["by_themself"] is True
    decisions = [e for e in entries if e["type"] == "review_decision" and e["request_id"] == rid]
    seen = {e["actor"]: e["details"] for e in decisions}
    assert seen["admin1"]["counts"] is False
    assert seen["reviewer1"]["counts"] is True
    assert "airlock-reviewers" in seen["admin1"]["reviewer_groups"]
    assert "admins" in seen["admin1"]["reviewer_groups"]
