"""The service around the workflow: settings from the site config, start-up (migrations,
recovery, configuration audit), and the audit log's CLI against a tampered database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy.exc
from click.testing import CliRunner
from sqlalchemy import text

from airlock import bundles
from airlock.config import Settings
from airlock.domain import User
from airlock.enums import Decision, RequestStatus
from tests.airlock_support import (
    USERS,
    audit_verify_args,
    make_airlock,
    make_settings,
    rewrite_audit_log,
    with_colliding_names,
    write_workspace_file,
)
from tresor.cli import cli
from tresor.core.site import load_site_config

REPO = Path(__file__).resolve().parents[2]


def user(name):
    return User(name, USERS[name])


def site_file(tmp_path, extra: str = "") -> Path:
    path = tmp_path / "site.toml"
    path.write_text(
        f'state_dir = "{tmp_path / "state"}"\nnode_name = "dk"\n'
        "[accounts]\nresearchers = ['r1']\n[projects.p1]\nmembers = ['r1']\n"
        f"[airlock]\nport = 8123\n{extra}"
    )
    return path


def test_settings__from_site_config(tmp_path, monkeypatch):
    monkeypatch.delenv("TRESOR_AIRLOCK_DATABASE_URL", raising=False)
    site = load_site_config(
        site_file(tmp_path, 'approvals_required = 3\noutbox_dir = "out"\nmax_file_mb = 4\n')
    )
    settings = Settings.from_site(site, base_url="/services/airlock")
    state = tmp_path / "state"
    assert settings.base_url == "/services/airlock/"
    assert settings.database_url == f"sqlite:///{state / 'airlock' / 'airlock.sqlite'}"
    assert settings.outbox_dir == tmp_path / "out"  # relative to the site file
    assert settings.store_dir == state / "airlock" / "store"
    assert settings.workspaces_dir == state / "workspaces"
    assert settings.projects == ("p1",) and settings.node_name == "dk"
    assert settings.defaults.approvals_required == 3
    assert settings.defaults.max_file_bytes == 4 * 2**20
    monkeypatch.setenv("TRESOR_AIRLOCK_DATABASE_URL", "postgresql+psycopg://airlock@db/airlock")
    assert Settings.from_site(site).database_url.startswith("postgresql+psycopg://")
    from tresor.core.errors import ConfigError

    with pytest.raises(ConfigError, match="approvals_required"):
        load_site_config(site_file(tmp_path, "approvals_required = 1\n"))


def test_startup__configuration_is_audited_when_it_changes(tmp_path):
    settings = make_settings(tmp_path / "node")
    airlock = make_airlock(settings)
    admin = user("admin1")
    airlock.record_startup_config()
    airlock.record_startup_config()
    changes = [e for e in airlock.audit_entries(admin) if e.type == "config_changed"]
    assert len(changes) == 1 and changes[0].details["source"] == "site config"
    airlock.dal.engine.dispose()
    changed = make_settings(tmp_path / "node", approvals_required=3)
    airlock = make_airlock(changed)
    airlock.record_startup_config()
    changes = [e for e in airlock.audit_entries(admin) if e.type == "config_changed"]
    assert [c.details["config"]["approvals_required"] for c in changes] == [2, 3]
    airlock.dal.engine.dispose()


def _approved_once(airlock, settings):
    """A submitted request with reviewer1's approval: the next approval releases it."""
    researcher = user("researcher1")
    request = airlock.create_request(researcher, "nordic-gwas")
    write_workspace_file(settings, "researcher1", "t.csv", b"variant,ALT_CT\n1:1:A:G,40\n")
    airlock.add_file(researcher, request.id, path="t.csv", description="d", disclosure_control="c")
    airlock.submit(researcher, request.id)
    airlock.decide(user("reviewer1"), request.id, Decision.APPROVE)
    return request


