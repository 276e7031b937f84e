"""The audit log's hash chain: each entry carries the hash of the one before it.

``entry_hash`` covers every stored field of an entry plus the previous hash, so editing any
field, deleting an entry or moving one breaks the chain at that point; ``verify_chain`` says
where. The database keeps the last entry in ``audit_head``, so a deleted tail is caught too.

Someone who can write the database can also recompute every hash after an edit and move the
head: the chain alone then verifies. *Anchors* are what vouches for the chain from outside the
database, signed with the airlock's key (airlock.anchors: a checkpoint of every entry in an
append-only file, and the head before each release in the bundle's signed manifest); given to
``verify_chain``, each must match the entry it names, and the first entry that no longer does
is reported. Pure functions: no database or files here.
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
class Anchor:
    """A signed statement from outside the database: entry ``seq`` has hash ``hash`` (entry 0
    is the genesis, ``GENESIS_HASH``). ``source`` says which, for the report; ``kind`` groups
    them there ("checkpoint", "bundle")."""

    seq: int
    hash: str
    source: str
    kind: str = "checkpoint"


@dataclasses.dataclass(frozen=True)
class ChainReport:
    """Result of a verification: ``problems`` is empty when the chain is intact; ``first_bad``
    is the first entry known or bounded to be wrong; ``notes`` are not failures."""

    entries: int
    head: str
    problems: tuple[str, ...]
    first_bad: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(
    entries: Iterable[AuditEntry],
    *,
    head_seq: int | None = None,
    head_hash: str | None = None,
    anchors: Iterable[Anchor] = (),
) -> ChainReport:
    """Walk entries in ``seq`` order and report every break.

    ``head_seq``/``head_hash`` are the database's record of the last entry; when given, a chain
    that ends earlier (deleted tail) or elsewhere is reported. Each of ``anchors`` must name
    an entry of the log with its hash (see :func:`check_anchors`).
    """
    problems: list[str] = []
    bad: list[int] = []
    by_seq: dict[int, AuditEntry] = {}
    prev = GENESIS_HASH
    expected_seq = 1
    for entry in entries:
        by_seq[entry.seq] = entry
        recomputed = hash_of(entry)
        if entry.seq != expected_seq or entry.prev_hash != prev or recomputed != entry.hash:
            bad.append(min(entry.seq, expected_seq))
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
        bad.append(last_seq + 1)
    anchor_problems, anchor_bad, notes = check_anchors(by_seq, last_seq, anchors)
    return ChainReport(
        entries=len(by_seq),
        head=prev,
        problems=(*problems, *anchor_problems),
        first_bad=min([*bad, *anchor_bad], default=None),
        notes=notes,
    )


def check_anchors(
    entries: dict[int, AuditEntry], last_seq: int, anchors: Iterable[Anchor]
) -> tuple[list[str], list[int], tuple[str, ...]]:
    """Compare the log (``entries`` by seq, ending at ``last_seq``) with the anchors.

    Returns problems, the first bad entry they imply, and notes. An anchor whose hash differs
    means an entry at or before it was changed and the later hashes recomputed: the first bad
    entry is right after the last anchor before it that still matches (exact when every entry
    has its anchor, as checkpoints give). An anchor beyond the log's end means a deleted tail.
    Entries after the last anchor are noted: nothing outside the database vouches for them.
    """
    anchors = sorted(anchors, key=lambda a: a.seq)
    hashes = {0: GENESIS_HASH} | {seq: e.hash for seq, e in entries.items()}
    problems: list[str] = []
    bad: list[int] = []
    wrong = [a for a in anchors if a.seq <= last_seq and hashes.get(a.seq) != a.hash]
    limit = wrong[0].seq if wrong else last_seq + 1
    # the last entry that matching anchors vouch for, before the first that does not match
    good = max((a.seq for a in anchors if a.seq < limit and hashes.get(a.seq) == a.hash), default=0)
    if wrong:
        first = wrong[0]
        entry = entries.get(first.seq)
        shown = f"entry {first.seq}" + (f" ({entry.type} by {entry.actor})" if entry else "")
        if good == first.seq - 1:
            problems.append(
                f"{shown} is not the entry of the {first.source} (hash {first.hash[:12]}…, the "
                f"log's {str(hashes.get(first.seq))[:12]}…): it was changed, and the hashes "
                "after it recomputed"
            )
        else:
            problems.append(
                f"{shown} does not match the {first.source}: an entry from {good + 1} to "
                f"{first.seq} was changed, and the hashes after it recomputed"
            )
        for kind in sorted({a.kind for a in wrong[1:]}):
            more = [a for a in wrong[1:] if a.kind == kind]
            problems.extend(
                [f"the {a.source} (entry {a.seq}) does not match the log either" for a in more]
                if len(more) <= 3
                else [f"{len(more)} later {kind}s, up to entry {more[-1].seq}, do not match"]
            )
        bad.append(good + 1)
    if beyond := [a for a in anchors if a.seq > last_seq]:
        top = beyond[-1]
        problems.append(
            f"the {top.source} vouches for entry {top.seq}, but the log ends at entry "
            f"{last_seq}: entries {last_seq + 1}..{top.seq} were deleted"
        )
        bad.append(last_seq + 1)
    notes: tuple[str, ...] = ()
    if anchors and anchors[-1].seq < last_seq:
        notes = (
            f"entries {anchors[-1].seq + 1}..{last_seq} are newer than the last checkpoint: "
            "written in the last moments (or just before a crash), or added by someone with "
            "write access to the database",
        )
    return problems, bad, notes
