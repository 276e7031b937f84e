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
