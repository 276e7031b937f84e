"""The only way the workflow reaches the database: every change comes with its audit entry.

``DataAccess.write(request_id)`` opens one transaction that first locks the request (PostgreSQL:
``SELECT ... FOR UPDATE``; SQLite: ``BEGIN IMMEDIATE``, the whole database), so the workflow's
read-check-write on a request is never interleaved with another's. Each mutating method of
:class:`Writer` takes an :class:`~airlock.domain.AuditEvent` and appends it to the hash chain in
the same transaction: a change without its audit entry (or the reverse) is never committed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

import sqlalchemy.exc
from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session, selectinload

from airlock.audit import ChainReport, canonical_json, entry_hash, verify_chain
from airlock.db.engine import WRITE_OPTION
from airlock.db.models import (
    AuditHeadRow,
    AuditRow,
    CommentRow,
    ConfigRow,
    FileRow,
    ReleasedTableDatasetRow,
    ReleasedTableRow,
    RequestRow,
    ReviewRow,
)
from airlock.domain import (
    AuditEntry,
    AuditEvent,
    Comment,
    FederationBinding,
    ReleaseRequest,
    RequestFile,
    Review,
    utcnow,
)
from airlock.enums import Decision, RequestStatus
from airlock.exceptions import ConcurrentChange, FileNotFoundInRequest, RequestNotFound
from tresor.core.airlock_config import AirlockConfig


def _audit_time() -> str:
    return utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_JSON_FIELDS = ("report", "reviewer_findings", "tables")


def _file(row: FileRow) -> RequestFile:
    fields = {f.name: getattr(row, f.name) for f in dataclasses.fields(RequestFile)}
    return RequestFile(
        **{
            **fields,
            "report": json.loads(row.report),
            "reviewer_findings": tuple(json.loads(row.reviewer_findings)),
            "tables": tuple(json.loads(row.tables)),
        }
    )


def _json_columns(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with the JSON columns of a request file serialised."""
    return {k: canonical_json(v) if k in _JSON_FIELDS else v for k, v in fields.items()}


def _request(row: RequestRow) -> ReleaseRequest:
    return ReleaseRequest(
        id=row.id,
        project=row.project,
        requester=row.requester,
        status=RequestStatus(row.status),
        round=row.round,
        created_at=row.created_at,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
        released_at=row.released_at,
        bundle_name=row.bundle_name,
        release_error=row.release_error,
        files=tuple(_file(f) for f in row.files),
        reviews=tuple(
            Review(
                reviewer=r.reviewer,
                round=r.round,
                decision=Decision(r.decision),
                reason=r.reason,
                acknowledged_files=tuple(json.loads(r.acknowledged)),
                created_at=r.created_at,
            )
            for r in row.reviews
        ),
        comments=tuple(
            Comment(
                id=c.id,
                file_id=c.file_id,
                author=c.author,
                round=c.round,
                body=c.body,
                created_at=c.created_at,
            )
            for c in row.comments
        ),
        federation=(
            FederationBinding(row.federation_request_id, row.federation_crate_sha256)
            if row.federation_request_id and row.federation_crate_sha256
            else None
        ),
    )


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        time=row.time,
        type=row.type,
        actor=row.actor,
        request_id=row.request_id,
        details=json.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


@dataclasses.dataclass(frozen=True)
class LedgerRow:
    """A table that new ones are compared with: released, or in a request under review."""

    request_id: str
    project: str
    file_name: str
    record: dict[str, Any]  # TableRecord.to_dict()
    status: RequestStatus
    released_at: dt.datetime | None = None


#: requests whose tables count for differencing before they are released
PENDING = (RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW, RequestStatus.APPROVED)

_LOAD = (
    selectinload(RequestRow.files),
    selectinload(RequestRow.reviews),
    selectinload(RequestRow.comments),
)


