"""The audit log's hash chain: each entry carries the hash of the one before it.

``entry_hash`` covers every stored field of an entry plus the previous hash, so editing any
field, deleting an entry or moving one breaks the chain at that point; ``verify_chain`` says
where. The database keeps the last entry in ``audit_head``, so a deleted tail is caught too.
Pure functions: no database here (airlock.db.data_access appends, the CLI verifies).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from airlock.domain import AuditEntry

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """The one JSON spelling of a value that is hashed and stored: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(
    *,
    seq: int,
    time: str,
    type: str,
    actor: str,
    request_id: str | None,
    details: str,
    prev_hash: str,
) -> str:
    """SHA-256 of an entry's fields (``details`` as its stored canonical JSON)."""
    payload = canonical_json(
        {
            "seq": seq,
            "time": time,
            "type": type,
            "actor": actor,
            "request_id": request_id,
            "details": details,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def hash_of(entry: AuditEntry) -> str:
    return entry_hash(
        seq=entry.seq,
        time=entry.time,
        type=entry.type,
        actor=entry.actor,
        request_id=entry.request_id,
        details=canonical_json(entry.details),
        prev_hash=entry.prev_hash,
    )


@dataclasses.dataclass(frozen=True)
class ChainReport:
    """Result of a verification: ``problems`` is empty when the chain is intact."""

    entries: int
    head: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(
    entries: Iterable[AuditEntry], *, head_seq: int | None = None, head_hash: str | None = None
) -> ChainReport:
    """Walk entries in ``seq`` order and report every break.

    ``head_seq``/``head_hash`` are the database's record of the last entry; when given, a chain
    that ends earlier (deleted tail) or elsewhere is reported.
    """
    problems: list[str] = []
    prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for entry in entries:
        count += 1
        if entry.seq != expected_seq:
            problems.append(
                f"entry {entry.seq}: expected entry {expected_seq} here; entries "
                f"{expected_seq}..{entry.seq - 1} are missing"
                if entry.seq > expected_seq
                else f"entry {entry.seq}: out of order after entry {expected_seq - 1}"
            )
        if entry.prev_hash != prev:
            problems.append(
                f"entry {entry.seq}: its previous-hash does not match the entry before it "
                "(an entry was deleted, inserted or moved here)"
            )
        recomputed = hash_of(entry)
        if recomputed != entry.hash:
            problems.append(
                f"entry {entry.seq} ({entry.type} by {entry.actor}): its contents do not match "
                "its hash (the entry was edited)"
            )
        prev = entry.hash
        expected_seq = entry.seq + 1
    last_seq = expected_seq - 1
    if head_hash is not None and (
        head_hash != prev or (head_seq is not None and head_seq != last_seq)
    ):
        problems.append(
            f"the log ends at entry {last_seq} but the database recorded entry "
            f"{head_seq} as the last one (entries were deleted from the end)"
        )
    return ChainReport(entries=count, head=prev, problems=tuple(problems))
