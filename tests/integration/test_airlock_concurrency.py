"""Races, crashes and failures against the real service processes (uvicorn), on SQLite and
PostgreSQL.

- Two reviewers approving the same request at the same moment, through two separate service
  processes sharing one database and outbox, produce exactly one bundle.
- The service is killed with SIGKILL at every durable step of a release (each fsync, rename and
  database commit): afterwards there is no bundle or one complete bundle that verifies, a
  "released" status always has its bundle, and after restart (recovery) the request's status
  and the outbox agree.
- Each durable step fails instead (OSError, a full disk): nothing half-written is left, the
  request ends in a state a reviewer can take on from, and a running service stays up.

Identity: no hub runs here (tests.airlock_server resolves tokens with FixedIdentities).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from airlock import bundles
from airlock.domain import User
from airlock.enums import Decision, RequestStatus
from tests.airlock_support import (
    USERS,
    Service,
    make_airlock,
    make_settings,
    with_colliding_names,
    write_workspace_file,
)

REPO = Path(__file__).resolve().parents[2]
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
DATA = {"freq.csv": b"variant,ALT_CT\n1:1:A:G,40\n", "notes.md": b"# Method\nCounts >= 10.\n"}


def user(name: str) -> User:
    return User(name, USERS[name])


def submitted_request(airlock, settings, *, approvals=()) -> str:
    researcher = user("researcher1")
    request = airlock.create_request(researcher, "nordic-gwas")
    for name, data in DATA.items():
        write_workspace_file(settings, "researcher1", name, data)
        airlock.add_file(
            researcher, request.id, path=name, description="counts", disclosure_control=">= 10"
        )
    airlock.submit(researcher, request.id)
    for reviewer in approvals:
        airlock.decide(user(reviewer), request.id, Decision.APPROVE)
    return request.id


def bundles_in(outbox: Path) -> list[Path]:
    return sorted(p for p in outbox.iterdir() if not p.name.startswith(bundles.TMP_PREFIX))


def assert_complete(bundle: Path, key) -> None:
    report = bundles.verify_bundle(bundle, key)
    assert report.ok, report.problems
    for name, data in DATA.items():
        assert (bundle / "files" / name).read_bytes() == data


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_airlock_concurrency__simultaneous_approvals_make_one_bundle(
    backend, tmp_path, airlock_databases
):
    root = tmp_path / "node"
    settings = make_settings(root, airlock_databases.new(backend, root / "airlock.sqlite"))
    airlock = make_airlock(settings)
    # (tokens racing, approvals already given): the last two approvals race; the first two race
    # (one of them releases); one reviewer races with themself from two browser tabs
    scenarios = [
        (("reviewer2", "reviewer3"), ("reviewer1",)),
        (("reviewer1", "reviewer2"), ()),
        (("reviewer2", "reviewer2"), ("reviewer1",)),
    ] * 3
    requests = [submitted_request(airlock, settings, approvals=a) for _, a in scenarios]
    with Service(settings) as a, Service(settings) as b:
        for (tokens, given), rid in zip(scenarios, requests, strict=True):
            barrier = threading.Barrier(2)
            results: list[httpx.Response] = [None, None]

            def approve(i, service, token, rid=rid, barrier=barrier, results=results):
                barrier.wait()
                results[i] = service.post(
                    token, f"/requests/{rid}/reviews", json={"decision": "approve"}
                )

            threads = [
                threading.Thread(target=approve, args=(i, s, t))
                for i, (s, t) in enumerate(zip((a, b), tokens, strict=True))
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            codes = sorted(r.status_code for r in results)
            request = airlock.get_request(user("reviewer1"), rid)
            if given and tokens[0] != tokens[1]:
                # whoever came second found the request released already
                assert codes == [200, 409], [r.text for r in results]
                assert request.status == RequestStatus.RELEASED
                assert len(request.approvals) == 2
            elif given:
                assert codes == [200, 409]  # one reviewer, one decision
                assert [v.reviewer for v in request.approvals] == ["reviewer1", "reviewer2"]
            else:
                assert codes == [200, 200]
                assert request.status == RequestStatus.RELEASED
                assert {v.reviewer for v in request.approvals} == set(tokens)
    key = airlock.signing_key.public_key()
    released = {
        r for r in requests if airlock.get_request(user("reviewer1"), r).status == "released"
    }
    found = bundles_in(settings.outbox_dir)
    assert [p.name for p in found] == sorted(f"testnode-{r}" for r in released)
    for bundle in found:
        assert_complete(bundle, key)
    assert airlock.verify_audit(user("admin1")).ok
    airlock.dal.engine.dispose()


def _crash_scene(backend, base: Path, airlock_databases):
    """A request with one approval, saved so that each crash point starts from it."""
    root = base / "node"
    url = airlock_databases.new(backend, root / "airlock.sqlite")
    settings = make_settings(root, url)
    airlock = make_airlock(settings)
    rid = submitted_request(airlock, settings, approvals=("reviewer1",))
    airlock.dal.engine.dispose()
    saved = base / "saved"
    shutil.copytree(root, saved)
    template = None
    if backend == "postgresql":
        template = url.rsplit("/", 1)[1]
    return settings, rid, saved, template


def _restore(settings, saved: Path, template, airlock_databases):
    root = Path(settings.store_dir).parent
    shutil.rmtree(root)
    shutil.copytree(saved, root)
    if template is None:
        return settings
    url = airlock_databases.postgres.new_database(template=template)
    return settings.model_copy(update={"database_url": url})


class CrashWorkers:
    """``python -m tests.airlock_crash_worker``: forks a worker per crash point."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.airlock_crash_worker"],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def crash_at(self, settings, rid: str, point: int, events: Path, mode: str = "kill") -> int:
        """Final approval in a forked worker, SIGKILLed at durable step ``point`` (0: none), or
        (``mode="fail"``) with that step failing as on a full disk. Returns the worker's exit
        code (-9 when killed)."""
        events.unlink(missing_ok=True)
        paused = Path(f"{events}.paused")
        paused.unlink(missing_ok=True)
        config = events.with_suffix(".json")
        config.write_text(settings.model_dump_json())
        self.process.stdin.write(f"{config} {rid} {point} {events} {mode}\n")
        self.process.stdin.flush()
        pid = int(self.process.stdout.readline().split()[1])
        if point and mode == "kill":
            deadline = time.monotonic() + 120
            while not paused.exists():
                assert time.monotonic() < deadline, "the worker never reached the crash point"
                time.sleep(0.01)
            os.kill(pid, signal.SIGKILL)
        return int(self.process.stdout.readline().split()[1])

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def _check_after_crash(settings, rid: str) -> tuple[str, bool]:
    airlock = make_airlock(settings)
    key = airlock.signing_key.public_key()
    try:
        found = bundles_in(settings.outbox_dir)
        assert len(found) <= 1
        for bundle in found:
            assert_complete(bundle, key)
        status = airlock.get_request(user("reviewer1"), rid).status
        if status == RequestStatus.RELEASED:
            assert found, "released without a bundle"
        before = (status.value, bool(found))
        # restart: recovery makes the database and the outbox agree
        airlock.recover()
        status = airlock.get_request(user("reviewer1"), rid).status
        found = bundles_in(settings.outbox_dir)
        assert not [p for p in settings.outbox_dir.iterdir() if p.name.startswith(".tmp-")]
        assert (status == RequestStatus.RELEASED) == bool(found)
        assert status in (RequestStatus.IN_REVIEW, RequestStatus.RELEASED)
        for bundle in found:
            assert_complete(bundle, key)
        assert airlock.verify_audit(user("admin1")).ok
        return before
    finally:
        airlock.dal.engine.dispose()


