"""The audit log's hash chain: any edited, deleted, inserted or moved entry is found."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from airlock.audit import GENESIS_HASH, Anchor, hash_of, verify_chain
from tests.airlock_support import make_chain


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


def anchors_of(chain, seqs, source="checkpoint") -> list[Anchor]:
    return [Anchor(e.seq, e.hash, f"{source} of entry {e.seq}") for e in chain if e.seq in seqs]


def rehashed(chain, index, **fields):
    """The chain with entry ``index`` changed and every later hash recomputed, as someone
    holding the database (not the key) can make it."""
    out, prev = [], GENESIS_HASH
    for i, entry in enumerate(chain):
        entry = dataclasses.replace(entry, prev_hash=prev, **(fields if i == index else {}))
        entry = dataclasses.replace(entry, hash=hash_of(entry))
        out.append(entry)
        prev = entry.hash
    return out


def test_verify_chain__anchors_find_a_rehashed_edit_exactly():
    chain = make_chain(8)
    forged = rehashed(chain, 3, actor="mallory")  # entry 4
    assert verify_chain(forged, head_seq=8, head_hash=forged[-1].hash).ok  # the chain is fooled
    report = verify_chain(
        forged, head_seq=8, head_hash=forged[-1].hash, anchors=anchors_of(chain, range(9))
    )
    assert not report.ok and report.first_bad == 4
    assert report.problems[0].startswith("entry 4 (file_viewed by mallory) is not the entry")
    assert "checkpoint of entry 4" in report.problems[0]


def test_verify_chain__sparse_anchors_bound_the_first_bad_entry():
    chain = make_chain(8)
    forged = rehashed(chain, 3, actor="mallory")
    report = verify_chain(
        forged, head_seq=8, head_hash=forged[-1].hash, anchors=anchors_of(chain, {2, 7})
    )
    assert not report.ok and report.first_bad == 3
    assert "an entry from 3 to 7 was changed" in report.problems[0]


def test_verify_chain__anchors_find_a_deleted_tail():
    chain = make_chain(8)
    cut = chain[:5]
    assert verify_chain(cut, head_seq=5, head_hash=cut[-1].hash).ok  # head moved back
    report = verify_chain(
        cut, head_seq=5, head_hash=cut[-1].hash, anchors=anchors_of(chain, range(1, 9))
    )
    assert not report.ok and report.first_bad == 6
    assert any("entries 6..8 were deleted" in p for p in report.problems)


def test_verify_chain__entries_after_the_last_anchor_are_noted_not_failed():
    chain = make_chain(8)
    anchors = [Anchor(0, GENESIS_HASH, "start"), *anchors_of(chain, range(1, 7))]
    report = verify_chain(chain, head_seq=8, head_hash=chain[-1].hash, anchors=anchors)
    assert report.ok and report.first_bad is None
    assert len(report.notes) == 1 and "entries 7..8" in report.notes[0]
    assert verify_chain([], head_seq=0, head_hash=GENESIS_HASH, anchors=anchors[:1]).ok
