"""The airlock's workflow: the verbs users call, and ``set_status``.

The state machine is data (airlock.states); ``set_status`` validates a transition, then writes
it with its audit entry. Each verb of
:class:`Airlock` checks who (airlock.permissions) and what (airlock.policies) inside one
database transaction that holds the request's lock, so a check and the change it allows cannot
be separated by another user's action. Slow work (reading a workspace file, running the checks)
happens before the transaction and is re-validated inside it.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from airlock import anchors, bundles, permissions, policies, reviewers, rounds
from airlock.abilities import Abilities, abilities
from airlock.audit import ChainReport
from airlock.checking import (
    Checker,
    RequestContexts,
    granted_datasets,
    request_contexts,
    run_checker,
)
from airlock.config import Settings
from airlock.db.data_access import DataAccess, Writer
from airlock.domain import (
    MAX_RELEASE_ERROR,
    MAX_TEXT,
    SYSTEM,
    AuditEntry,
    AuditEvent,
    FederationBinding,
    ReleaseRequest,
    RequestFile,
    User,
    release_name,
    utcnow,
)
from airlock.enums import AuditEventType, Decision, RequestStatus
from airlock.exceptions import (
    ConcurrentChange,
    FileNotFoundInRequest,
    IntegrityError,
    InvalidInput,
    ReturnedToReview,
)
from airlock.samples import SampleIdProvider
from airlock.states import STATUS_AUDIT_EVENT, check_status
from airlock.store import SnapshotStore, clean_relative_path, workspace_root
from tresor.core.airlock_config import AirlockConfig, explain

log = logging.getLogger(__name__)

S = RequestStatus


def set_status(
    tx: Writer,
    request: ReleaseRequest,
    to: RequestStatus,
    user: User,
    *,
    details: dict[str, Any] | None = None,
    **fields: Any,
) -> ReleaseRequest:
    """Validate, then write the transition and its audit entry; returns the updated request."""
    check_status(request, to)
    audit = AuditEvent.for_request(
        STATUS_AUDIT_EVENT[to], user, request.id, previous=request.status.value, **(details or {})
    )
    tx.set_status(request.id, to, audit=audit, **fields)
    return tx.get_request(request.id)


@dataclasses.dataclass(frozen=True)
class FileContent:
    """A file's bytes as stored, and what the request says about it."""

    request: ReleaseRequest
    file: RequestFile
    data: bytes