def _at_every_step(backend, tmp_path, airlock_databases, mode: str, check) -> dict:
    """The final approval run once without a fault, which lists its durable steps, then once
    per step with that step killed (``mode="kill"``) or failing (``"fail"``). Returns
    ``{step: check(settings, request id)}``."""
    settings, rid, saved, template = _crash_scene(backend, tmp_path, airlock_databases)
    events = tmp_path / "events.log"
    workers = CrashWorkers()
    try:
        run = _restore(settings, saved, template, airlock_databases)
        assert workers.crash_at(run, rid, 0, events, mode) == 0
        steps = events.read_text().splitlines()
        assert any("rename" in s for s in steps) and any("commit" in s for s in steps)
        assert check(run, rid) == ("released", True)
        outcomes = {}
        for point in range(1, len(steps) + 1):
            run = _restore(settings, saved, template, airlock_databases)
            code = workers.crash_at(run, rid, point, events, mode)
            assert code == -signal.SIGKILL if mode == "kill" else code in (0, 1)
            outcomes[steps[point - 1]] = check(run, rid)
    finally:
        workers.close()
    return outcomes


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_airlock_crash__kill_at_every_step_of_a_release(backend, tmp_path, airlock_databases):
    outcomes = _at_every_step(backend, tmp_path, airlock_databases, "kill", _check_after_crash)
    seen = set(outcomes.values())
    # every kind of outcome happened: before the approval's commit, between it and the bundle's
    # rename, between the rename and the release's commit, and after
    assert ("in_review", False) in seen
    assert ("approved", False) in seen
    assert ("approved", True) in seen
    assert ("released", True) in seen
    assert ("released", False) not in seen


