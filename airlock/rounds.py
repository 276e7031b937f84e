"""What changed since the previous review round, for a request that comes back.

The database keeps only each file's present snapshot; the audit log keeps, for every
submission, the SHA-256 of each file the checks read (``file_checked`` entries written with the
``request_submitted`` entry of that round), and the snapshot store keeps every snapshot by its
hash. Together they give each round's files and their bytes, without a schema change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from airlock.domain import AuditEntry, ReleaseRequest
from airlock.enums import AuditEventType


@dataclasses.dataclass(frozen=True)
class RoundChanges:
    """This round's files against round ``previous``'s, by name."""

    previous: int
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    #: round ``previous``'s files: name -> SHA-256
    before: dict[str, str]

    def of(self, name: str) -> str:
        """``added``, ``changed`` or ``unchanged``: what happened to this round's file ``name``."""
        return "added" if name in self.added else "changed" if name in self.changed else "unchanged"


def files_by_round(entries: Iterable[AuditEntry]) -> dict[int, dict[str, str]]:
    """Each submitted round's files (name -> SHA-256), from one request's audit entries."""
    rounds: dict[int, dict[str, str]] = {}
    pending: dict[str, str] = {}
    for e in entries:
        if e.type == AuditEventType.FILE_CHECKED:
            pending[e.details["file"]] = e.details["sha256"]
        elif e.type == AuditEventType.REQUEST_SUBMITTED and "round" in e.details:
            rounds[int(e.details["round"])] = pending
            pending = {}
    return rounds


def changes(request: ReleaseRequest, entries: Iterable[AuditEntry]) -> RoundChanges | None:
    """The request's files against the previous round's; None in its first round."""
    before = files_by_round(entries).get(request.round - 1)
    if before is None:
        return None
    now = {f.name: f.sha256 for f in request.files}
    return RoundChanges(
        previous=request.round - 1,
        added=tuple(sorted(n for n in now if n not in before)),
        removed=tuple(sorted(n for n in before if n not in now)),
        changed=tuple(sorted(n for n in now if n in before and before[n] != now[n])),
        unchanged=tuple(sorted(n for n in now if before.get(n) == now[n])),
        before=before,
    )
