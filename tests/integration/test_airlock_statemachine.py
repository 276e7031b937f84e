"""Random sequences of actions by random users against the airlock workflow (hypothesis).

After every step: nothing is released without two distinct approvals by reviewers other than
the requester in the final round; released bytes equal the bytes submitted; a blocked file in a
release carries an exception every approver acknowledged; the outbox holds exactly the released
requests' bundles (and what a fault put there); the audit log verifies against its hash chain,
its signed checkpoints and the released bundles' signed heads. A refused action
changes nothing (database, outbox, snapshot store, audit checkpoints).

Faults: a release fails (a snapshot in the store is damaged, or something that is not the
request's bundle lies under its name in the outbox) until they are repaired; the service
restarts (recovery). A failed release is a status with its reason, never an exception: a
reviewer retries it or returns it to the requester.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from airlock import bundles
from airlock.domain import User
from airlock.enums import Decision, RequestStatus
from airlock.exceptions import AirlockError
from tests.airlock_support import (
    USERS,
    database_dump,
    make_airlock,
    make_settings,
    marker_checker,
    tree,
    write_workspace_file,
)

NAMES = sorted(USERS)
FILENAMES = ["a.csv", "b.csv", "sub/c.txt", "auto.csv"]
CONTENTS = st.one_of(
    st.binary(min_size=1, max_size=64),
    st.sampled_from([b"x,y\n1,20\n", b"sample\nBLOCK\n", b"REVIEW me\n"]),
)

_template: dict[str, Path] = {}
STATS = {"released": 0, "release_failed": 0}


def fresh_sqlite(target: Path) -> str:
    """A migrated SQLite database, copied from one migrated once per test session."""
    if "path" not in _template:
        d = Path(tempfile.mkdtemp(prefix="airlock-sm-template-"))
        atexit.register(shutil.rmtree, d, ignore_errors=True)
        from airlock.db.schema import upgrade

        upgrade(f"sqlite:///{d / 'db.sqlite'}")
        _template["path"] = d / "db.sqlite"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_template["path"], target)
    return f"sqlite:///{target}"


class AirlockMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="airlock-sm-"))
        self.settings = make_settings(self.root, fresh_sqlite(self.root / "airlock.sqlite"))
        self.airlock = make_airlock(self.settings, marker_checker)  # verdicts it controls
        self.requests: list[str] = []
        #: request id -> {file id: bytes of its snapshot}; what would be released
        self.snapshots: dict[str, dict[int, bytes]] = {}
        self.submitted: dict[str, dict[str, bytes]] = {}  # at the last submission, by name
        self.refusals = 0
        #: faults in place: things under a bundle's name in the outbox; damaged snapshots and
        #: their right bytes
        self.strays: set[Path] = set()
        self.damaged: dict[Path, bytes] = {}

    def teardown(self) -> None:
        self.airlock.dal.engine.dispose()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- helpers ------------------------------------------------------------------------------
    def user(self, name: str) -> User:
        return User(name, USERS[name])

    def attempt(self, action):
        """Run an action; if refused, prove that it changed nothing."""
        before = self._state()
        try:
            return action()
        except AirlockError:
            self.refusals += 1
            assert self._state() == before
            return None

    def _state(self):
        checkpoints = self.settings.audit_checkpoints_path
        return (
            database_dump(self.airlock),
            tree(self.settings.outbox_dir),
            tree(self.settings.store_dir),
            checkpoints.read_bytes() if checkpoints.exists() else b"",
        )

    def pick(self, index: int) -> str:
        return self.requests[index % len(self.requests)]

    def request(self, rid: str):
        with self.airlock.dal.read() as r:
            return r.get_request(rid)

    # -- rules --------------------------------------------------------------------------------
    @initialize(requester=st.sampled_from(["researcher1", "both1", "researcher2"]))
    def a_draft_with_a_file(self, requester):
        """Every run starts with a draft holding one file, so that runs get somewhere."""
        project = "uk-study" if requester == "researcher2" else "nordic-gwas"
        self.create(requester, project)
        write_workspace_file(self.settings, requester, "a.csv", b"k,n\na,20\n")
        self.add_file(requester, 0, "a.csv", None)

    @rule(name=st.sampled_from(NAMES), project=st.sampled_from(["nordic-gwas", "uk-study"]))
    def create(self, name, project):
        created = self.attempt(lambda: self.airlock.create_request(self.user(name), project))
        if created:
            self.requests.append(created.id)
            self.snapshots[created.id] = {}

    @rule(name=st.sampled_from(NAMES), filename=st.sampled_from(FILENAMES), data=CONTENTS)
    def write_workspace(self, name, filename, data):
        write_workspace_file(self.settings, name, filename, data)

    @precondition(lambda self: self.requests)
    @rule(
        name=st.sampled_from(NAMES),
        index=st.integers(0, 99),
        filename=st.sampled_from(FILENAMES),
        exception=st.sampled_from([None, "", "aggregate over three cohorts"]),
    )
    def add_file(self, name, index, filename, exception):
        rid = self.pick(index)
        source = self.settings.workspaces_dir / name / filename
        data = source.read_bytes() if source.is_file() else None
        added = self.attempt(
            lambda: self.airlock.add_file(
                self.user(name),
                rid,
                path=filename,
                description="counts",
                disclosure_control="all >= 10",
                exception=exception,
            )
        )
        if added:
            self.snapshots[rid][added.id] = data

    @precondition(lambda self: self.requests)
    @rule(
        name=st.sampled_from(NAMES),
        index=st.integers(0, 99),
        which=st.integers(0, 9),
        refresh=st.booleans(),
        exception=st.sampled_from([None, "", "reviewed with the data owner"]),
    )
    def update_file(self, name, index, which, refresh, exception):
        rid = self.pick(index)
        files = self.request(rid).files
        if not files:
            return
        f = files[which % len(files)]
        source = self.settings.workspaces_dir / name / f.source_path
        data = source.read_bytes() if source.is_file() else None
        updated = self.attempt(
            lambda: self.airlock.update_file(
                self.user(name), rid, f.id, exception=exception, refresh=refresh
            )
        )
        if updated and refresh:
            self.snapshots[rid][f.id] = data

    @precondition(lambda self: self.requests)
    @rule(name=st.sampled_from(NAMES), index=st.integers(0, 99), which=st.integers(0, 9))
    def remove_file(self, name, index, which):
        rid = self.pick(index)
        files = self.request(rid).files
        if files:
            f = files[which % len(files)]
            self.attempt(lambda: self.airlock.remove_file(self.user(name), rid, f.id))

    @precondition(lambda self: self.requests)
    @rule(name=st.sampled_from(NAMES), index=st.integers(0, 99))
    def submit(self, name, index):
        rid = self.pick(index)
        if self.attempt(lambda: self.airlock.submit(self.user(name), rid)):
            request = self.request(rid)
            self.submitted[rid] = {f.name: self.snapshots[rid][f.id] for f in request.files}

    @precondition(lambda self: self.requests)
    @rule(name=st.sampled_from(NAMES), index=st.integers(0, 99))
    def withdraw(self, name, index):
        rid = self.pick(index)
        self.attempt(lambda: self.airlock.withdraw(self.user(name), rid))

    @precondition(lambda self: self.requests)
    @rule(
        name=st.sampled_from(NAMES),
        index=st.integers(0, 99),
        decision=st.sampled_from(list(Decision)),
        reason=st.sampled_from(["", "counts below 10"]),
        acknowledge=st.booleans(),
    )
    def decide(self, name, index, decision, reason, acknowledge):
        rid = self.pick(index)
        ack = [f.id for f in self.request(rid).blocked_files] if acknowledge else []
        self.attempt(
            lambda: self.airlock.decide(
                self.user(name), rid, decision, reason=reason, acknowledge=ack
            )
        )

    @precondition(lambda self: self.requests)
    @rule(name=st.sampled_from(NAMES), index=st.integers(0, 99), which=st.integers(0, 9))
    def view_or_download(self, name, index, which):
        rid = self.pick(index)
        request = self.request(rid)
        if not request.files:
            return
        f = request.files[which % len(request.files)]
        viewed = self.attempt(lambda: self.airlock.view_file(self.user(name), rid, f.id, how="t"))
        if viewed:
            assert viewed.data == self.snapshots[rid][f.id]
        got = self.attempt(lambda: self.airlock.download(self.user(name), rid, f.id))
        if got:
            assert got.data == self.submitted[rid][f.name]

    @precondition(lambda self: self.requests)
    @rule(name=st.sampled_from(NAMES), index=st.integers(0, 99))
    def release(self, name, index):
        rid = self.pick(index)
        self.attempt(lambda: self.airlock.release(self.user(name), rid))

    @precondition(lambda self: self.requests)
    @rule(
        name=st.sampled_from(NAMES),
        index=st.integers(0, 99),
        reason=st.sampled_from(["", "rename the file and submit again"]),
    )
    def return_release(self, name, index, reason):
        rid = self.pick(index)
        self.attempt(lambda: self.airlock.return_release(self.user(name), rid, reason=reason))

    # -- faults -------------------------------------------------------------------------------
    @precondition(lambda self: self.requests)
    @rule(index=st.integers(0, 99), which=st.integers(0, 9))
    def damage_a_snapshot(self, index, which):
        """The store loses a file's bytes: releasing it fails (its hash is checked)."""
        files = self.request(self.pick(index)).files
        if not files:
            return
        path = self.airlock.store.path_of(files[which % len(files)].sha256)
        if path not in self.damaged:
            self.damaged[path] = path.read_bytes()
        path.chmod(0o640)
        path.write_bytes(b"damaged on disk")
        path.chmod(0o440)

    @precondition(lambda self: self.requests)
    @rule(index=st.integers(0, 99))
    def something_in_the_outbox(self, index):
        """Something that is not the request's bundle lies under its name (a restore, an
        admin's copy): releasing it fails, and it is never overwritten."""
        request = self.request(self.pick(index))
        stray = self.airlock.bundle_path(request)
        if request.status != RequestStatus.RELEASED and not stray.exists():
            stray.mkdir(parents=True)
            (stray / "restored.txt").write_text("an old copy")
            self.strays.add(stray)

    @rule()
    def repair(self):
        """An admin removes what is in the way and restores the damaged snapshots."""
        for stray in self.strays:
            assert (stray / "restored.txt").read_text() == "an old copy"  # never overwritten
            bundles.remove_tree(stray)
        self.strays.clear()
        for path, data in self.damaged.items():
            path.chmod(0o640)
            path.write_bytes(data)
            path.chmod(0o440)
        self.damaged.clear()

    @rule()
    def restart(self):
        """The service restarts: recovery finishes what a crash left, and never fails."""
        self.airlock.dal.engine.dispose()
        self.airlock = make_airlock(self.settings, marker_checker)
        self.airlock.recover()

    @rule(name=st.sampled_from(NAMES), approvals=st.integers(1, 3))
    def configure(self, name, approvals):
        from pydantic import ValidationError

        try:
            self.attempt(
                lambda: self.airlock.set_config(self.user(name), approvals_required=approvals)
            )
        except ValidationError:
            assert approvals < 2

    @precondition(lambda self: self.requests)
    @rule(index=st.integers(0, 99), reviewer=st.sampled_from(["reviewer1", "reviewer2", "both1"]))
    def advance(self, index, reviewer):
        """The next step a cooperative user would take, so that runs reach releases often."""
        rid = self.pick(index)
        request = self.request(rid)
        requester = self.user(request.requester)
        if request.status in (RequestStatus.DRAFT, RequestStatus.RETURNED):
            if not request.files:
                write_workspace_file(self.settings, requester.name, "auto.csv", b"k,n\na,20\n")
                self.add_file(requester.name, index, "auto.csv", None)
            self.submit(requester.name, index)
        elif request.status in (RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW):
            self.decide(reviewer, index, Decision.APPROVE, "", True)
        elif request.status == RequestStatus.RELEASE_FAILED:
            self.release(reviewer, index)  # "Finish release": fails again until repaired

    # -- invariants ---------------------------------------------------------------------------
    @invariant()
    def releases_are_two_person_and_byte_exact(self):
        key = self.airlock.signing_key.public_key()
        with self.airlock.dal.read() as r:
            released = r.list_requests(statuses=[RequestStatus.RELEASED])
            approved = r.list_requests(statuses=[RequestStatus.APPROVED])
            failed = r.list_requests(statuses=[RequestStatus.RELEASE_FAILED])
        assert not approved  # an approval releases at once, or the release fails
        for request in failed:
            STATS["release_failed"] += 1
            assert request.release_error and request.bundle_name is None
        for request in (*released, *approved, *failed):
            assert bool(request.release_error) == (request.status == RequestStatus.RELEASE_FAILED)
        for request in released:
            approvers = {
                v.reviewer
                for v in request.reviews
                if v.round == request.round
                and v.decision == Decision.APPROVE
                and v.reviewer != request.requester
                and "airlock-reviewers" in USERS[v.reviewer]
            }
            assert len(approvers) >= 2, (request.id, approvers)
            STATS["released"] += 1
            bundle = self.settings.outbox_dir / request.bundle_name
            report = bundles.verify_bundle(bundle, key)
            assert report.ok, report.problems
            on_disk = {
                p.relative_to(bundle / "files").as_posix(): p.read_bytes()
                for p in (bundle / "files").rglob("*")
                if p.is_file()
            }
            assert on_disk == self.submitted[request.id]
            for f in request.blocked_files:
                assert f.exception and f.exception.strip()
                for v in request.reviews:
                    if v.round == request.round and v.decision == Decision.APPROVE:
                        assert f.id in v.acknowledged_files
        assert tree(self.settings.outbox_dir) == sorted(
            [r.bundle_name for r in released]
            + [f"{r.bundle_name}/{p}" for r in released for p in _bundle_tree(self.settings, r)]
            + [s.name for s in self.strays]
            + [f"{s.name}/restored.txt" for s in self.strays]
        )

    @invariant()
    def audit_chain_verifies(self):
        report = self.airlock.verify_audit(User("auditor", frozenset({"admins"})))
        assert report.ok, report.problems