def _nonempty(value: str | None, what: str, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{what} is required")
    if len(value) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters")
    return value


def _file(request: ReleaseRequest, file_id: int) -> RequestFile:
    file = request.file(file_id)
    if file is None:
        raise FileNotFoundInRequest(f"request {request.id} has no file {file_id}")
    return file


class Airlock:
    """The service's verbs. One instance per process; safe to share between threads."""

    def __init__(
        self,
        *,
        settings: Settings,
        dal: DataAccess,
        checker: Checker,
        samples: SampleIdProvider,
        signing_key=None,
    ) -> None:
        self.settings = settings
        self.dal = dal
        self.checker = checker
        #: the node's datasets for the checks (airlock.samples): the service's only view of them
        self.samples = samples
        self.store = SnapshotStore(settings.store_dir)
        self.signing_key = signing_key or bundles.load_or_create_signing_key(
            settings.signing_key_path
        )
        settings.outbox_dir.mkdir(parents=True, exist_ok=True)
        #: every committed audit entry is checkpointed outside the database, signed
        self.checkpoints = anchors.CheckpointLog(settings.audit_checkpoints_path, self.signing_key)
        dal.anchor = self.checkpoints.append

    # -- reading ----------------------------------------------------------------------------
    def config(self) -> AirlockConfig:
        with self.dal.read() as r:
            return r.runtime_config()

    def get_request(self, user: User, request_id: str) -> ReleaseRequest:
        with self.dal.read() as r:
            request = r.get_request(request_id)
        permissions.check_user_can_view_request(user, request)
        return request

    def abilities(self, user: User, request: ReleaseRequest) -> Abilities:
        """What ``user`` can do with ``request`` now (the pages' buttons, the API's flags)."""
        return abilities(user, request, self.settings.projects)

    def list_requests(self, user: User) -> list[ReleaseRequest]:
        """What the user may see: their own requests, and for reviewers every submitted one."""
        with self.dal.read() as r:
            mine = r.list_requests(requester=user.name) if user.is_researcher else []
            others = r.list_requests(submitted_only=True) if user.is_reviewer else []
        seen = {q.id for q in mine}
        merged = mine + [q for q in others if q.id not in seen]
        return sorted(merged, key=lambda q: q.created_at, reverse=True)

    def queue(self, user: User) -> list[ReleaseRequest]:
        """Requests waiting for review that this reviewer may review, oldest first."""
        permissions.check_user_can_see_queue(user)
        with self.dal.read() as r:
            waiting = r.list_requests(statuses=policies.QUEUE)
        return sorted(
            (q for q in waiting if permissions.user_can_review(user, q)),
            key=lambda q: q.submitted_at or q.created_at,
        )

    # -- the requester ----------------------------------------------------------------------
    def create_request(
        self, user: User, project: str, *, federation: FederationBinding | None = None
    ) -> ReleaseRequest:
        """A draft for one of the user's projects; the federation agent's account binds it to
        the federated request it answers (``federation``)."""
        permissions.check_user_can_create_request(user, project, self.settings.projects)
        details: dict[str, Any] = {"project": project}
        if federation is not None:
            permissions.check_user_can_bind_federation(user)
            details["federation"] = federation.to_dict()
        request_id = uuid.uuid4().hex[:16]
        with self.dal.write() as tx:
            return tx.create_request(
                request_id=request_id,
                project=project,
                requester=user.name,
                federation=federation,
                audit=AuditEvent(AuditEventType.REQUEST_CREATED, user.name, request_id, details),
            )

    def _editable(self, tx: Writer, user: User, request_id: str) -> ReleaseRequest:
        request = tx.get_request(request_id)
        permissions.check_user_can_view_request(user, request)
        permissions.check_user_can_edit_request(user, request, self.settings.projects)
        policies.check_can_edit_files(request)
        return request

    def _snapshot(self, user: User, path: str, max_bytes: int):
        root = workspace_root(self.settings.workspaces_dir, user.name)
        return self.store.snapshot_workspace_file(root, path, max_bytes=max_bytes)

    def _check(self, sha256: str, name: str, contexts: RequestContexts):
        with self.store.checkable(sha256, name) as path:
            return run_checker(self.checker, path, name, contexts)

    def add_file(
        self,
        user: User,
        request_id: str,
        *,
        path: str,
        description: str,
        disclosure_control: str,
        name: str | None = None,
        exception: str | None = None,
    ) -> RequestFile:
        """Snapshot a workspace file into the request and run the checks on the snapshot."""
        path = clean_relative_path(path, "path")
        name = release_name(name or path)
        description = _nonempty(description, "what the file is (description)")
        disclosure_control = _nonempty(
            disclosure_control, "how disclosure was controlled (disclosure_control)"
        )
        exception = (exception or "").strip() or None
        config = self.config()
        with self.dal.read() as r:  # refuse early, before reading anything
            request = r.get_request(request_id)
        permissions.check_user_can_view_request(user, request)
        permissions.check_user_can_edit_request(user, request, self.settings.projects)
        policies.check_can_add_file(request, name, config.max_files_per_request)
        snapshot = self._snapshot(user, path, config.max_summary_statistics_bytes)
        contexts = request_contexts(config, self.samples, request, self.dal)
        report = self._check(snapshot.sha256, name, contexts)
        with self.dal.write(request_id) as tx:
            request = self._editable(tx, user, request_id)
            policies.check_can_add_file(request, name, config.max_files_per_request)
            return tx.add_file(
                request_id,
                name=name,
                source_path=path,
                description=description,
                disclosure_control=disclosure_control,
                exception=exception,
                sha256=snapshot.sha256,
                size=snapshot.size,
                **report.stored(),
                audit=AuditEvent.for_request(
                    AuditEventType.FILE_ADDED,
                    user,
                    request_id,
                    file=name,
                    source_path=path,
                    sha256=snapshot.sha256,
                    size=snapshot.size,
                    verdict=report.verdict.value,
                ),
            )

    def update_file(
        self,
        user: User,
        request_id: str,
        file_id: int,
        *,
        description: str | None = None,
        disclosure_control: str | None = None,
        exception: str | None = None,
        refresh: bool = False,
    ) -> RequestFile:
        """Change a file's context or exception, or re-read it from the workspace (refresh)."""
        changes: dict[str, Any] = {}
        if description is not None:
            changes["description"] = _nonempty(description, "what the file is (description)")
        if disclosure_control is not None:
            changes["disclosure_control"] = _nonempty(
                disclosure_control, "how disclosure was controlled (disclosure_control)"
            )
        if exception is not None:
            changes["exception"] = exception.strip() or None
        with self.dal.read() as r:
            request = r.get_request(request_id)
        permissions.check_user_can_view_request(user, request)
        permissions.check_user_can_edit_request(user, request, self.settings.projects)
        policies.check_can_edit_files(request)
        current = _file(request, file_id)
        if refresh:
            config = self.config()
            snapshot = self._snapshot(
                user, current.source_path, config.max_summary_statistics_bytes
            )
            contexts = request_contexts(config, self.samples, request, self.dal)
            report = self._check(snapshot.sha256, current.name, contexts)
            changes.update(
                sha256=snapshot.sha256,
                size=snapshot.size,
                **report.stored(),
            )
        if not changes:
            return current
        with self.dal.write(request_id) as tx:
            request = self._editable(tx, user, request_id)
            if request.file(file_id) is None or request.file(file_id).sha256 != current.sha256:
                raise ConcurrentChange(f"{current.name} changed meanwhile; reload and try again")
            shown = {
                k: v
                for k, v in changes.items()
                if k not in ("report", "reviewer_findings", "tables")
            }
            return tx.update_file(
                request_id,
                file_id,
                audit=AuditEvent.for_request(
                    AuditEventType.FILE_UPDATED, user, request_id, file=current.name, **shown
                ),
                **changes,
            )

    def remove_file(self, user: User, request_id: str, file_id: int) -> None:
        with self.dal.write(request_id) as tx:
            request = self._editable(tx, user, request_id)
            file = _file(request, file_id)
            tx.remove_file(
                request_id,
                file_id,
                audit=AuditEvent.for_request(
                    AuditEventType.FILE_REMOVED, user, request_id, file=file.name
                ),
            )

    def submit(self, user: User, request_id: str) -> ReleaseRequest:
        """Run the checks on every snapshot, then hand the request to the reviewers."""
        with self.dal.read() as r:
            request = r.get_request(request_id)
        permissions.check_user_can_view_request(user, request)
        permissions.check_user_can_edit_request(user, request, self.settings.projects)
        policies.check_can_submit(request)
        check_status(request, S.SUBMITTED)
        contexts = request_contexts(self.config(), self.samples, request, self.dal)
        reports = {f.id: self._check(f.sha256, f.name, contexts) for f in request.files}
        with self.dal.write(request_id) as tx:
            now = self._editable(tx, user, request_id)
            policies.check_can_submit(now)
            if {(f.id, f.sha256) for f in now.files} != {(f.id, f.sha256) for f in request.files}:
                raise ConcurrentChange("the request's files changed meanwhile; submit again")
            for f in now.files:
                report = reports[f.id]
                tx.update_file(
                    request_id,
                    f.id,
                    **report.stored(),
                    audit=AuditEvent.for_request(
                        AuditEventType.FILE_CHECKED,
                        user,
                        request_id,
                        file=f.name,
                        sha256=f.sha256,
                        verdict=report.verdict.value,
                        findings=len(report.findings),
                    ),
                )
            return set_status(
                tx,
                now,
                S.SUBMITTED,
                user,
                round=now.round + 1,
                submitted_at=utcnow(),
                details={"round": now.round + 1, "files": len(now.files)},
            )

    def withdraw(self, user: User, request_id: str) -> ReleaseRequest:
        with self.dal.write(request_id) as tx:
            request = tx.get_request(request_id)
            permissions.check_user_can_view_request(user, request)
            permissions.check_user_can_withdraw(user, request)
            return set_status(tx, request, S.WITHDRAWN, user)

    # -- reviewers --------------------------------------------------------------------------
    def _start_review(self, tx: Writer, request: ReleaseRequest, user: User) -> ReleaseRequest:
        """A reviewer's first act on a submitted request puts it in review."""
        if request.status == S.SUBMITTED:
            return set_status(tx, request, S.IN_REVIEW, user, details={"round": request.round})
        return request

    def view_file(self, user: User, request_id: str, file_id: int, *, how: str) -> FileContent:
        """A reviewer opens a file (preview or raw): audited, and starts the review."""
        with self.dal.write(request_id) as tx:
            request = tx.get_request(request_id)
            permissions.check_user_can_view_request(user, request)
            permissions.check_user_can_preview_file(user, request)
            file = _file(request, file_id)
            data = self.store.read_verified(file.sha256)
            if policies.can_review(request):
                request = self._start_review(tx, request, user)
            tx.append_audit(
                AuditEvent.for_request(
                    AuditEventType.FILE_VIEWED,
                    user,
                    request_id,
                    file=file.name,
                    sha256=file.sha256,
                    how=how,
                )
            )
        return FileContent(request, file, data)

    def round_changes(self, user: User, request_id: str) -> rounds.RoundChanges | None:
        """For those who preview files: which files were added, changed or removed since the
        previous round (names and hashes only); None in the first round."""
        with self.dal.read() as r:
            request = r.get_request(request_id)
            permissions.check_user_can_view_request(user, request)
            permissions.check_user_can_preview_file(user, request)
            return rounds.changes(request, r.audit_entries(request_id=request_id))

    def previous_version(self, user: User, request_id: str, file_id: int) -> bytes | None:
        """The previous round's bytes of a file that changed since (audited as a view), or
        None when the file is new or unchanged, or the request is in its first round."""
        with self.dal.write(request_id) as tx:
            request = tx.get_request(request_id)
            permissions.check_user_can_view_request(user, request)
            permissions.check_user_can_preview_file(user, request)
            file = _file(request, file_id)
            changes = rounds.changes(request, tx.audit_entries(request_id=request_id))
            if changes is None or file.name not in changes.changed:
                return None
            before = changes.before[file.name]
            data = self.store.read_verified(before)
            tx.append_audit(
                AuditEvent.for_request(
                    AuditEventType.FILE_VIEWED,
                    user,
                    request_id,
                    file=file.name,
                    sha256=before,
                    how=f"round {changes.previous}",
                )
            )
        return data

    def comment(
        self, user: User, request_id: str, body: str, *, file_id: int | None = None
    ) -> ReleaseRequest:
        body = _nonempty(body, "the comment")
        with self.dal.write(request_id) as tx:
            request = tx.get_request(request_id)
            permissions.check_user_can_view_request(user, request)
            permissions.check_user_can_comment(user, request)
            policies.check_can_comment(request)
            file = None
            if file_id is not None:
                file = _file(request, file_id)
            if permissions.user_can_review(user, request) and policies.can_review(request):
                request = self._start_review(tx, request, user)
            tx.add_comment(
                request_id,
                file_id=file_id,
                author=user.name,
                round=request.round,
                body=body,
                audit=AuditEvent.for_request(
                    AuditEventType.FILE_COMMENTED,
                    user,
                    request_id,
                    file=file.name if file else None,
                    body=body,
                ),
            )
            return tx.get_request(request_id)

    def decide(
        self,
        user: User,
        request_id: str,
        decision: Decision,
        *,
        reason: str = "",
        acknowledge: Collection[int] = (),
    ) -> ReleaseRequest:
        """Approve, reject or return. The last approval needed releases the request."""
        decision = Decision(decision)
        reason = (reason or "").strip()
        if decision != Decision.APPROVE:
            reason = _nonempty(reason, f"a reason to {decision.value} the request")
        acknowledge = sorted(set(acknowledge))
        with self.dal.write(request_id) as tx:
            request = tx.get_request(request_id)
            permissions.check_user_can_view_request(user, request)
            permissions.check_user_can_review(user, request)
            policies.check_can_review(request)
            policies.check_can_decide(request, user.name)
            if unknown := [i for i in acknowledge if request.file(i) is None]:
                raise InvalidInput(f"request {request_id} has no files {unknown}")
            if decision == Decision.APPROVE:
                policies.check_blocked_files_acknowledged(request, acknowledge)
                policies.check_reviewer_findings_acknowledged(request, acknowledge)
            request = self._start_review(tx, request, user)
            acknowledged_names = [request.file(i).name for i in acknowledge]
            self_made = reviewers.self_appointed(tx)  # their approvals do not count
            tx.add_review(
                request_id,
                reviewer=user.name,
                round=request.round,
                decision=decision,
                reason=reason,
                acknowledged=policies.requester_visible_acknowledgements(request, acknowledge),
                audit=AuditEvent.for_request(
                    AuditEventType.REVIEW_DECISION,
                    user,
                    request_id,
                    round=request.round,
                    decision=decision.value,
                    reason=reason,
                    acknowledged_exceptions=acknowledged_names,
                    # the membership the decision relied on, as the hub showed it (an OIDC
                    # claim's groups, the site config's, or the airlock's own changes)
                    reviewer_groups=sorted(user.groups),
                    counts=user.name not in self_made,
                ),
            )
            request = tx.get_request(request_id)
            required = tx.runtime_config().approvals_required
            if decision == Decision.REJECT:
                request = set_status(tx, request, S.REJECTED, user, details={"reason": reason})
            elif decision == Decision.RETURN:
                request = set_status(tx, request, S.RETURNED, user, details={"reason": reason})
            elif policies.has_enough_approvals(request, required, not_counting=self_made):
                request = set_status(
                    tx,
                    request,
                    S.APPROVED,
                    user,
                    details={
                        "approvers": sorted(request.approvers),
                        "approvals_required": required,
                    },
                )
        if request.status == S.APPROVED:
            return self.release(SYSTEM, request_id)
        return request

    # -- release ----------------------------------------------------------------------------
    def bundle_name(self, request: ReleaseRequest) -> str:
        return f"{self.settings.node_name}-{request.id}"

    def bundle_path(self, request: ReleaseRequest) -> Path:
        return self.settings.outbox_dir / self.bundle_name(request)

    def _manifest(self, tx: Writer, request: ReleaseRequest) -> dict[str, Any]:
        from tresor.core.version import __version__

        by_id = {f.id: f.name for f in request.files}
        audit_seq, audit_head = tx.audit_head()
        bound = {"federation": request.federation.to_dict()} if request.federation else {}
        return bound | {
            "node": self.settings.node_name,
            "bundle": self.bundle_name(request),
            "request": {
                "id": request.id,
                "project": request.project,
                "requester": request.requester,
                "round": request.round,
                "created_at": request.created_at.isoformat(),
                "submitted_at": request.submitted_at.isoformat() if request.submitted_at else None,
            },
            "files": [
                {
                    "name": f.name,
                    "sha256": f.sha256,
                    "size": f.size,
                    "description": f.description,
                    "disclosure_control": f.disclosure_control,
                    "exception": f.exception,
                    "check": f.report,
                }
                for f in request.files
            ],
            "reviews": [
                {
                    "reviewer": r.reviewer,
                    "round": r.round,
                    "decision": r.decision.value,
                    "reason": r.reason,
                    "acknowledged_exceptions": [by_id.get(i, str(i)) for i in r.acknowledged_files],
                    "at": r.created_at.isoformat(),
                }
                for r in request.reviews
            ],
            "released_at": utcnow().isoformat(),
            # the audit chain's head (committed) before the release, signed with the manifest:
            # the log before it cannot be rewritten unnoticed (airlock.anchors)
            "audit_head_before_release": audit_head,
            "audit_head_seq_before_release": audit_seq,
            "tresor_version": __version__,
        }

    def release(self, user: User, request_id: str) -> ReleaseRequest:
        """Write the signed bundle and mark the request released (idempotent).

        Holds the request's lock throughout, so two releases of one request cannot interleave;
        the bundle's rename into the outbox happens before the commit, so after a crash an
        approved request may have a complete bundle, which :meth:`recover` adopts. Approvals
        are counted again against the configuration in force: if ``approvals_required`` was
        raised after them, the release is refused (:class:`ReturnedToReview`) and the request
        goes back to review, where more reviewers can approve it.

        Whatever fails once the writing has begun (the disk, the outbox, the store, the commit)
        fails this request only: it becomes release_failed with the reason (audited), and is
        returned; a reviewer retries it ("Finish release") or returns it to the requester.
        """
        writing = False
        try:
            with self.dal.write(request_id) as tx:
                request = tx.get_request(request_id)
                if user is not SYSTEM:
                    permissions.check_user_can_view_request(user, request)
                    permissions.check_user_can_review(user, request)
                if request.status == S.RELEASED:
                    return request
                required = tx.runtime_config().approvals_required
                if policies.can_finish_release(request) and not policies.has_enough_approvals(
                    request, required
                ):
                    refusal = self._back_to_review(tx, request, user, required)
                else:
                    policies.check_can_release(request, required)
                    writing = True
                    return self._write_release(tx, request, user)
        except Exception as error:
            if not writing:
                raise
            return self._release_failed(user, request_id, error)
        raise refusal

    def _release_failed(self, user: User, request_id: str, error: Exception) -> ReleaseRequest:
        """Record why a release failed (its transaction was rolled back; a bundle renamed into
        the outbox before a failed commit stays, and the retry adopts it)."""
        reason = f"{type(error).__name__}: {error}"[:MAX_RELEASE_ERROR]
        log.error("the release of request %s failed: %s", request_id, reason, exc_info=error)
        with self.dal.write(request_id) as tx:
            request = tx.get_request(request_id)
            if request.status == S.APPROVED:
                return set_status(
                    tx,
                    request,
                    S.RELEASE_FAILED,
                    user,
                    release_error=reason,
                    details={"reason": reason},
                )
            if request.status == S.RELEASE_FAILED:
                tx.set_release_error(
                    request_id,
                    reason,
                    audit=AuditEvent.for_request(
                        STATUS_AUDIT_EVENT[S.RELEASE_FAILED],
                        user,
                        request_id,
                        previous=request.status.value,
                        reason=reason,
                    ),
                )
            return tx.get_request(request_id)  # or released: the commit failed after it was made

    def return_release(self, user: User, request_id: str, *, reason: str) -> ReleaseRequest:
        """A reviewer sends a request whose release failed back to the requester, who changes
        it (a file's name, say) and submits it again for a new round of review."""
        reason = _nonempty(reason, "a reason to return the request")
        with self.dal.write(request_id) as tx:
            request = tx.get_request(request_id)
            permissions.check_user_can_view_request(user, request)
            permissions.check_user_can_review(user, request)
            policies.check_can_return_release(request)
            return set_status(
                tx,
                request,
                S.RETURNED,
                user,
                details={"reason": reason, "release_error": request.release_error},
            )

    def failed_releases(self, user: User) -> list[ReleaseRequest]:
        """Requests whose release failed, oldest failure first: for reviewers (who retry or
        return them) and admins (who fix the cause)."""
        permissions.check_user_can_see_failed_releases(user)
        with self.dal.read() as r:
            failed = r.list_requests(statuses=[S.RELEASE_FAILED])
        return sorted(failed, key=lambda q: q.updated_at)

    def _back_to_review(
        self, tx: Writer, request: ReleaseRequest, user: User, required: int
    ) -> ReturnedToReview:
        """Move an approved request short of approvals back to review; returns the refusal
        to raise once that is committed."""
        have, needed = len(request.approvers), policies.approvals_needed(required)
        more = needed - have
        missing = "one more approval" if more == 1 else f"{more} more approvals"
        reason = f"approvals_required was raised to {needed} after the approvals: {missing} needed"
        set_status(
            tx,
            request,
            S.IN_REVIEW,
            user,
            details={
                "approvals": sorted(request.approvers),
                "approvals_required": needed,
                "reason": reason,
            },
        )
        return ReturnedToReview(
            f"request {request.id} has {have} approvals; {needed} are needed now "
            f"(approvals_required was raised after they were given). It is back in review: "
            f"{missing} from another reviewer releases it."
        )

    def _write_release(self, tx: Writer, request: ReleaseRequest, user: User) -> ReleaseRequest:
        path = self.bundle_path(request)
        adopted = path.exists()
        if adopted:
            self._check_existing_bundle(request, path)
        else:
            sources = {f.name: self.store.path_of(f.sha256) for f in request.files}
            bundles.write_bundle(
                self.settings.outbox_dir,
                path.name,
                self._manifest(tx, request),
                sources,
                self.signing_key,
            )
        manifest_sha = SnapshotStore.hash_file(path / bundles.MANIFEST)
        tx.record_release(
            request, datasets=granted_datasets(self.samples().datasets, request.project)
        )
        return set_status(
            tx,
            request,
            S.RELEASED,
            user,
            released_at=utcnow(),
            bundle_name=path.name,
            details={
                "bundle": path.name,
                "manifest_sha256": manifest_sha,
                "recovered": adopted,
            },
        )

    def _check_existing_bundle(self, request: ReleaseRequest, path: Path) -> None:
        report = bundles.verify_bundle(path, self.signing_key.public_key())
        expected = {(f.name, f.sha256) for f in request.files}
        listed = {(f["name"], f["sha256"]) for f in (report.manifest or {}).get("files", [])}
        if not report.ok or listed != expected:
            raise IntegrityError(
                f"the outbox holds {path.name} but it does not verify or does not match request "
                f"{request.id} ({'; '.join(report.problems) or 'different files'}); an admin "
                "must inspect it before the release can finish"
            )

    def download(self, user: User, request_id: str, file_id: int) -> FileContent:
        """The requester takes a released file (read from the bundle, hash checked): audited."""
        with self.dal.write(request_id) as tx:
            request = tx.get_request(request_id)
            permissions.check_user_can_view_request(user, request)
            permissions.check_user_can_download_release(user, request)
            policies.check_can_download(request)
            file = _file(request, file_id)
            data = bundles.read_released_file(
                self.settings.outbox_dir / request.bundle_name, file.name, file.sha256
            )
            tx.append_audit(
                AuditEvent.for_request(
                    AuditEventType.FILE_DOWNLOADED,
                    user,
                    request_id,
                    file=file.name,
                    sha256=file.sha256,
                )
            )
        return FileContent(request, file, data)

    def download_bundle(self, user: User, request_id: str) -> tuple[ReleaseRequest, Path]:
        """The requester takes the whole signed bundle (manifest, signature, files), e.g. to
        send it to a federation coordinator: checked against the node's key first, audited."""
        with self.dal.write(request_id) as tx:
            request = tx.get_request(request_id)
            permissions.check_user_can_view_request(user, request)
            permissions.check_user_can_download_release(user, request)
            policies.check_can_download(request)
            path = self.settings.outbox_dir / request.bundle_name
            report = bundles.verify_bundle(path, self.signing_key.public_key())
            if not report.ok:
                raise IntegrityError(
                    f"bundle {request.bundle_name} in the outbox does not verify "
                    f"({'; '.join(report.problems)}); an admin must inspect it"
                )
            tx.append_audit(
                AuditEvent.for_request(
                    AuditEventType.BUNDLE_DOWNLOADED,
                    user,
                    request_id,
                    bundle=request.bundle_name,
                    manifest_sha256=SnapshotStore.hash_file(path / bundles.MANIFEST),
                )
            )
        return request, path

    # -- admins -----------------------------------------------------------------------------
    def audit_entries(
        self, user: User, *, after: int = 0, limit: int = 500, request_id: str | None = None
    ) -> list[AuditEntry]:
        permissions.check_user_can_read_audit(user)
        with self.dal.read() as r:
            return r.audit_entries(after=after, limit=limit, request_id=request_id)

    def verify_audit(self, user: User) -> ChainReport:
        """The hash chain, against the checkpoints and the released bundles' signed heads (for
        the admin's page, quickly: the signatures of checkpoints that agree with the log are
        left to ``tresor airlock audit verify``)."""
        permissions.check_user_can_read_audit(user)
        with self.dal.read() as r:
            return anchors.verify_audit_log(
                r,
                checkpoints=self.settings.audit_checkpoints_path,
                outbox=self.settings.outbox_dir,
                public_key=self.signing_key.public_key(),
                every_signature=False,
            )

    def self_appointed_reviewers(self, user: User) -> set[str]:
        """Reviewers who added themselves (their approvals do not count; airlock.reviewers)."""
        permissions.check_user_can_manage_reviewers(user)
        with self.dal.read() as r:
            return reviewers.self_appointed(r)

    def set_config(self, user: User, **values: Any) -> AirlockConfig:
        """Change what admins may change while the service runs, validated by the one
        declaration of the airlock's limits (tresor.core.airlock_config)."""
        permissions.check_user_can_configure(user)
        if fixed := sorted(set(values) - set(AirlockConfig.ADMIN_SETTINGS)):
            raise InvalidInput(
                f"{', '.join(fixed)} cannot be changed here; admins change "
                f"{', '.join(AirlockConfig.ADMIN_SETTINGS)} (the others are in the site config)"
            )
        with self.dal.write() as tx:
            old = tx.runtime_config()
            try:
                new = AirlockConfig.model_validate({**old.model_dump(), **values})
            except ValidationError as e:
                raise InvalidInput(explain(e)) from None
            changed = {k: getattr(new, k) for k in values if getattr(old, k) != getattr(new, k)}
            if not changed:
                return old
            return tx.set_runtime_config(
                changed,
                audit=AuditEvent(
                    AuditEventType.CONFIG_CHANGED,
                    user.name,
                    None,
                    {
                        "source": "admin",
                        "changed": {k: [getattr(old, k), v] for k, v in changed.items()},
                        "config": new.model_dump(),
                    },
                ),
            )

    # -- the service itself -----------------------------------------------------------------
    def anchor_audit_head(self) -> int:
        """Checkpoint the audit log's head at start, so that entries a crash (or a version
        before checkpoints) left without one are vouched for; returns its number."""
        with self.dal.read() as r:
            seq, head = r.audit_head()
        self.checkpoints.append_head(seq, head)
        return seq

    def record_startup_config(self) -> None:
        """Audit the effective configuration when it differs from the last one recorded
        (a changed site config file is a config change too)."""
        with self.dal.write() as tx:
            effective = tx.runtime_config().model_dump()
            last = tx.last_audit(AuditEventType.CONFIG_CHANGED.value)
            if last is None or last.details.get("config") != effective:
                tx.append_audit(
                    AuditEvent(
                        AuditEventType.CONFIG_CHANGED,
                        SYSTEM.name,
                        None,
                        {"source": "site config", "config": effective},
                    )
                )

    def recover(self) -> list[str]:
        """Make the database and the outbox agree after a crash; returns what was done.

        Removes half-written bundle directories; finishes the release of every approved
        request (adopting its bundle if the rename happened before the crash), or sends it back
        to review if it has fewer approvals than are now required; reports a released request
        whose bundle is missing. A request that fails is logged and left (release_failed, or
        as it was), and recovery goes on with the others: it never stops the service. Failed
        releases are not retried here: they wait for a reviewer.
        """
        done = [f"removed {p.name}" for p in bundles.remove_incomplete(self.settings.outbox_dir)]
        with self.dal.read() as r:
            approved = r.list_requests(statuses=[S.APPROVED])
            released = r.list_requests(statuses=[S.RELEASED])
        for request in approved:
            try:
                result = self.release(SYSTEM, request.id)
            except ReturnedToReview:
                needed = policies.approvals_needed(self.config().approvals_required)
                done.append(
                    f"returned {request.id} to review: {len(request.approvers)} approvals, "
                    f"{needed} needed"
                )
                continue
            except Exception as e:  # the database itself failing: the next start tries again
                log.exception("recovery could not finish the release of %s", request.id)
                done.append(f"could not finish the release of {request.id}: {e!r}")
                continue
            if result.status == S.RELEASE_FAILED:
                done.append(f"the release of {request.id} failed: {result.release_error}")
            else:
                done.append(f"released {request.id}")
        for request in released:
            if not (self.settings.outbox_dir / (request.bundle_name or "")).is_dir():
                log.error("released request %s has no bundle in the outbox", request.id)
                done.append(f"missing bundle of {request.id}")
        return done