def test_recover__finishes_an_interrupted_release(tmp_path, monkeypatch):
    settings = make_settings(tmp_path / "node")
    airlock = make_airlock(settings)
    researcher = user("researcher1")
    request = _approved_once(airlock, settings)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies after the approval's commit

    monkeypatch.setattr(airlock, "release", crash)
    with pytest.raises(KeyboardInterrupt):
        airlock.decide(user("reviewer2"), request.id, Decision.APPROVE)
    leftover = settings.outbox_dir / f"{bundles.TMP_PREFIX}half-written"
    leftover.mkdir()
    (leftover / "manifest.json").write_text("{")
    assert airlock.get_request(researcher, request.id).status == RequestStatus.APPROVED
    airlock.dal.engine.dispose()

    restarted = make_airlock(settings)
    done = restarted.recover()
    assert f"released {request.id}" in done and "removed .tmp-half-written" in done
    released = restarted.get_request(researcher, request.id)
    assert released.status == RequestStatus.RELEASED
    assert [p.name for p in settings.outbox_dir.iterdir()] == [released.bundle_name]
    report = bundles.verify_bundle(
        settings.outbox_dir / released.bundle_name, restarted.signing_key.public_key()
    )
    assert report.ok
    assert restarted.recover() == []  # nothing left to do
    restarted.dal.engine.dispose()


