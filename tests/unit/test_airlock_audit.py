"""The audit log's hash chain: any edited, deleted, inserted or moved entry is found."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from airlock.audit import GENESIS_HASH, canonical_json, entry_hash, hash_of, verify_chain
from airlock.domain import AuditEntry


def make_chain(n: int) -> list[AuditEntry]:
    entries, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        fields = {
            "seq": seq,
            "time": f"2026-01-01T00:00:{seq:02d}.000000Z",
            "type": "file_viewed",
            "actor": f"reviewer{seq % 3}",
            "request_id": "0123456789abcdef",
            "details": {"file": f"f{seq}.csv", "n": seq},
        }
        h = entry_hash(**{**fields, "details": canonical_json(fields["details"])}, prev_hash=prev)
        entries.append(AuditEntry(**fields, prev_hash=prev, hash=h))
        prev = h
    return entries


def test_verify_chain__intact_chain_verifies():
    chain = make_chain(6)
    report = verify_chain(chain, head_seq=6, head_hash=chain[-1].hash)
    assert report.ok and report.entries == 6 and report.head == chain[-1].hash
    assert verify_chain([]).ok


def test_entry_hash__covers_every_field():
    entry = make_chain(1)[0]
    for field, value in [
        ("seq", 2),
        ("time", "2027-01-01T00:00:00.000000Z"),
        ("type", "file_downloaded"),
        ("actor", "mallory"),
        ("request_id", None),
        ("details", {"file": "other.csv", "n": 1}),
        ("prev_hash", "1" * 64),
    ]:
        assert hash_of(dataclasses.replace(entry, **{field: value})) != entry.hash, field


@given(st.integers(0, 7), st.sampled_from(["time", "type", "actor", "details", "request_id"]))
def test_verify_chain__edited_entry_is_found(index, field):
    chain = make_chain(8)
    value = {"details": {"file": "edited"}, "request_id": "ffffffffffffffff"}.get(field, "x")
    chain[index] = dataclasses.replace(chain[index], **{field: value})
    report = verify_chain(chain, head_seq=8, head_hash=make_chain(8)[-1].hash)
    assert not report.ok
    assert any(f"entry {index + 1} " in p and "edited" in p for p in report.problems)


@given(st.integers(0, 7))
def test_verify_chain__deleted_entry_is_found(index):
    chain = make_chain(8)
    head = chain[-1]
    del chain[index]
    report = verify_chain(chain, head_seq=head.seq, head_hash=head.hash)
    assert not report.ok


@given(st.integers(0, 6))
def test_verify_chain__swapped_neighbours_are_found(index):
    chain = make_chain(8)
    head = chain[-1]
    chain[index], chain[index + 1] = chain[index + 1], chain[index]
    assert not verify_chain(chain, head_seq=head.seq, head_hash=head.hash).ok


def test_verify_chain__renumbered_reorder_is_found():
    """Moving entries and rewriting their seq to look contiguous still breaks the links."""
    chain = make_chain(5)
    moved = [chain[0], chain[2], chain[1], chain[3], chain[4]]
    moved = [dataclasses.replace(e, seq=i) for i, e in enumerate(moved, start=1)]
    assert not verify_chain(moved).ok


def test_verify_chain__deleted_tail_needs_the_head_record():
    chain = make_chain(5)
    head = chain[-1]
    assert verify_chain(chain[:-1]).ok  # without the head record a cut tail looks complete
    report = verify_chain(chain[:-1], head_seq=head.seq, head_hash=head.hash)
    assert not report.ok and "deleted from the end" in report.problems[-1]


def test_verify_chain__rehashed_edit_breaks_the_next_link():
    """An editor who recomputes the edited entry's hash still breaks the following entry."""
    chain = make_chain(4)
    edited = dataclasses.replace(chain[1], actor="mallory")
    chain[1] = dataclasses.replace(edited, hash=hash_of(edited))
    report = verify_chain(chain, head_seq=4, head_hash=chain[-1].hash)
    assert any(p.startswith("entry 3: its previous-hash") for p in report.problems)
