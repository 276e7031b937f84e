"""What vouches for the audit log from outside the database: signed checkpoints appended to a
file only the airlock's account can write, and the signed heads in released bundles."""

from __future__ import annotations

import json
import os
import stat

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from airlock import anchors, bundles
from airlock.audit import GENESIS_HASH
from tests.airlock_support import make_chain
from tresor.core.bundles import sha256_file


def test_checkpoint_log__appends_signed_checkpoints_in_a_private_file(tmp_path):
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "airlock" / "audit-checkpoints.jsonl"
    log = anchors.CheckpointLog(path, key)
    chain = make_chain(3)
    log.append(chain[:2])
    log.append(chain[2:])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3]
    assert json.loads(lines[0])["hash"] == chain[0].hash
    assert anchors.read_checkpoints(path).exists
    reading = anchors.read_checkpoints(path).check(key.public_key())
    assert not reading.problems and not reading.notes
    assert [(a.seq, a.hash) for a in reading.anchors] == [(e.seq, e.hash) for e in chain]
    assert "checkpoint" in reading.anchors[0].source


def test_checkpoint_log__two_processes_append_whole_lines(tmp_path):
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "audit-checkpoints.jsonl"
    chain = make_chain(40)
    pid = os.fork()
    if pid == 0:  # another service process, appending at the same time
        anchors.CheckpointLog(path, key).append(chain[20:])
        os._exit(0)
    for entry in chain[:20]:
        anchors.CheckpointLog(path, key).append([entry])
    os.waitpid(pid, 0)
    reading = anchors.read_checkpoints(path).check(key.public_key())
    assert not reading.problems and not reading.notes
    assert sorted(a.seq for a in reading.anchors) == list(range(1, 41))


def test_read_checkpoints__edited_or_foreign_checkpoints_are_problems(tmp_path):
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    path = tmp_path / "audit-checkpoints.jsonl"
    chain = make_chain(3)
    anchors.CheckpointLog(path, key).append(chain[:2])
    anchors.CheckpointLog(path, other).append(chain[2:])
    lines = path.read_text().splitlines()
    edited = json.loads(lines[1])
    edited["hash"] = "f" * 64
    lines[1] = json.dumps(edited)
    path.write_text("\n".join(lines) + "\n")
    reading = anchors.read_checkpoints(path).check(key.public_key())
    assert [a.seq for a in reading.anchors] == [1]
    assert len(reading.problems) == 2
    assert "line 2" in reading.problems[0] and "does not verify" in reading.problems[0]
    assert "line 3" in reading.problems[1] and "another key" in reading.problems[1]
    # checking only what disagrees with the log: the edited line disagrees, the foreign one
    # agrees (it can hide nothing) and counts
    log = {e.seq: e.hash for e in chain}
    quick = anchors.read_checkpoints(path).check(key.public_key(), log)
    assert [a.seq for a in quick.anchors] == [1, 3] and len(quick.problems) == 1
    assert "line 2" in quick.problems[0]


def test_checkpoint_log__a_line_cut_short_by_a_crash_is_a_note(tmp_path):
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "audit-checkpoints.jsonl"
    log = anchors.CheckpointLog(path, key)
    chain = make_chain(2)
    log.append(chain[:1])
    with open(path, "ab") as f:
        f.write(b'{"format": "tresor-airlock-audit-che')  # the crash
    log.append(chain[1:])  # starts on a line of its own
    reading = anchors.read_checkpoints(path).check(key.public_key())
    assert [a.seq for a in reading.anchors] == [1, 2] and not reading.problems
    assert len(reading.notes) == 1 and "line 2" in reading.notes[0]


def test_checkpoint_log__a_failure_to_write_is_logged_never_raised(tmp_path, caplog):
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "audit-checkpoints.jsonl"
    path.mkdir()  # nothing can be appended there
    anchors.CheckpointLog(path, key).append(make_chain(1))
    assert "could not write the audit checkpoint" in caplog.text
    assert not anchors.read_checkpoints(tmp_path / "none.jsonl").exists


def test_bundle_anchors__the_signed_head_of_each_released_bundle(tmp_path):
    key = Ed25519PrivateKey.generate()
    source = tmp_path / "x.csv"
    source.write_bytes(b"a,b\n1,2\n")
    sha, size = sha256_file(source)
    chain = make_chain(4)
    for name, head in (("dk-1", chain[1]), ("dk-2", chain[3])):
        manifest = {
            "files": [{"name": "x.csv", "sha256": sha, "size": size}],
            "audit_head_before_release": head.hash,
            "audit_head_seq_before_release": head.seq,
        }
        bundles.write_bundle(tmp_path / "outbox", name, manifest, {"x.csv": source}, key)
    reading = anchors.bundle_anchors(tmp_path / "outbox", key.public_key(), chain)
    assert [(a.seq, a.hash, a.source) for a in reading.anchors] == [
        (2, chain[1].hash, "signed audit head of bundle dk-1"),
        (4, chain[3].hash, "signed audit head of bundle dk-2"),
    ]
    # a bundle made before manifests carried the entry's number: found by its hash
    old = tmp_path / "outbox" / "dk-1" / "manifest.json"
    data = json.loads(old.read_text())
    del data["audit_head_seq_before_release"]
    old.chmod(0o644)
    old.write_bytes(bundles.manifest_bytes(data))
    reading = anchors.bundle_anchors(tmp_path / "outbox", key.public_key(), chain)
    assert len(reading.problems) == 1 and "dk-1" in reading.problems[0]  # now unsigned
    assert [a.seq for a in reading.anchors] == [4]
    signature = tmp_path / "outbox" / "dk-1" / "manifest.sig"
    signature.chmod(0o644)
    signature.write_bytes(bundles.base64.b64encode(key.sign(old.read_bytes())) + b"\n")
    reading = anchors.bundle_anchors(tmp_path / "outbox", key.public_key(), chain)
    assert not reading.problems and [a.seq for a in reading.anchors] == [2, 4]
    assert anchors.bundle_anchors(tmp_path / "none", key.public_key(), chain).anchors == ()


def test_genesis_checkpoint_anchors_an_empty_log(tmp_path):
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "audit-checkpoints.jsonl"
    anchors.CheckpointLog(path, key).append_head(0, GENESIS_HASH)
    reading = anchors.read_checkpoints(path).check(key.public_key())
    assert [(a.seq, a.hash) for a in reading.anchors] == [(0, GENESIS_HASH)]
