"""The airlock's domain objects: frozen dataclasses, apart from the ORM rows (airlock.db.models).

The workflow reads these and never mutates them; changes go through the data access layer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
from collections.abc import Collection
from pathlib import PurePosixPath
from typing import Any

from airlock.enums import AuditEventType, Decision, RequestStatus, Role
from airlock.exceptions import InvalidInput

#: the longest text a user writes (a description, an exception, a reason, a comment)
MAX_TEXT = 10_000
#: the longest path a user gives in the workspace
MAX_PATH = 1024
#: the longest name of a file in a bundle (characters), and of each of its parts (UTF-8 bytes:
#: what file systems limit)
MAX_FILE_NAME = 255
MAX_NAME_PART_BYTES = 255
#: the longest reason kept for a failed release
MAX_RELEASE_ERROR = 2000
#: invisible characters that change how a name is displayed (bidirectional controls)
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def release_name(value: str) -> str:
    """A file's name in a bundle in its one stored spelling (Unicode NFC, parts joined by one
    ``/``, no ``.`` parts, no trailing ``/``), or :class:`InvalidInput` saying what is wrong.

    Whether it fits with the request's other names is a policy (``policies.check_can_name_file``).
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("the file name is empty")
    value = unicodedata.normalize("NFC", value)
    if any(unicodedata.category(c) in ("Cc", "Cs") or c in _BIDI_CONTROLS for c in value):
        raise InvalidInput(
            f"the file name {value!r} contains a control character (or an invisible character "
            "that changes how it is displayed); use printable characters only"
        )
    if "\\" in value:
        raise InvalidInput(
            f"the file name {value!r} contains a backslash; separate directories with /"
        )
    path = PurePosixPath(value)
    if path.is_absolute():
        raise InvalidInput(
            f"the file name {value!r} is absolute; name it inside the release, "
            "e.g. 'results/freq.csv'"
        )
    parts = [p for p in path.parts if p != "."]
    if not parts:
        raise InvalidInput(f"the file name {value!r} names no file")
    if ".." in parts:
        raise InvalidInput(
            f"the file name {value!r} contains '..'; a name stays inside the release"
        )
    if long := [p for p in parts if len(p.encode()) > MAX_NAME_PART_BYTES]:
        raise InvalidInput(
            f"the part {long[0][:40]!r}... of the file name is longer than {MAX_NAME_PART_BYTES} "
            "bytes (UTF-8), which file systems refuse; shorten it"
        )
    name = "/".join(parts)
    if len(name) > MAX_FILE_NAME:
        raise InvalidInput(
            f"the file name {name[:40]!r}... is longer than {MAX_FILE_NAME} characters; shorten it"
        )
    return name


def release_name_key(name: str) -> str:
    """What two names must differ in to be two files everywhere the bundle may be unpacked:
    letter case and Unicode spelling do not count (case-insensitive file systems)."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", name).casefold())


@dataclasses.dataclass(frozen=True)
class User:
    """A hub user as the airlock sees them: a name and hub groups."""

    name: str
    groups: frozenset[str] = frozenset()
    #: identified by the node's federation agent's hub service (airlock.api.deps), not a login
    federation_agent: bool = False

    @property
    def is_researcher(self) -> bool:
        return Role.RESEARCHER in self.groups

    @property
    def is_reviewer(self) -> bool:
        return Role.REVIEWER in self.groups

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.groups

    def projects(self, known: Collection[str]) -> tuple[str, ...]:
        """The user's project groups: hub groups that the site config declares as projects."""
        return tuple(sorted(g for g in self.groups if g in known))


#: the "user" that acts on its own: releases triggered by the last approval, startup recovery
SYSTEM = User("airlock-system")