def _bundle_tree(settings, request):
    return tree(settings.outbox_dir / request.bundle_name)


AirlockMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.slow
class TestAirlockStateMachine(AirlockMachine.TestCase):
    pass


def _a_release_that_fails() -> None:
    """The machine's own steps, in an order that reaches a failed release: a draft with a file,
    submitted, its snapshot damaged, approved by two reviewers (the release checks the hash and
    fails), then repaired and released."""
    machine = AirlockMachine()
    try:
        machine.a_draft_with_a_file("researcher1")
        machine.advance(0, "reviewer1")  # submitted
        machine.damage_a_snapshot(0, 0)
        machine.advance(0, "reviewer1")
        machine.advance(0, "reviewer2")  # approved twice: the release fails
        machine.releases_are_two_person_and_byte_exact()
        machine.repair()
        machine.advance(0, "reviewer1")  # "Finish release"
        machine.releases_are_two_person_and_byte_exact()
    finally:
        machine.teardown()


@pytest.mark.slow
def test_airlock_statemachine__runs_reached_releases():
    """The machine above is only meaningful if its runs release things, and some releases
    fail (runs after it). A random run of 60 examples can, rarely, release nothing or have no
    release fail (seen twice in about fifteen CI runs); then the machine's own steps are taken
    in an order that reaches both, so this check cannot flake, and a machine whose steps no
    longer reach a release (or a failed one) still fails it."""
    if STATS["released"] == 0 or STATS["release_failed"] == 0:
        _a_release_that_fails()
    assert STATS["released"] > 0 and STATS["release_failed"] > 0, STATS