def _finish_after_failure(settings, rid: str) -> tuple[str, bool]:
    """After a step of the final approval failed: the outbox holds no bundle or one complete
    bundle, a released request has its bundle; after a restart (recovery) and what a reviewer
    would do (approve again, "Finish release"), the request is released with a bundle that
    verifies. Returns (status, bundle present) as the failure left them."""
    airlock = make_airlock(settings)
    key = airlock.signing_key.public_key()
    try:
        found = bundles_in(settings.outbox_dir)
        assert len(found) <= 1 and not [
            p for p in settings.outbox_dir.iterdir() if p.name.startswith(".tmp-")
        ]
        for bundle in found:
            assert_complete(bundle, key)
        request = airlock.get_request(user("reviewer1"), rid)
        if request.status == RequestStatus.RELEASED:
            assert found, "released without a bundle"
        assert bool(request.release_error) == (request.status == RequestStatus.RELEASE_FAILED)
        left = (request.status.value, bool(found))
        airlock.recover()  # the restart
        request = airlock.get_request(user("reviewer1"), rid)
        if request.status == RequestStatus.IN_REVIEW:  # the approval itself failed
            request = airlock.decide(user("reviewer2"), rid, Decision.APPROVE)
        if request.status == RequestStatus.RELEASE_FAILED:
            request = airlock.release(user("reviewer1"), rid)
        assert request.status == RequestStatus.RELEASED, request
        [bundle] = bundles_in(settings.outbox_dir)
        assert_complete(bundle, key)
        assert airlock.verify_audit(user("admin1")).ok
        return left
    finally:
        airlock.dal.engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_airlock_release_failure__at_every_step_of_a_release(backend, tmp_path, airlock_databases):
    """Each durable step of the final approval and its release fails in turn (OSError, as on a
    full disk): the worker never dies of it, nothing half-written is left, and the request is
    in review, approved, release_failed or released, from where it is released."""
    outcomes = _at_every_step(backend, tmp_path, airlock_databases, "fail", _finish_after_failure)
    seen = set(outcomes.values())
    assert ("in_review", False) in seen  # the approval's commit failed
    assert ("approved", False) in seen  # after the approval's commit: the start releases it
    assert ("release_failed", False) in seen  # writing the bundle failed
    assert ("release_failed", True) in seen  # renamed, then the release's commit failed
    assert ("released", True) in seen  # after the release's commit
    assert ("released", False) not in seen


@pytest.mark.slow
def test_airlock_service__a_release_that_fails_never_stops_the_service(
    tmp_path, airlock_databases, monkeypatch
):
    """The service starts although an interrupted release cannot be finished (names the bundle
    cannot hold both, from before names were checked: issue 12); a release whose bundle cannot
    be renamed into the outbox is a release_failed answer, not a 5xx; the service answers on,
    and the failed releases are retried or returned."""
    root = tmp_path / "node"
    settings = make_settings(root, airlock_databases.new("sqlite", root / "airlock.sqlite"))
    airlock = make_airlock(settings)
    stuck = with_colliding_names(airlock, settings)
    with monkeypatch.context() as patched:  # the process dies while writing the bundle
        patched.setattr(bundles, "write_bundle", _dies)
        with pytest.raises(KeyboardInterrupt):
            airlock.decide(user("reviewer2"), stuck, Decision.APPROVE)
    rid = submitted_request(airlock, settings, approvals=("reviewer1",))
    airlock.dal.engine.dispose()
    env = {"AIRLOCK_TEST_EVENTS": str(tmp_path / "events.log"),
           "AIRLOCK_TEST_FAIL_ON": "before rename"}  # fmt: skip
    with Service(settings, env=env) as service:  # started: recovery did not stop it
        r = service.get("reviewer1", f"/requests/{stuck}")
        assert r.status_code == 200 and r.json()["status"] == "release_failed", r.text
        assert "cannot write 'out/b.tsv'" in r.json()["release_error"]
        r = service.post("reviewer2", f"/requests/{rid}/reviews", json={"decision": "approve"})
        assert r.status_code == 200 and r.json()["status"] == "release_failed", r.text
        assert "No space left on device" in r.json()["release_error"]
        assert service.get("admin1", "/failed-releases").json()[0]["id"] in (stuck, rid)
        r = service.post("reviewer3", f"/requests/{rid}/release")  # the disk has room again
        assert r.status_code == 200 and r.json()["status"] == "released", r.text
        r = service.post("reviewer3", f"/requests/{stuck}/release")
        assert r.status_code == 200 and r.json()["status"] == "release_failed", r.text
        r = service.post("reviewer3", f"/requests/{stuck}/return", json={"reason": "rename out"})
        assert r.status_code == 200 and r.json()["status"] == "returned", r.text
        assert service.get("admin1", "/audit/verify").json()["ok"]
    assert [p.name for p in bundles_in(settings.outbox_dir)] == [f"testnode-{rid}"]


def _dies(*args, **kwargs):
    raise KeyboardInterrupt
