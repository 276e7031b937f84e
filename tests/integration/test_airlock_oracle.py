"""No oracle: what a researcher sees of a check depends only on the datasets their project is
granted. A file of candidate IDs from a cohort the project has no grant for gets, in everything
the researcher sees (the API's add-file and submit responses, the request page, the notebook
client, ``tresor airlock check``), exactly what a file of made-up IDs gets; the reviewers see
the matches.

The node here has two datasets: ``dk`` granted to nordic-gwas (researcher1's project) and
``uk`` granted to uk-study.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

import tresor.airlock as client
from airlock.web.sessions import SESSION_COOKIE
from tests.airlock_support import (
    Api,
    Service,
    make_airlock,
    make_app,
    make_settings,
    register_samples,
    write_workspace_file,
)
from tresor.cli import cli

DK = [f"DK{i:06d}" for i in range(1, 41)]
UK = [f"UK{i:06d}" for i in range(1, 41)]
CONTEXT = {"description": "outlier scores", "disclosure_control": "none: a test"}


def table(ids: list[str]) -> bytes:
    return ("who,score\n" + "".join(f"{x},{i}.5\n" for i, x in enumerate(ids))).encode()


#: candidates from uk (not granted), and the same file with IDs that name nobody
GUESSES = table([UK[2], "nobody-1", UK[6]])
DECOY = table(["XX000003", "nobody-1", "XX000007"])
#: IDs of the granted dataset: the researcher is told, as always
OWN = table([DK[4], "nobody-1"])


def node(root):
    settings = make_settings(root)
    register_samples(settings.catalogue_dir, "dk", DK, ("nordic-gwas",))
    register_samples(settings.catalogue_dir, "uk", UK, ("uk-study",))
    return settings


@pytest.fixture
def service(tmp_path):
    settings = node(tmp_path / "node")
    airlock = make_airlock(settings)
    app = make_app(airlock)
    yield Api(app, settings.base_url), app, airlock, settings
    airlock.dal.engine.dispose()


def researcher_view(file: dict) -> dict:
    """What the researcher is shown of a file's check, without its name."""
    return {
        "verdict": file["verdict"],
        "findings": file["findings"],
        "more": file.get("reviewer_findings"),
    }