def _approved_with_the_release_interrupted(airlock, settings, monkeypatch) -> str:
    """A request approved by reviewer1 and reviewer2 whose release was interrupted (the process
    died while writing the bundle): it stays approved, with no bundle in the outbox."""
    request = _approved_once(airlock, settings)

    def dies(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(bundles, "write_bundle", dies)
        with pytest.raises(KeyboardInterrupt):
            airlock.decide(user("reviewer2"), request.id, Decision.APPROVE)
    assert airlock.get_request(user("researcher1"), request.id).status == RequestStatus.APPROVED
    return request.id


def test_release_failure__marked_audited_visible_retryable_and_returnable(tmp_path):
    """Two names the bundle cannot hold both used to make every release attempt a 500 and stop
    the service at its next start (issue 12). The failure is recorded on the request, the
    service goes on, and reviewers retry it or return it to the requester."""
    from airlock.exceptions import InvalidInput, PermissionDenied, PolicyViolation

    settings = make_settings(tmp_path / "node")
    airlock = make_airlock(settings)
    admin = user("admin1")
    rid = with_colliding_names(airlock, settings)
    other = _approved_once(airlock, settings)

    failed = airlock.decide(user("reviewer2"), rid, Decision.APPROVE)
    assert failed.status == RequestStatus.RELEASE_FAILED and failed.bundle_name is None
    assert failed.release_error.startswith("FileExistsError: [Errno 17] cannot write 'out/b.tsv'")
    assert list(settings.outbox_dir.iterdir()) == []  # nothing half-written is left
    entry = airlock.audit_entries(admin, request_id=rid)[-1]
    assert (entry.type, entry.actor) == ("request_release_failed", "airlock-system")
    assert entry.details == {"previous": "approved", "reason": failed.release_error}
    # one bad request stops nothing: the next approval releases another request
    assert airlock.decide(user("reviewer2"), other.id, Decision.APPROVE).status == "released"
    # reviewers and admins see it, with the reason
    for viewer in ("admin1", "reviewer3"):
        shown = airlock.failed_releases(user(viewer))
        assert [(r.id, r.release_error) for r in shown] == [(rid, failed.release_error)]
    with pytest.raises(PermissionDenied):
        airlock.failed_releases(user("researcher1"))
    # "Finish release" fails again for the same reason: recorded again, nothing else changes
    again = airlock.release(user("reviewer1"), rid)
    assert again.status == RequestStatus.RELEASE_FAILED
    entry = airlock.audit_entries(admin, request_id=rid)[-1]
    assert (entry.type, entry.actor) == ("request_release_failed", "reviewer1")
    assert entry.details["previous"] == "release_failed"
    # back to the requester, with a reason, by a reviewer
    with pytest.raises(InvalidInput, match="reason"):
        airlock.return_release(user("reviewer1"), rid, reason=" ")
    with pytest.raises(PermissionDenied):
        airlock.return_release(user("researcher1"), rid, reason="rename out")
    with pytest.raises(PolicyViolation):
        airlock.return_release(user("reviewer1"), other.id, reason="it is released")
    returned = airlock.return_release(user("reviewer3"), rid, reason="rename out: a directory too")
    assert returned.status == RequestStatus.RETURNED and returned.release_error is None
    entry = airlock.audit_entries(admin, request_id=rid)[-1]
    assert entry.type == "request_returned" and entry.details["reason"].startswith("rename")
    assert entry.details["release_error"] == again.release_error
    assert airlock.failed_releases(admin) == []
    # the requester renames, and the next round releases
    researcher = user("researcher1")
    out = returned.file_named("out")
    airlock.remove_file(researcher, rid, out.id)
    airlock.add_file(
        researcher, rid, path="a.tsv", name="out/a.tsv", description="d", disclosure_control="c"
    )
    airlock.submit(researcher, rid)
    airlock.decide(user("reviewer1"), rid, Decision.APPROVE)
    released = airlock.decide(user("reviewer2"), rid, Decision.APPROVE)
    assert released.status == RequestStatus.RELEASED and released.release_error is None
    bundle = settings.outbox_dir / released.bundle_name
    assert bundles.verify_bundle(bundle, airlock.signing_key.public_key()).ok
    assert sorted(p.name for p in (bundle / "files" / "out").iterdir()) == ["a.tsv", "b.tsv"]
    assert airlock.verify_audit(admin).ok
    airlock.dal.engine.dispose()


def test_release_failure__finish_release_after_the_cause_is_fixed(tmp_path):
    """Something in the outbox under the bundle's name (not a bundle of this request) fails the
    release; once an admin has removed it, "Finish release" releases."""
    settings = make_settings(tmp_path / "node")
    airlock = make_airlock(settings)
    request = _approved_once(airlock, settings)
    stray = settings.outbox_dir / airlock.bundle_name(request)
    stray.mkdir()
    (stray / "notes.txt").write_text("left by a restore")
    failed = airlock.decide(user("reviewer2"), request.id, Decision.APPROVE)
    assert failed.status == RequestStatus.RELEASE_FAILED
    assert stray.name in failed.release_error and "does not verify" in failed.release_error
    assert (stray / "notes.txt").read_text() == "left by a restore"  # never overwritten
    bundles.remove_tree(stray)  # the admin's fix
    released = airlock.release(user("reviewer3"), request.id)
    assert released.status == RequestStatus.RELEASED and released.release_error is None
    assert bundles.verify_bundle(stray, airlock.signing_key.public_key()).ok
    entries = airlock.audit_entries(user("admin1"), request_id=request.id)
    assert [e.type for e in entries[-2:]] == ["request_release_failed", "request_released"]
    assert entries[-1].actor == "reviewer3" and entries[-1].details["previous"] == "release_failed"
    airlock.dal.engine.dispose()


def test_recover__a_release_that_fails_is_marked_and_recovery_goes_on(tmp_path, monkeypatch):
    """At start, an interrupted release that cannot be written is marked failed, and the other
    interrupted releases are finished: recovery never stops the service."""
    settings = make_settings(tmp_path / "node")
    airlock = make_airlock(settings)
    bad = with_colliding_names(airlock, settings)
    good = _approved_once(airlock, settings).id

    def dies(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(bundles, "write_bundle", dies)
        for rid in (bad, good):
            with pytest.raises(KeyboardInterrupt):
                airlock.decide(user("reviewer2"), rid, Decision.APPROVE)
    airlock.dal.engine.dispose()

    restarted = make_airlock(settings)
    done = restarted.recover()
    failed = restarted.get_request(user("reviewer1"), bad)
    assert failed.status == RequestStatus.RELEASE_FAILED
    assert f"the release of {bad} failed: {failed.release_error}" in done
    assert f"released {good}" in done
    assert restarted.get_request(user("reviewer1"), good).status == RequestStatus.RELEASED
    assert restarted.recover() == []  # a failed release waits for a reviewer, not for restarts
    assert restarted.verify_audit(user("admin1")).ok
    restarted.dal.engine.dispose()


def test_recover__approvals_required_raised_before_the_release_sends_it_back_to_review(
    tmp_path, monkeypatch
):
    """Two approvals, the release interrupted, then approvals_required raised to 3: recovery
    does not release with two; the request goes back to review, where a third approval
    releases it."""
    settings = make_settings(tmp_path / "node")
    airlock = make_airlock(settings)
    rid = _approved_with_the_release_interrupted(airlock, settings, monkeypatch)
    admin = user("admin1")
    airlock.set_config(admin, approvals_required=3)
    airlock.dal.engine.dispose()

    restarted = make_airlock(settings)
    done = restarted.recover()
    assert f"released {rid}" not in done
    assert [line for line in done if rid in line] == [
        f"returned {rid} to review: 2 approvals, 3 needed"
    ]
    request = restarted.get_request(user("researcher1"), rid)
    assert request.status == RequestStatus.IN_REVIEW and request.bundle_name is None
    assert list(settings.outbox_dir.iterdir()) == []
    back = restarted.audit_entries(admin, request_id=rid)[-1]
    assert back.type == "request_in_review" and back.actor == "airlock-system"
    assert back.details["previous"] == "approved"
    assert back.details["approvals"] == ["reviewer1", "reviewer2"]
    assert back.details["approvals_required"] == 3
    assert "one more approval" in back.details["reason"]
    assert restarted.recover() == []  # nothing left to do
    released = restarted.decide(user("reviewer3"), rid, Decision.APPROVE)
    assert released.status == RequestStatus.RELEASED
    restarted.dal.engine.dispose()


def test_finish_release__approvals_required_raised_before_the_release_is_refused(
    tmp_path, monkeypatch
):
    """The reviewer's retry ("Finish release") after approvals_required was raised is refused
    with what is missing, and the request goes back to review."""
    from airlock.exceptions import PolicyViolation

    settings = make_settings(tmp_path / "node")
    airlock = make_airlock(settings)
    rid = _approved_with_the_release_interrupted(airlock, settings, monkeypatch)
    airlock.set_config(user("admin1"), approvals_required=3)
    with pytest.raises(PolicyViolation, match="2 approvals; 3 are needed") as refused:
        airlock.release(user("reviewer1"), rid)
    assert "back in review" in str(refused.value) and "one more" in str(refused.value)
    assert airlock.get_request(user("researcher1"), rid).status == RequestStatus.IN_REVIEW
    assert list(settings.outbox_dir.iterdir()) == []
    with pytest.raises(PolicyViolation):  # and it stays refused
        airlock.release(user("reviewer1"), rid)
    released = airlock.decide(user("reviewer3"), rid, Decision.APPROVE)
    assert released.status == RequestStatus.RELEASED
    airlock.dal.engine.dispose()


def test_python_m_airlock__migrate_and_refuse_to_serve_without_the_hub(tmp_path):
    env = {**os.environ, "TRESOR_SITE_CONFIG": str(site_file(tmp_path))}
    env.pop("JUPYTERHUB_API_TOKEN", None)
    env.pop("TRESOR_AIRLOCK_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "airlock", "migrate"], check=True, env=env, cwd=REPO)
    assert (tmp_path / "state" / "airlock" / "airlock.sqlite").is_file()
    serve = subprocess.run(
        [sys.executable, "-m", "airlock", "serve"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert serve.returncode != 0 and "JupyterHub service" in serve.stderr


def test_tresor_airlock_audit_verify__finds_a_tampered_database(tmp_path):
    settings = make_settings(tmp_path / "node")
    airlock = make_airlock(settings)
    researcher = user("researcher1")
    for _ in range(3):
        airlock.create_request(researcher, "nordic-gwas")
    runner = CliRunner()
    args = audit_verify_args(settings)
    ok = runner.invoke(cli, args)
    assert ok.exit_code == 0 and "3 entries" in ok.output
    for statement in (
        "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 3",
    ):
        with (
            pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"),
            airlock.dal.engine.begin() as conn,
        ):
            conn.execute(text(statement))
    # someone who can drop the database's guard can edit, and the chain still tells
    with airlock.dal.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        conn.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2"))
    bad = runner.invoke(cli, args)
    assert bad.exit_code == 1 and "entry 2" in bad.output and "edited" in bad.output
    with airlock.dal.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'researcher1' WHERE seq = 2"))
        conn.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    bad = runner.invoke(cli, args)
    assert bad.exit_code == 1 and "deleted from the end" in bad.output
    missing = runner.invoke(
        cli, ["airlock", "audit", "verify", "--database-url", f"sqlite:///{tmp_path}/none.sqlite"]
    )
    assert missing.exit_code == 1 and "no airlock database" in missing.output
    airlock.dal.engine.dispose()


def _history_with_a_release(tmp_path):
    """An airlock whose log holds a released request (its bundle carries the signed head
    before its release) and entries after it."""
    settings = make_settings(tmp_path / "node")
    airlock = make_airlock(settings)
    request = _approved_once(airlock, settings)
    assert airlock.decide(user("reviewer2"), request.id, Decision.APPROVE).status == "released"
    for _ in range(2):
        airlock.create_request(user("researcher1"), "nordic-gwas")
    assert airlock.verify_audit(user("admin1")).ok
    return settings, airlock


def test_audit_verify__a_rewritten_entry_is_found_with_the_first_bad_entry(tmp_path):
    """Issue 12, defect 3: someone with the database but not the key edits the actor of a review
    decision, recomputes every later hash and moves the head. The chain alone verifies; the
    signed checkpoints outside the database, and the released bundle's signed head, do not."""
    settings, airlock = _history_with_a_release(tmp_path)
    admin = user("admin1")
    decision = next(
        e for e in airlock.audit_entries(admin) if e.type == "review_decision"
    )  # reviewer1's approval, before the release
    rewrite_audit_log(settings.database_url, edit={decision.seq: {"actor": "reviewer3"}})
    with airlock.dal.read() as r:
        assert r.verify_audit_chain().ok  # the hash chain alone is fooled
    report = airlock.verify_audit(admin)  # the admin's page and GET /api/audit/verify
    assert not report.ok and report.first_bad == decision.seq
    runner = CliRunner()
    result = runner.invoke(cli, audit_verify_args(settings))
    assert result.exit_code == 1, result.output
    assert f"first bad entry: {decision.seq}" in result.output
    assert f"entry {decision.seq} (review_decision by reviewer3)" in result.output
    assert "checkpoint" in result.output and "bundle testnode-" in result.output
    # without the checkpoint file, the released bundle's signed head still tells
    settings.audit_checkpoints_path.rename(tmp_path / "elsewhere.jsonl")
    result = runner.invoke(cli, audit_verify_args(settings))
    assert result.exit_code == 1 and "bundle testnode-" in result.output
    assert "no checkpoint file" in result.output
    airlock.dal.engine.dispose()


def test_audit_verify__a_deleted_tail_is_found_with_the_first_bad_entry(tmp_path):
    """Delete the last entries and move the head back: the chain verifies, the checkpoints of
    the deleted entries do not."""
    settings, airlock = _history_with_a_release(tmp_path)
    admin = user("admin1")
    last = airlock.audit_entries(admin)[-1].seq
    rewrite_audit_log(settings.database_url, keep=last - 2)
    with airlock.dal.read() as r:
        assert r.verify_audit_chain().ok
    report = airlock.verify_audit(admin)
    assert not report.ok and report.first_bad == last - 1
    result = CliRunner().invoke(cli, audit_verify_args(settings))
    assert result.exit_code == 1 and f"first bad entry: {last - 1}" in result.output
    assert f"entries {last - 1}..{last} were deleted" in result.output
    airlock.dal.engine.dispose()


def test_listen_options__loopback_locally_internal_network_with_tls_in_production(tmp_path):
    import ssl

    from airlock.__main__ import listen_options
    from tresor.core.paths import DEFAULT_SITE_CONFIG
    from tresor.core.site import SiteConfig, load_site_config

    local = load_site_config(DEFAULT_SITE_CONFIG)
    assert listen_options(local, {}, 8123) == {"host": "127.0.0.1", "port": 8123}
    assert listen_options(local, {}, None)["port"] == local.airlock.port
    docker = SiteConfig.model_validate(
        {
            "profile": "docker",
            "hub": {"ip": "0.0.0.0"},
            "docker": {
                "image": "tresor-notebook:0.1.0",
                "database_url_file": "/etc/tresor/secrets/hub_db_url",
                "oidc": {
                    "client_id": "x",
                    "client_secret_file": "/etc/tresor/secrets/oidc",
                    "authorize_url": "https://login.example.org/a",
                    "token_url": "https://login.example.org/t",
                    "userdata_url": "https://login.example.org/u",
                    "callback_url": "https://tre.example.org/hub/oauth_callback",
                },
            },
        }
    )
    production = {  # ansible/roles/airlock/templates/airlock.env.j2
        "JUPYTERHUB_SSL_KEYFILE": "/certs/airlock.key",
        "JUPYTERHUB_SSL_CERTFILE": "/certs/airlock.crt",
        "JUPYTERHUB_SSL_CLIENT_CA": "/certs/client-ca.crt",
    }
    assert listen_options(docker, production, None) == {
        "host": "tresor-airlock",  # its container's address on the internal network
        "port": 8090,
        "ssl_keyfile": "/certs/airlock.key",
        "ssl_certfile": "/certs/airlock.crt",
        "ssl_ca_certs": "/certs/client-ca.crt",
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
    }