class Reader:
    """Queries inside one transaction."""

    def __init__(self, session: Session, defaults: AirlockConfig) -> None:
        self.session = session
        self.defaults = defaults

    def _request_row(self, request_id: str) -> RequestRow:
        row = self.session.get(RequestRow, request_id, options=_LOAD, populate_existing=True)
        if row is None:
            raise RequestNotFound(f"there is no request {request_id!r}")
        return row

    def get_request(self, request_id: str) -> ReleaseRequest:
        return _request(self._request_row(request_id))

    def list_requests(
        self,
        *,
        requester: str | None = None,
        statuses: Collection[RequestStatus] | None = None,
        submitted_only: bool = False,
    ) -> list[ReleaseRequest]:
        """Requests, newest first, optionally of one requester or in some statuses."""
        query = select(RequestRow).options(*_LOAD).order_by(RequestRow.created_at.desc())
        if requester is not None:
            query = query.where(RequestRow.requester == requester)
        if statuses is not None:
            query = query.where(RequestRow.status.in_([s.value for s in statuses]))
        if submitted_only:
            query = query.where(RequestRow.round > 0)
        return [_request(r) for r in self.session.scalars(query)]

    def count_requests(self, statuses: Collection[RequestStatus]) -> int:
        query = select(func.count()).where(RequestRow.status.in_([s.value for s in statuses]))
        return self.session.scalar(query.select_from(RequestRow)) or 0

    def audit_entries(
        self, *, after: int = 0, limit: int | None = None, request_id: str | None = None
    ) -> list[AuditEntry]:
        query = select(AuditRow).where(AuditRow.seq > after).order_by(AuditRow.seq)
        if request_id is not None:
            query = query.where(AuditRow.request_id == request_id)
        if limit is not None:
            query = query.limit(limit)
        return [_entry(r) for r in self.session.scalars(query)]

    def audit_head(self) -> tuple[int, str]:
        head = self.session.get(AuditHeadRow, 1)
        if head is None:
            raise RuntimeError("the audit log has no head row: was the database migrated?")
        return head.seq, head.hash

    def verify_audit_chain(self) -> ChainReport:
        """The audit log's hash chain recomputed, up to the head row (airlock.audit)."""
        seq, head = self.audit_head()
        return verify_chain(self.audit_entries(), head_seq=seq, head_hash=head)

    def audit_of_type(self, type: str) -> list[AuditEntry]:
        """Every entry of one type, in order."""
        query = select(AuditRow).where(AuditRow.type == type).order_by(AuditRow.seq)
        return [_entry(r) for r in self.session.scalars(query)]

    def last_audit(self, type: str) -> AuditEntry | None:
        row = self.session.scalars(
            select(AuditRow).where(AuditRow.type == type).order_by(AuditRow.seq.desc()).limit(1)
        ).first()
        return _entry(row) if row else None

    def ledger(
        self, *, project: str, datasets: Collection[str], projects: Collection[str], request_id: str
    ) -> list[LedgerRow]:
        """The tables relevant to a request of ``project``: released by it, or while their
        project was granted one of ``datasets``; in requests under review of ``projects``
        (those sharing a dataset with it); and the other files of request ``request_id``."""
        shared = select(ReleasedTableDatasetRow.table_id).where(
            ReleasedTableDatasetRow.dataset.in_(list(datasets))
        )
        released = self.session.scalars(
            select(ReleasedTableRow)
            .where(or_(ReleasedTableRow.project == project, ReleasedTableRow.id.in_(shared)))
            .order_by(ReleasedTableRow.id)
        )
        rows = [
            LedgerRow(
                request_id=r.request_id,
                project=r.project,
                file_name=r.file_name,
                record=json.loads(r.record),
                status=RequestStatus.RELEASED,
                released_at=r.released_at,
            )
            for r in released
        ]
        pending = self.session.execute(
            select(
                FileRow.name, FileRow.tables, RequestRow.id, RequestRow.project, RequestRow.status
            )
            .join(RequestRow, FileRow.request_id == RequestRow.id)
            .where(FileRow.tables != "[]")
            .where(
                or_(
                    RequestRow.id == request_id,
                    RequestRow.status.in_([s.value for s in PENDING])
                    & RequestRow.project.in_([project, *projects]),
                )
            )
            .order_by(FileRow.id)
        )
        for name, tables, rid, rproject, status in pending:
            rows.extend(
                LedgerRow(rid, rproject, name, record, RequestStatus(status))
                for record in json.loads(tables)
            )
        return rows

    def runtime_config(self) -> AirlockConfig:
        stored = {r.key: json.loads(r.value) for r in self.session.scalars(select(ConfigRow))}
        known = {k: v for k, v in stored.items() if k in AirlockConfig.ADMIN_SETTINGS}
        return self.defaults.model_copy(update=known)


