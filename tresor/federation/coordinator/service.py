"""The coordinator's verbs: researchers make requests and take results; node agents poll and
send bundles; the merge runs when every node has answered.

Every change is written with its event in one transaction (:class:`Store`). The coordinator
never opens a connection to a node: it answers polls and receives uploads, and what a node
sends counts only after verification against the registry (:mod:`tresor.federation.verify`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import secrets
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy.exc
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, selectinload

from tresor.core.bundles import BundleError, VerifiedBundle, unpack_bundle
from tresor.core.errors import TresorError
from tresor.federation import analysis_registry
from tresor.federation.coordinator.config import CoordinatorSettings
from tresor.federation.coordinator.db import is_current, make_engine
from tresor.federation.coordinator.models import (
    AccountRow,
    EventRow,
    NonceRow,
    RequestRow,
    TargetRow,
)
from tresor.federation.coordinator.states import (
    ANSWERED,
    REPORTABLE,
    InvalidTransition,
    RequestState,
    TargetStatus,
    check_transition,
)
from tresor.federation.crate import FederatedRequest, SignedCrate, Target, sign_request
from tresor.federation.refusal import (
    Refusal,
    RefusalNotAccepted,
    SignedRefusal,
    verify_refusal,
)
from tresor.federation.registry import Registry, load_registry
from tresor.federation.signing import (
    SignatureError,
    SignedCall,
    fingerprint,
    load_private_key,
    verify_call,
)
from tresor.federation.verify import BundleRefused, verify_federated_bundle

log = logging.getLogger(__name__)


# -- errors: the API maps each to one status --------------------------------------------------
class CoordinatorError(TresorError):
    status = 400


class NotAuthenticated(CoordinatorError):
    status = 401


class Forbidden(CoordinatorError):
    status = 403


class NotFound(CoordinatorError):
    status = 404


class Conflict(CoordinatorError):
    status = 409


class Invalid(CoordinatorError):
    status = 422


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- what the coordinator returns --------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Account:
    name: str
    projects: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class TargetView:
    node: str
    dataset: str
    status: str
    reason: str
    updated_at: dt.datetime
    manifest_sha256: str | None


@dataclasses.dataclass(frozen=True)
class RequestView:
    id: str
    created_at: dt.datetime
    requester: str
    project: str
    analysis: str
    analysis_version: str
    parameters: dict[str, Any]
    crate_sha256: str
    state: str
    message: str
    merged_at: dt.datetime | None
    targets: tuple[TargetView, ...]


@dataclasses.dataclass(frozen=True)
class StatusReport:
    """What an agent says with a poll about one request."""

    request_id: str
    status: TargetStatus
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class Pending:
    """A request a node has not answered yet, with its signed crate."""

    request_id: str
    status: str
    crate: SignedCrate


def _view(row: RequestRow) -> RequestView:
    return RequestView(
        id=row.id,
        created_at=row.created_at,
        requester=row.requester,
        project=row.project,
        analysis=row.analysis,
        analysis_version=row.analysis_version,
        parameters=json.loads(row.parameters),
        crate_sha256=row.crate_sha256,
        state=row.state,
        message=row.message,
        merged_at=row.merged_at,
        targets=tuple(
            TargetView(t.node, t.dataset, t.status, t.reason, t.updated_at, t.manifest_sha256)
            for t in row.targets
        ),
    )


def _crate(row: RequestRow) -> SignedCrate:
    return SignedCrate(data=row.crate.encode(), signature=row.signature, signed_by=row.signed_by)


# -- storage ----------------------------------------------------------------------------------
class Store:
    """Transactions; each change comes with its event (``event``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def request_row(self, session: Session, request_id: str, *, lock: bool = False) -> RequestRow:
        query = (
            select(RequestRow)
            .where(RequestRow.id == request_id)
            .options(selectinload(RequestRow.targets))
        )
        if lock and self._postgres:
            query = query.with_for_update()
        row = session.scalars(query).first()
        if row is None:
            raise NotFound(f"there is no federated request {request_id!r}")
        return row

    @staticmethod
    def event(
        session: Session,
        kind: str,
        actor: str,
        *,
        request_id: str | None = None,
        node: str | None = None,
        **details: Any,
    ) -> None:
        session.add(
            EventRow(
                at=utcnow(),
                kind=kind,
                actor=actor,
                request_id=request_id,
                node=node,
                details=json.dumps(details, sort_keys=True, default=str),
            )
        )


class Coordinator:
    """The service. One instance per process; safe to share between threads."""

    def __init__(
        self,
        settings: CoordinatorSettings,
        *,
        registry: Registry | None = None,
        engine: Engine | None = None,
        run_later: Callable[[Callable[[], None]], Any] | None = None,
    ) -> None:
        """``run_later`` runs merges (the service: one background thread, so an upload is
        answered at once and merges never overlap); by default they run at once."""
        self.settings = settings
        self.run_later = run_later or (lambda work: work())
        self.registry = registry or load_registry(settings.registry_path)
        self.key = load_private_key(settings.signing_key_path)
        mine = fingerprint(self.key)
        if not any(k.fingerprint == mine for k in self.registry.coordinator_keys_at(utcnow())):
            raise TresorError(
                f"the coordinator's key {settings.signing_key_path} is not a coordinator key of "
                f"the registry valid now; add its public key (tresor federation keys public "
                f"{settings.signing_key_path}) to [coordinator] keys"
            )
        self.engine = engine or make_engine(settings.url)
        if not is_current(self.engine):
            raise TresorError(
                "the coordinator database is not at the newest schema; `tresor federation "
                "serve` upgrades it at start (or: tresor federation migrate)"
            )
        self.store = Store(self.engine)
        for directory in (settings.bundles_dir, settings.incoming_dir, settings.results_dir):
            directory.mkdir(parents=True, exist_ok=True)

    # -- researchers' accounts ----------------------------------------------------------------
    def add_account(self, name: str, projects: list[str]) -> str:
        """A researcher account with the coordinator projects it may request for; returns its
        token, shown once (only its SHA-256 is stored)."""
        token = secrets.token_urlsafe(32)
        try:
            with self.store.transaction() as s:
                s.add(
                    AccountRow(
                        name=name,
                        token_sha256=token_hash(token),
                        projects=json.dumps(sorted(set(projects))),
                        created_at=utcnow(),
                    )
                )
                s.flush()
                self.store.event(s, "account_added", "admin", account=name, projects=projects)
        except sqlalchemy.exc.IntegrityError:
            raise Conflict(f"account {name!r} exists already") from None
        return token

    def authenticate(self, token: str | None) -> Account:
        if not token:
            raise NotAuthenticated("no token: send Authorization: Bearer <your coordinator token>")
        with self.store.transaction() as s:
            row = s.scalars(
                select(AccountRow).where(AccountRow.token_sha256 == token_hash(token))
            ).first()
        if row is None:
            raise NotAuthenticated("the coordinator does not know this token")
        return Account(row.name, tuple(json.loads(row.projects)))

    # -- requests -------------------------------------------------------------------------------
    def create_request(
        self,
        account: Account,
        *,
        project: str,
        analysis: str,
        parameters: Mapping[str, Any],
        targets: list[Target],
    ) -> RequestView:
        """Check, write as a signed Five Safes crate, and queue for every target node."""
        if project not in account.projects:
            raise Forbidden(
                f"{account.name} may request for projects {', '.join(account.projects) or 'none'}"
                f", not {project!r}"
            )
        try:
            registered = analysis_registry.get(analysis)
            params = analysis_registry.check_parameters(registered, dict(parameters))
        except analysis_registry.UnknownAnalysis as e:
            raise Invalid(str(e)) from None
        for target in targets:
            if target.node not in self.registry.nodes:
                raise Invalid(
                    f"node {target.node!r} is not a member of federation "
                    f"{self.registry.federation} ({', '.join(sorted(self.registry.nodes))})"
                )
        try:
            request = FederatedRequest(
                request_id=uuid.uuid4().hex,
                federation=self.registry.federation,
                coordinator_url=self.registry.coordinator.url,
                created_at=utcnow(),
                requester=account.name,
                project=project,
                analysis=analysis,
                analysis_version=str(registered.version),
                parameters=params,
                targets=tuple(sorted(targets)),
            )
        except TresorError as e:
            raise Invalid(str(e)) from None
        signed = sign_request(request, self.key)
        with self.store.transaction() as s:
            s.add(
                RequestRow(
                    id=request.request_id,
                    created_at=request.created_at,
                    requester=account.name,
                    project=project,
                    analysis=analysis,
                    analysis_version=request.analysis_version,
                    parameters=json.dumps(params, sort_keys=True),
                    crate=signed.data.decode(),
                    crate_sha256=signed.sha256,
                    signature=signed.signature,
                    signed_by=signed.signed_by,
                    state=RequestState.OPEN,
                    message="",
                )
            )
            for target in request.targets:
                s.add(
                    TargetRow(
                        request_id=request.request_id,
                        node=target.node,
                        dataset=target.dataset,
                        status=TargetStatus.WAITING,
                        reason="",
                        updated_at=request.created_at,
                    )
                )
            self.store.event(
                s,
                "request_created",
                account.name,
                request_id=request.request_id,
                crate_sha256=signed.sha256,
                analysis=analysis,
                targets=[dataclasses.asdict(t) for t in request.targets],
            )
        return self.get_request(account, request.request_id)

    def _request(self, request_id: str) -> RequestRow:
        with self.store.transaction() as s:
            return self.store.request_row(s, request_id)

    def get_request(self, account: Account, request_id: str) -> RequestView:
        row = self._request(request_id)
        if row.requester != account.name:
            raise Forbidden(f"request {request_id} belongs to {row.requester}")
        return _view(row)

    def list_requests(self, account: Account) -> list[RequestView]:
        with self.store.transaction() as s:
            rows = s.scalars(
                select(RequestRow)
                .where(RequestRow.requester == account.name)
                .options(selectinload(RequestRow.targets))
                .order_by(RequestRow.created_at.desc())
            ).all()
        return [_view(r) for r in rows]

    def signed_crate(self, request_id: str, account: Account | None = None) -> SignedCrate:
        """The request's signed crate (for a node that takes requests as files)."""
        row = self._request(request_id)
        if account is not None and row.requester != account.name:
            raise Forbidden(f"request {request_id} belongs to {row.requester}")
        return _crate(row)

    def result_dir(self, account: Account, request_id: str) -> Path:
        row = self._request(request_id)
        if row.requester != account.name:
            raise Forbidden(f"request {request_id} belongs to {row.requester}")
        if row.state != RequestState.MERGED:
            waiting = [t.node for t in row.targets if t.status not in ANSWERED]
            raise Conflict(
                f"request {request_id} is {row.state}"
                + (f"; waiting for {', '.join(waiting)}" if waiting else "")
                + (f": {row.message}" if row.message else "")
            )
        return self.settings.results_dir / request_id

    # -- nodes ----------------------------------------------------------------------------------
    def authenticate_call(
        self, headers: Mapping[str, str], method: str, path: str, body: bytes
    ) -> SignedCall:
        """A node's signed call: verified against the registry's agent keys, its nonce used
        once. Raises NotAuthenticated saying why."""
        try:
            call = verify_call(
                headers,
                method,
                path,
                body,
                keys_for=self.registry.agent_public_keys,
                max_skew=self.settings.max_skew,
            )
        except SignatureError as e:
            raise NotAuthenticated(str(e)) from None
        seen = dt.datetime.fromtimestamp(call.timestamp, dt.UTC)
        try:
            with self.store.transaction() as s:
                horizon = utcnow() - dt.timedelta(seconds=2 * self.settings.max_skew)
                s.execute(delete(NonceRow).where(NonceRow.seen_at < horizon))
                s.add(NonceRow(node=call.node, nonce=call.nonce, seen_at=seen))
        except sqlalchemy.exc.IntegrityError:
            raise NotAuthenticated(
                f"nonce {call.nonce} of node {call.node} was used before: a replayed call is "
                "refused"
            ) from None
        return call

    def poll(self, node: str, reports: list[StatusReport]) -> tuple[list[Pending], list[str]]:
        """Record the node's status reports; return its unanswered requests and what was
        ignored (with why)."""
        ignored = []
        for report in reports:
            try:
                self._report(node, report)
            except CoordinatorError as e:
                ignored.append(f"{report.request_id}: {e}")
        with self.store.transaction() as s:
            rows = s.execute(
                select(TargetRow, RequestRow)
                .join(RequestRow, RequestRow.id == TargetRow.request_id)
                .where(TargetRow.node == node, RequestRow.state == RequestState.OPEN)
                .order_by(RequestRow.created_at)
            ).all()
        pending = [
            Pending(t.request_id, t.status, _crate(r)) for t, r in rows if t.status not in ANSWERED
        ]
        return pending, ignored

    def _target(self, row: RequestRow, node: str) -> TargetRow:
        target = next((t for t in row.targets if t.node == node), None)
        if target is None:
            raise NotFound(f"request {row.id} does not ask node {node}")
        return target

    def _report(
        self, node: str, report: StatusReport, *, actor: str = "", kind: str = "status_reported"
    ) -> None:
        if report.status not in REPORTABLE:
            raise Invalid(
                f"a node reports {', '.join(sorted(REPORTABLE))}; {report.status} comes only with "
                "a verified bundle"
            )
        refused = False
        with self.store.transaction() as s:
            row = self.store.request_row(s, report.request_id, lock=True)
            target = self._target(row, node)
            if target.status == report.status:
                return
            try:
                check_transition(TargetStatus(target.status), report.status)
            except InvalidTransition as e:
                raise Conflict(str(e)) from None
            target.status, target.reason, target.updated_at = (
                report.status,
                report.reason[:2000],
                utcnow(),
            )
            self.store.event(
                s,
                kind,
                actor or f"node:{node}",
                request_id=row.id,
                node=node,
                status=report.status,
                reason=report.reason[:2000],
            )
            refused = report.status == TargetStatus.REFUSED
        if refused:
            self.run_later(lambda: self.merge_if_complete(report.request_id))

    def receive_bundle(
        self, request_id: str, archive: bytes, *, poster: str | None, actor: str
    ) -> VerifiedBundle:
        """Unpack, verify against the registry and the request, keep; the node's part is then
        released. ``poster``: the node whose agent sent it (None: imported from a file).
        Raises BundleRefused (recorded as an event) or Conflict."""
        row = self._request(request_id)
        incoming = self.settings.incoming_dir / secrets.token_hex(8)
        try:
            try:
                path = unpack_bundle(archive, incoming)
            except BundleError as e:
                raise BundleRefused("format", str(e)) from None
            verified = verify_federated_bundle(
                path,
                self.registry,
                request_id=row.id,
                crate_sha256=row.crate_sha256,
                not_before=row.created_at,
                poster=poster,
            )
            target = next((t for t in row.targets if t.node == verified.node), None)
            if target is None:  # the registry names the node, the request does not ask it
                raise BundleRefused(
                    "not asked", f"request {request_id} does not ask node {verified.node}"
                )
            if target.status == TargetStatus.RELEASED:
                raise Conflict(f"node {verified.node} has already answered request {request_id}")
            if target.status == TargetStatus.REFUSED:
                raise Conflict(
                    f"node {verified.node} refused request {request_id}; it cannot answer now"
                )
            name = f"{verified.node}-{verified.manifest_sha256[:16]}"
            kept = self.settings.bundles_dir / request_id / name
            kept.parent.mkdir(parents=True, exist_ok=True)
            if not kept.exists():  # the same bundle twice is the same directory
                path.rename(kept)
            verified = dataclasses.replace(verified, directory=kept)
            with self.store.transaction() as s:
                locked = self.store.request_row(s, request_id, lock=True)
                target = self._target(locked, verified.node)
                try:
                    check_transition(TargetStatus(target.status), TargetStatus.RELEASED)
                except InvalidTransition as e:
                    raise Conflict(str(e)) from None
                target.status, target.updated_at = TargetStatus.RELEASED, utcnow()
                target.bundle = str(kept.relative_to(self.settings.data_dir))
                target.manifest_sha256 = verified.manifest_sha256
                self.store.event(
                    s,
                    "bundle_received",
                    actor,
                    request_id=request_id,
                    node=verified.node,
                    manifest_sha256=verified.manifest_sha256,
                    reviewers=sorted({r["reviewer"] for r in verified.manifest["reviews"]}),
                )
        except BundleRefused as e:
            with self.store.transaction() as s:
                self.store.event(
                    s,
                    "bundle_refused",
                    actor,
                    request_id=request_id,
                    node=poster,
                    check=e.check,
                    message=str(e),
                )
            raise
        finally:
            shutil.rmtree(incoming, ignore_errors=True)
        self.run_later(lambda: self.merge_if_complete(request_id))
        return verified

    def receive_refusal(self, request_id: str, document: bytes, *, actor: str) -> Refusal:
        """Import a refusal an offline node's agent signed (``<request>.refused.json``): verified
        against the registry and the request, the node's part is then refused. Raises
        RefusalNotAccepted (recorded as an event) or Conflict."""
        row = self._request(request_id)
        try:
            refusal = verify_refusal(
                SignedRefusal.from_bytes(document),
                self.registry,
                request_id=row.id,
                crate_sha256=row.crate_sha256,
                not_before=row.created_at,
            )
            target = next((t for t in row.targets if t.node == refusal.node), None)
            if target is None:
                raise RefusalNotAccepted(
                    "not asked", f"request {request_id} does not ask node {refusal.node}"
                )
        except RefusalNotAccepted as e:
            with self.store.transaction() as s:
                self.store.event(s, "refusal_not_accepted", actor, request_id=request_id,
                                 check=e.check, message=str(e))  # fmt: skip
            raise
        if target.status == TargetStatus.RELEASED:
            raise Conflict(f"node {refusal.node} has already answered request {request_id}")
        self._report(
            refusal.node,
            StatusReport(request_id, TargetStatus.REFUSED, refusal.reason),
            actor=actor,
            kind="refusal_imported",
        )
        return refusal

    # -- the merge ----------------------------------------------------------------------------
    def merge_if_complete(self, request_id: str) -> None:
        """Merge the released bundles once every node has answered (released or refused)."""
        with self.store.transaction() as s:
            row = self.store.request_row(s, request_id, lock=True)
            if row.state != RequestState.OPEN or any(t.status not in ANSWERED for t in row.targets):
                return
            released = [t for t in row.targets if t.status == TargetStatus.RELEASED]
            if not released:
                row.state = RequestState.FAILED
                row.message = "every node refused: " + "; ".join(
                    f"{t.node}: {t.reason or 'no reason given'}" for t in row.targets
                )
                self.store.event(s, "request_failed", "coordinator", request_id=request_id)
                return
            row.state = RequestState.MERGING
            self.store.event(
                s,
                "merge_started",
                "coordinator",
                request_id=request_id,
                nodes=[t.node for t in released],
            )
        self._merge(request_id)

    def _merge(self, request_id: str) -> None:
        row = self._request(request_id)
        out = self.settings.results_dir / request_id
        tmp = self.settings.results_dir / f".tmp-{request_id}-{secrets.token_hex(4)}"
        try:
            bundles = [
                verify_federated_bundle(
                    self.settings.data_dir / t.bundle,
                    self.registry,
                    request_id=row.id,
                    crate_sha256=row.crate_sha256,
                    not_before=row.created_at,
                    now=t.updated_at,
                )
                for t in row.targets
                if t.status == TargetStatus.RELEASED
            ]
            from tresor.federation import merge

            tmp.mkdir(parents=True)
            merge.merge(bundles, tmp, request_id=row.id, crate_sha256=row.crate_sha256)
            refused = [t.node for t in row.targets if t.status == TargetStatus.REFUSED]
            if out.exists():
                shutil.rmtree(out)
            tmp.rename(out)
            state, message = (
                RequestState.MERGED,
                (
                    f"merged {len(bundles)} bundles"
                    + (f"; refused by {', '.join(refused)}" if refused else "")
                ),
            )
        except Exception as e:  # the request records why; the researcher sees it
            log.exception("merge of request %s failed", request_id)
            shutil.rmtree(tmp, ignore_errors=True)
            state, message = RequestState.FAILED, f"the merge failed: {e}"
        with self.store.transaction() as s:
            locked = self.store.request_row(s, request_id, lock=True)
            locked.state, locked.message = state, message
            locked.merged_at = utcnow() if state == RequestState.MERGED else None
            self.store.event(
                s, f"request_{state}", "coordinator", request_id=request_id, message=message
            )

    def recover(self) -> list[str]:
        """At start: finish merges a crash interrupted, and merges whose last answer came
        just before it."""
        with self.store.transaction() as s:
            ids = s.scalars(
                select(RequestRow.id).where(
                    RequestRow.state.in_([RequestState.OPEN, RequestState.MERGING])
                )
            ).all()
        done = []
        for request_id in ids:
            row = self._request(request_id)
            if row.state == RequestState.MERGING:
                self._merge(request_id)
                done.append(f"merged {request_id} again")
            else:
                self.merge_if_complete(request_id)
        return done

    # -- discovery: released summaries for the portal and Beacon --------------------------
    def released_outputs(self, analysis: str) -> list[tuple[str, str, Path, dt.datetime, str]]:
        """Every verified, released bundle of ``analysis``: (node, dataset, the directory of
        its outputs, when it was received, its manifest SHA-256). Read from what nodes sent;
        the coordinator asks no node for anything."""
        with self.store.transaction() as s:
            rows = s.execute(
                select(TargetRow, RequestRow.analysis)
                .join(RequestRow, RequestRow.id == TargetRow.request_id)
                .where(RequestRow.analysis == analysis, TargetRow.status == TargetStatus.RELEASED)
                .order_by(TargetRow.updated_at)
            ).all()
        out = []
        for target, _ in rows:
            if not target.bundle or not target.manifest_sha256:
                continue
            files = self.settings.data_dir / target.bundle / "files"
            for manifest in sorted(files.rglob("manifest.json")):
                try:
                    if json.loads(manifest.read_text()).get("analysis") == analysis:
                        out.append((target.node, target.dataset, manifest.parent,
                                    target.updated_at, target.manifest_sha256))  # fmt: skip
                        break
                except (OSError, ValueError):
                    continue
        return out

    def close(self) -> None:
        self.engine.dispose()