def add(api, settings, rid, name, data, user="researcher1"):
    write_workspace_file(settings, user, f"results/{name}", data)
    body = {"path": f"results/{name}", "name": name, **CONTEXT}
    r = api.as_(user).post(f"/requests/{rid}/files", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_oracle__the_researcher_sees_what_a_file_of_made_up_ids_gets(service):
    api, app, _, settings = service
    rid = api.as_("researcher1").post("/requests", json={"project": "nordic-gwas"}).json()["id"]
    files = {"guesses.csv": GUESSES, "decoy.csv": DECOY, "own.csv": OWN}
    added = {name: add(api, settings, rid, name, data) for name, data in files.items()}

    # the add-file responses
    assert researcher_view(added["guesses.csv"]) == researcher_view(added["decoy.csv"])
    assert added["guesses.csv"]["reviewer_findings"] is None
    own_rules = {f["rule"] for f in added["own.csv"]["findings"]}
    assert "individual-level.sample-id" in own_rules  # the granted dataset's IDs are named

    # the submit response and the request as the researcher reads it later
    submitted = api.as_("researcher1").post(f"/requests/{rid}/submit").json()
    later = api.as_("researcher1").get(f"/requests/{rid}").json()
    for request in (submitted, later):
        files = {f["name"]: f for f in request["files"]}
        assert researcher_view(files["guesses.csv"]) == researcher_view(files["decoy.csv"])
        assert "not-granted" not in json.dumps(request)

    # the request page in the researcher's browser
    browser = TestClient(app, follow_redirects=False)
    browser.cookies.set(SESSION_COOKIE, app.state.sessions.encode("researcher1"), path="/")
    page = browser.get(f"{settings.base_url}requests/{rid}").text
    assert 'data-testid="reviewer-findings"' not in page and "not granted" not in page

    # a reviewer sees the matches, by row, and which dataset they come from
    seen = {f["name"]: f for f in api.as_("reviewer1").get(f"/requests/{rid}").json()["files"]}
    matches = seen["guesses.csv"]["reviewer_findings"]
    assert {(m["rule"], m["location"]["row"], m["location"]["column"]) for m in matches} == {
        ("individual-level.sample-id.not-granted", 1, "who"),
        ("individual-level.sample-id.not-granted", 3, "who"),
    }
    assert all("dataset uk" in m["message"] and m["verdict"] == "block" for m in matches)
    assert seen["decoy.csv"]["reviewer_findings"] == [] == seen["own.csv"]["reviewer_findings"]
    assert researcher_view(seen["guesses.csv"])["verdict"] == added["decoy.csv"]["verdict"]
    reviewer = TestClient(app, follow_redirects=False)
    reviewer.cookies.set(SESSION_COOKIE, app.state.sessions.encode("reviewer1"), path="/")
    page = reviewer.get(f"{settings.base_url}requests/{rid}").text
    assert page.count('data-testid="reviewer-findings"') == 1 and "dataset uk" in page
    file_id = seen["guesses.csv"]["id"]
    preview = reviewer.get(f"{settings.base_url}requests/{rid}/files/{file_id}").text
    assert 'data-testid="reviewer-findings"' in preview


def test_oracle__approving_needs_the_reviewers_acknowledgement_which_the_requester_never_sees(
    service,
):
    api, _, airlock, settings = service
    rid = api.as_("researcher1").post("/requests", json={"project": "nordic-gwas"}).json()["id"]
    guesses = add(api, settings, rid, "guesses.csv", GUESSES)["id"]
    assert api.as_("researcher1").post(f"/requests/{rid}/submit").status_code == 200
    refused = api.as_("reviewer1").post(f"/requests/{rid}/reviews", json={"decision": "approve"})
    assert refused.status_code == 409
    assert "reviewer-only findings" in refused.json()["detail"]
    ack = {"decision": "approve", "acknowledge_exceptions": [guesses]}
    for reviewer in ("reviewer1", "reviewer2"):
        r = api.as_(reviewer).post(f"/requests/{rid}/reviews", json=ack)
        assert r.status_code == 200, r.text
    released = api.as_("researcher1").get(f"/requests/{rid}").json()
    assert released["status"] == "released"
    assert all(r["acknowledged_files"] == [] for r in released["reviews"])
    manifest = (settings.outbox_dir / released["bundle_name"] / "manifest.json").read_text()
    assert "not-granted" not in manifest and 'acknowledged_exceptions": []' in manifest
    audit = [e for e in airlock.audit_entries(admin()) if e.type == "review_decision"]
    assert [e.details["acknowledged_exceptions"] for e in audit] == [["guesses.csv"]] * 2


def admin():
    from airlock.domain import User
    from tests.airlock_support import USERS

    return User("admin1", USERS["admin1"])


def test_oracle__the_notebook_client_gets_what_a_decoy_gets(tmp_path, monkeypatch):
    settings = node(tmp_path / "node")
    airlock = make_airlock(settings)
    workspace = settings.workspaces_dir / "researcher1"
    write_workspace_file(settings, "researcher1", "guesses.csv", GUESSES)
    write_workspace_file(settings, "researcher1", "decoy.csv", DECOY)
    monkeypatch.setenv("TRESOR_WORKSPACE", str(workspace))
    monkeypatch.chdir(workspace)
    with Service(settings) as running:
        result = client.submit(
            ["guesses.csv", "decoy.csv"],
            context=CONTEXT,
            url=running.url.removesuffix("api"),
            token="researcher1",
        )
    assert result.verdicts["guesses.csv"] == result.verdicts["decoy.csv"]
    assert result.findings["guesses.csv"] == result.findings["decoy.csv"]
    assert "not-granted" not in json.dumps(result.findings)
    airlock.dal.engine.dispose()


class _Hub(http.server.BaseHTTPRequestHandler):
    """Stands in for the hub's ``GET /user`` where no hub runs (as FixedIdentities does for
    the service): the token is the user's name."""

    def do_GET(self):
        name = self.headers.get("Authorization", "").removeprefix("token ")
        from tests.airlock_support import USERS

        if self.path != "/hub/api/user" or name not in USERS:
            self.send_response(403)
            self.end_headers()
            return
        body = json.dumps({"name": name, "groups": sorted(USERS[name])}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def hub_session(monkeypatch, user: str):
    from tresor.identity import current_identity

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with monkeypatch.context() as env:
            env.setenv("JUPYTERHUB_API_URL", f"http://127.0.0.1:{server.server_port}/hub/api")
            env.setenv("JUPYTERHUB_API_TOKEN", user)
            current_identity.cache_clear()
            yield
    finally:
        current_identity.cache_clear()
        server.shutdown()
        server.server_close()


def test_oracle__tresor_airlock_check_in_a_kernel_matches_only_granted_datasets(
    tmp_path, monkeypatch
):
    settings = node(tmp_path / "node")
    guesses = tmp_path / "guesses.csv"
    guesses.write_bytes(GUESSES)
    decoy = tmp_path / "decoy.csv"
    decoy.write_bytes(DECOY)
    own = tmp_path / "own.csv"
    own.write_bytes(OWN)
    args = ["airlock", "check", "--json", "--catalogue", str(settings.catalogue_dir)]
    with hub_session(monkeypatch, "researcher1"):
        result = CliRunner().invoke(cli, [*args, str(guesses), str(decoy), str(own)])
        text = CliRunner().invoke(cli, [*args[:2], *args[3:], str(guesses)])  # no --json
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    files = {f["path"].rsplit("/", 1)[-1]: f for f in doc["files"]}
    assert files["guesses.csv"]["findings"] == files["decoy.csv"]["findings"]
    assert files["guesses.csv"]["verdict"] == files["decoy.csv"]["verdict"]
    assert "individual-level.sample-id" in {f["rule"] for f in files["own.csv"]["findings"]}
    assert doc["notes"] == ["values are matched against 40 sample IDs of datasets dk"]
    assert "sample-id" not in text.stdout and "uk" not in text.stderr
    # a node admin's shell (no hub session): every dataset of the catalogue
    admin = CliRunner().invoke(cli, [*args, str(guesses)])
    flagged = {f["rule"] for f in json.loads(admin.stdout)["files"][0]["findings"]}
    assert "individual-level.sample-id" in flagged


def test_oracle__a_kernel_whose_hub_cannot_say_who_it_is_refuses(tmp_path, monkeypatch):
    settings = node(tmp_path / "node")
    (tmp_path / "x.csv").write_bytes(DECOY)
    with hub_session(monkeypatch, "nobody-known"):
        result = CliRunner().invoke(
            cli,
            [
                "airlock",
                "check",
                "--catalogue",
                str(settings.catalogue_dir),
                str(tmp_path / "x.csv"),
            ],
        )
    assert result.exit_code == 1
    assert "must know who you are" in result.output