class Writer(Reader):
    """Changes inside one transaction; each takes the audit event that explains it."""

    def __init__(self, session: Session, defaults: AirlockConfig) -> None:
        super().__init__(session, defaults)
        #: the audit entries this transaction appended, in order
        self.appended: list[AuditEntry] = []

    def append_audit(self, event: AuditEvent) -> AuditEntry:
        """Append ``event`` to the chain (locks the head row until commit)."""
        head = self.session.execute(
            select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()
        ).scalar_one()
        details = canonical_json(event.details)
        fields: dict[str, Any] = {
            "seq": head.seq + 1,
            "time": _audit_time(),
            "type": event.type.value,
            "actor": event.actor,
            "request_id": event.request_id,
            "details": details,
            "prev_hash": head.hash,
        }
        row = AuditRow(**fields, hash=entry_hash(**fields))
        self.session.add(row)
        head.seq, head.hash = row.seq, row.hash
        self.session.flush()
        self.appended.append(_entry(row))
        return self.appended[-1]

    def create_request(
        self,
        *,
        request_id: str,
        project: str,
        requester: str,
        audit: AuditEvent,
        federation: FederationBinding | None = None,
    ) -> ReleaseRequest:
        now = utcnow()
        self.session.add(
            RequestRow(
                id=request_id,
                project=project,
                requester=requester,
                status=RequestStatus.DRAFT.value,
                round=0,
                created_at=now,
                updated_at=now,
                federation_request_id=federation.request_id if federation else None,
                federation_crate_sha256=federation.crate_sha256 if federation else None,
            )
        )
        self.session.flush()
        self.append_audit(audit)
        return self.get_request(request_id)

    def _touch(self, request_id: str) -> RequestRow:
        row = self._request_row(request_id)
        row.updated_at = utcnow()
        return row

    def set_status(
        self,
        request_id: str,
        status: RequestStatus,
        *,
        audit: AuditEvent,
        **fields: Any,
    ) -> None:
        """Set the status (the workflow has validated the transition) and other columns.
        ``release_error`` is kept only with the release_failed status."""
        row = self._touch(request_id)
        row.status = status.value
        row.release_error = None
        for key, value in fields.items():
            if key not in ("round", "submitted_at", "released_at", "bundle_name", "release_error"):
                raise ValueError(f"set_status cannot set {key}")
            setattr(row, key, value)
        if (row.release_error is None) != (status != RequestStatus.RELEASE_FAILED):
            raise ValueError("release_error goes with the release_failed status, and only there")
        self.session.flush()
        self.append_audit(audit)

    def set_release_error(self, request_id: str, error: str, *, audit: AuditEvent) -> None:
        """A failed release failed again: the newest reason replaces the last."""
        row = self._touch(request_id)
        if row.status != RequestStatus.RELEASE_FAILED.value:
            raise ValueError(f"request {request_id} is {row.status}, not release_failed")
        row.release_error = error
        self.session.flush()
        self.append_audit(audit)

    def add_file(self, request_id: str, *, audit: AuditEvent, **fields: Any) -> RequestFile:
        self._touch(request_id)
        now = utcnow()
        row = FileRow(request_id=request_id, added_at=now, updated_at=now, **_json_columns(fields))
        self.session.add(row)
        self.session.flush()
        self.append_audit(audit)
        return _file(row)

    def _file_row(self, request_id: str, file_id: int) -> FileRow:
        row = self.session.get(FileRow, file_id)
        if row is None or row.request_id != request_id:
            raise FileNotFoundInRequest(f"request {request_id} has no file {file_id}")
        return row

    def update_file(
        self, request_id: str, file_id: int, *, audit: AuditEvent, **fields: Any
    ) -> RequestFile:
        self._touch(request_id)
        row = self._file_row(request_id, file_id)
        for key, value in _json_columns(fields).items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        self.session.flush()
        self.append_audit(audit)
        return _file(row)

    def remove_file(self, request_id: str, file_id: int, *, audit: AuditEvent) -> None:
        row = self._touch(request_id)
        file_row = self._file_row(request_id, file_id)
        row.files.remove(file_row)
        self.session.flush()
        self.append_audit(audit)

    def add_review(
        self,
        request_id: str,
        *,
        reviewer: str,
        round: int,
        decision: Decision,
        reason: str,
        acknowledged: list[int],
        audit: AuditEvent,
    ) -> None:
        self._touch(request_id)
        self.session.add(
            ReviewRow(
                request_id=request_id,
                round=round,
                reviewer=reviewer,
                decision=decision.value,
                reason=reason,
                acknowledged=json.dumps(sorted(acknowledged)),
                created_at=utcnow(),
            )
        )
        try:
            self.session.flush()
        except sqlalchemy.exc.IntegrityError:
            raise ConcurrentChange(
                f"{reviewer} has already decided on request {request_id} in this round"
            ) from None
        self.append_audit(audit)

    def add_comment(
        self,
        request_id: str,
        *,
        file_id: int | None,
        author: str,
        round: int,
        body: str,
        audit: AuditEvent,
    ) -> None:
        self._touch(request_id)
        self.session.add(
            CommentRow(
                request_id=request_id,
                file_id=file_id,
                author=author,
                round=round,
                body=body,
                created_at=utcnow(),
            )
        )
        self.session.flush()
        self.append_audit(audit)

    def record_release(self, request: ReleaseRequest, *, datasets: Collection[str]) -> int:
        """Add the tables of ``request``'s files to the release ledger, with the datasets its
        project is granted now; returns how many. Part of the release's transaction, whose
        audit entry (the status change) covers it."""
        now = utcnow()
        count = 0
        for f in request.files:
            for table in f.tables:
                self.session.add(
                    ReleasedTableRow(
                        request_id=request.id,
                        project=request.project,
                        file_name=f.name,
                        sha256=f.sha256,
                        kind=table["kind"],
                        record=canonical_json(table),
                        released_at=now,
                        datasets=[
                            ReleasedTableDatasetRow(dataset=d) for d in sorted(set(datasets))
                        ],
                    )
                )
                count += 1
        self.session.flush()
        return count

    def set_runtime_config(self, values: dict[str, Any], *, audit: AuditEvent) -> AirlockConfig:
        for key, value in values.items():
            row = self.session.get(ConfigRow, key)
            if row is None:
                self.session.add(ConfigRow(key=key, value=json.dumps(value)))
            else:
                row.value = json.dumps(value)
        self.session.flush()
        self.append_audit(audit)
        return self.runtime_config()