@dataclasses.dataclass(frozen=True)
class RequestFile:
    """One output file in a request: the snapshot's hash and the requester's context."""

    id: int
    name: str  # relative POSIX path inside the bundle, e.g. "gwas/ldl.tsv"
    source_path: str  # where it was read in the requester's workspace (relative)
    description: str  # what it is
    disclosure_control: str  # how disclosure was controlled
    sha256: str
    size: int
    verdict: str  # airlock.checks.Verdict value
    report: dict[str, Any]  # airlock.checks.FileReport.to_dict()
    exception: str | None  # the requester's written exception for a blocked file
    added_at: dt.datetime
    updated_at: dt.datetime
    #: findings only reviewers see (Finding.to_dict()): never in what the requester gets
    reviewer_findings: tuple[dict[str, Any], ...] = ()
    #: the file's tables with counts of people (TableRecord.to_dict()), for the ledger
    tables: tuple[dict[str, Any], ...] = ()

    @property
    def is_blocked(self) -> bool:
        return self.verdict == "block"

    @property
    def blocked_for_reviewers(self) -> bool:
        """A reviewer-only finding blocks it: approving needs a reviewer's acknowledgement."""
        return any(f["verdict"] == "block" for f in self.reviewer_findings)


@dataclasses.dataclass(frozen=True)
class Review:
    """A reviewer's decision in one review round."""

    reviewer: str
    round: int
    decision: Decision
    reason: str
    acknowledged_files: tuple[int, ...]  # ids of blocked files whose exception was acknowledged
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class Comment:
    id: int
    file_id: int | None
    author: str
    round: int
    body: str
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class FederationBinding:
    """What a request answers when the node's federation agent made it: the coordinator's
    request id and the SHA-256 of its signed request crate. Shown to reviewers and written
    into the signed manifest, so a released bundle answers one federated request only."""

    request_id: str
    crate_sha256: str

    def to_dict(self) -> dict[str, str]:
        return {"request_id": self.request_id, "crate_sha256": self.crate_sha256}


@dataclasses.dataclass(frozen=True)
class ReleaseRequest:
    """A request to release files from a project, with everything said about it so far."""

    id: str
    project: str
    requester: str
    status: RequestStatus
    round: int  # review round: 1 at first submission, +1 at each resubmission
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    released_at: dt.datetime | None
    bundle_name: str | None
    files: tuple[RequestFile, ...] = ()
    reviews: tuple[Review, ...] = ()
    comments: tuple[Comment, ...] = ()
    federation: FederationBinding | None = None
    #: why the last release attempt failed, while the status is release_failed
    release_error: str | None = None

    def file(self, file_id: int) -> RequestFile | None:
        return next((f for f in self.files if f.id == file_id), None)

    def file_named(self, name: str) -> RequestFile | None:
        return next((f for f in self.files if f.name == name), None)

    @property
    def current_reviews(self) -> tuple[Review, ...]:
        return tuple(r for r in self.reviews if r.round == self.round)

    @property
    def approvals(self) -> tuple[Review, ...]:
        """This round's approvals, one per reviewer (the database enforces it too)."""
        return tuple(r for r in self.current_reviews if r.decision == Decision.APPROVE)

    @property
    def approvers(self) -> frozenset[str]:
        """Distinct reviewers who approved this round, never counting the requester."""
        return frozenset(r.reviewer for r in self.approvals if r.reviewer != self.requester)

    @property
    def blocked_files(self) -> tuple[RequestFile, ...]:
        return tuple(f for f in self.files if f.is_blocked)

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)


@dataclasses.dataclass(frozen=True)
class AuditEvent:
    """What happened, by whom, to which request: the part of an audit entry the code supplies."""

    type: AuditEventType
    actor: str
    request_id: str | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def for_request(
        cls, type: AuditEventType, user: User, request_id: str, **details: Any
    ) -> AuditEvent:
        return cls(type=type, actor=user.name, request_id=request_id, details=details)


@dataclasses.dataclass(frozen=True)
class AuditEntry:
    """A stored audit entry: the event, its place in the chain and its hash."""

    seq: int
    time: str  # ISO 8601 UTC, exactly as hashed
    type: str
    actor: str
    request_id: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str