class DataAccess:
    """Opens transactions. One instance per service (it holds the engine)."""

    def __init__(self, engine: Engine, defaults: AirlockConfig | None = None) -> None:
        self.engine = engine
        self.defaults = defaults or AirlockConfig()
        self._postgres = engine.dialect.name == "postgresql"
        #: called after each commit with the audit entries it appended (the airlock
        #: checkpoints them outside the database: airlock.anchors); must not raise
        self.anchor: Callable[[Sequence[AuditEntry]], None] | None = None

    @contextlib.contextmanager
    def read(self) -> Iterator[Reader]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield Reader(session, self.defaults)

    @contextlib.contextmanager
    def write(self, request_id: str | None = None) -> Iterator[Writer]:
        """A write transaction, holding the lock of ``request_id`` (if given) until it ends.

        Commits when the block ends normally, rolls back on any exception (so a refused action
        changes nothing). After the commit, the entries it appended go to :attr:`anchor`.
        """
        with self.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                if request_id is not None:
                    locked = session.execute(
                        select(RequestRow.id).where(RequestRow.id == request_id).with_for_update()
                    ).first()
                    if locked is None:
                        raise RequestNotFound(f"there is no request {request_id!r}")
                writer = Writer(session, self.defaults)
                yield writer
        if writer.appended and self.anchor is not None:
            self.anchor(writer.appended)
