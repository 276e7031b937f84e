"""What vouches for the audit log from outside the database, signed with the airlock's key.

Someone who can write the airlock's database, but does not hold its signing key, can rewrite
the hash chain consistently (change an entry, recompute every later hash, move the head). Two
things they cannot rewrite anchor it:

- **checkpoints**: after every commit that appended audit entries, the airlock appends one
  signed line per entry (``seq``, ``hash``, the time, the key's fingerprint, an Ed25519
  signature) to ``<state>/airlock/audit-checkpoints.jsonl``, a file outside the database that
  only the airlock's account can write (mode 0600, opened ``O_APPEND``, fsynced);
- **bundles**: each released bundle's signed manifest carries the chain's head before the
  release (``audit_head_seq_before_release``, ``audit_head_before_release``).

:func:`verify_audit_log` checks the chain against both (airlock.audit.verify_chain) and says
which entry is the first bad one. Writing a checkpoint never fails the action it records: an
error is logged, and the next checkpoint covers the entries before it through the chain.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from airlock import bundles
from airlock.audit import GENESIS_HASH, Anchor, ChainReport, canonical_json, verify_chain
from airlock.domain import AuditEntry, utcnow
from airlock.store import fsync_dir

if TYPE_CHECKING:
    from airlock.db.data_access import Reader

FORMAT = "tresor-airlock-audit-checkpoint/1"

log = logging.getLogger(__name__)


def _signed_bytes(seq: int, hash: str, time: str, key: str) -> bytes:
    return canonical_json(
        {"format": FORMAT, "seq": seq, "hash": hash, "time": time, "key": key}
    ).encode()


class CheckpointLog:
    """The append-only file of signed checkpoints, written by the airlock's processes."""

    def __init__(self, path: Path, key: Ed25519PrivateKey) -> None:
        self.path = Path(path)
        self.key = key
        self.fingerprint = bundles.key_fingerprint(key.public_key())

    def append(self, entries: Sequence[AuditEntry]) -> None:
        """Checkpoint each of the committed ``entries``; called after every commit."""
        self._append([(e.seq, e.hash) for e in entries])

    def append_head(self, seq: int, hash: str) -> None:
        """Checkpoint the head as it is (at start: after an upgrade or a crash, the log's last
        entries may have none yet)."""
        self._append([(seq, hash)])

    def _line(self, seq: int, hash: str, time: str) -> bytes:
        signature = self.key.sign(_signed_bytes(seq, hash, time, self.fingerprint))
        line = {
            "format": FORMAT,
            "seq": seq,
            "hash": hash,
            "time": time,
            "key": self.fingerprint,
            "signature": base64.b64encode(signature).decode(),
        }
        return canonical_json(line).encode() + b"\n"

    def _append(self, heads: list[tuple[int, str]]) -> None:
        if not heads:
            return
        time = utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        data = b"".join(self._line(seq, hash, time) for seq, hash in heads)
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                info = os.fstat(fd)
                if info.st_mode & 0o077:
                    log.warning("%s was readable by others; made it 0600", self.path)
                    os.fchmod(fd, 0o600)
                if info.st_size and os.pread(fd, 1, info.st_size - 1) != b"\n":
                    data = b"\n" + data  # a line cut short by a crash stays a line of its own
                while data:  # one write: O_APPEND keeps other processes' lines whole
                    data = data[os.write(fd, data) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            if not info.st_size:
                fsync_dir(self.path.parent)
        except Exception:
            log.exception(
                "could not write the audit checkpoint of entries %s..%s to %s; they are "
                "vouched for once a later checkpoint is written",
                heads[0][0],
                heads[-1][0],
                self.path,
            )


@dataclasses.dataclass(frozen=True)
class Reading:
    """Anchors read from somewhere, with what was wrong (problems) or odd (notes) there."""

    anchors: tuple[Anchor, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """One line of the checkpoint file, as read (its signature not yet checked)."""

    line: int
    seq: int
    hash: str
    time: str
    key: str
    signature: bytes


@dataclasses.dataclass(frozen=True)
class CheckpointFile:
    """The checkpoint file as read: its checkpoints, and notes on lines that are none."""

    path: Path
    checkpoints: tuple[Checkpoint, ...] = ()
    notes: tuple[str, ...] = ()
    exists: bool = True

    def check(
        self, public_key: Ed25519PublicKey, log_hashes: dict[int, str] | None = None
    ) -> Reading:
        """The checkpoints whose signature verifies, as anchors; the others are problems.

        With ``log_hashes`` (the log's seq -> hash), only the signatures of checkpoints that
        disagree with the log are checked (about 0.1 ms each: the admin's page stays fast);
        one that agrees can hide no change, since the authentic checkpoint of a changed entry
        still disagrees. Checking every signature also finds forged lines that agree, such as
        checkpoints added for entries added at the end: ``tresor airlock audit verify``.
        """
        fingerprint = bundles.key_fingerprint(public_key)
        anchors: list[Anchor] = []
        problems: list[str] = []
        for c in self.checkpoints:
            where = f"line {c.line} of {self.path.name}"
            if log_hashes is None or log_hashes.get(c.seq) != c.hash:
                if c.key != fingerprint:
                    problems.append(
                        f"{where}: the checkpoint of entry {c.seq} is signed by another key "
                        f"({c.key[:12]}…) than the airlock's ({fingerprint[:12]}…)"
                    )
                    continue
                try:
                    public_key.verify(c.signature, _signed_bytes(c.seq, c.hash, c.time, c.key))
                except InvalidSignature:
                    problems.append(
                        f"{where}: the checkpoint of entry {c.seq} does not verify with the "
                        "airlock's public key (the line was changed)"
                    )
                    continue
            anchors.append(Anchor(c.seq, c.hash, f"checkpoint signed {c.time}"))
        return Reading(tuple(anchors), tuple(problems), self.notes)


def read_checkpoints(path: Path) -> CheckpointFile:
    """Every checkpoint in the file; a line that is not one is noted (a crash cut it short)."""
    path = Path(path)
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except FileNotFoundError:
        return CheckpointFile(path, exists=False)
    checkpoints: list[Checkpoint] = []
    notes: list[str] = []
    with file:
        for number, line in enumerate(file, start=1):  # streamed: the file grows with the log
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                checkpoint = Checkpoint(
                    number,
                    int(data["seq"]),
                    data["hash"],
                    data["time"],
                    data["key"],
                    base64.b64decode(data["signature"], validate=True),
                )
                if data["format"] != FORMAT or not all(
                    isinstance(v, str) for v in (checkpoint.hash, checkpoint.time, checkpoint.key)
                ):
                    raise ValueError(data["format"])
            except (ValueError, KeyError, TypeError):
                notes.append(
                    f"line {number} of {path.name} is not a checkpoint (cut short by a "
                    "crash?); ignored"
                )
                continue
            checkpoints.append(checkpoint)
    return CheckpointFile(path, tuple(checkpoints), tuple(notes))


@dataclasses.dataclass(frozen=True)
class BundleHeads:
    """The signed audit heads read from the bundles in the outbox: (bundle, seq or None for
    bundles made before manifests carried it, hash)."""

    heads: tuple[tuple[str, int | None, str], ...] = ()
    problems: tuple[str, ...] = ()

    def resolve(self, entries: Iterable[AuditEntry]) -> Reading:
        """Anchors, finding the entry of a head without a number by its hash."""
        seq_of = {GENESIS_HASH: 0} | {e.hash: e.seq for e in entries}
        anchors, problems = [], list(self.problems)
        for name, seq, head in self.heads:
            seq = seq if seq is not None else seq_of.get(head)
            if seq is None:
                problems.append(
                    f"bundle {name}: its signed audit head {head[:12]}… is no entry of the log "
                    "(the log before its release was rewritten)"
                )
            else:
                anchors.append(Anchor(seq, head, f"signed audit head of bundle {name}", "bundle"))
        return Reading(tuple(anchors), tuple(problems))


def bundle_heads(outbox: Path, public_key: Ed25519PublicKey) -> BundleHeads:
    """The signed audit head of every bundle in the outbox (a directory with a manifest)."""
    outbox = Path(outbox)
    if not outbox.is_dir():
        return BundleHeads()
    heads: list[tuple[str, int | None, str]] = []
    problems: list[str] = []
    for path in sorted(outbox.iterdir()):
        if path.name.startswith(bundles.TMP_PREFIX) or not (path / bundles.MANIFEST).is_file():
            continue
        manifest = bundles.signed_manifest(path, public_key)
        if manifest is None:
            problems.append(
                f"bundle {path.name} in the outbox: its manifest does not verify with the "
                "airlock's public key"
            )
            continue
        head = manifest.get("audit_head_before_release")
        seq = manifest.get("audit_head_seq_before_release")
        if isinstance(head, str) and (seq is None or isinstance(seq, int)):
            heads.append((path.name, seq, head))
    return BundleHeads(tuple(heads), tuple(problems))


def bundle_anchors(
    outbox: Path, public_key: Ed25519PublicKey, entries: Iterable[AuditEntry]
) -> Reading:
    """The signed audit heads of the bundles in the outbox, as anchors of ``entries``."""
    return bundle_heads(outbox, public_key).resolve(entries)


def verify_audit_log(
    reader: Reader,
    *,
    checkpoints: Path,
    outbox: Path,
    public_key: Ed25519PublicKey,
    every_signature: bool = True,
) -> ChainReport:
    """The audit log in ``reader``'s database against its hash chain, the checkpoints and the
    released bundles' signed heads. ``every_signature=False`` checks only the signatures of
    checkpoints that disagree with the log (:meth:`CheckpointFile.check`).

    The checkpoints and bundles are read before the database: anything they name was committed
    before, so entries written meanwhile never look deleted.
    """
    file = read_checkpoints(checkpoints)
    heads = bundle_heads(outbox, public_key)
    entries = reader.audit_entries()
    head_seq, head_hash = reader.audit_head()
    log_hashes = None if every_signature else {0: GENESIS_HASH} | {e.seq: e.hash for e in entries}
    from_checkpoints = file.check(public_key, log_hashes)
    from_bundles = heads.resolve(entries)
    report = verify_chain(
        entries,
        head_seq=head_seq,
        head_hash=head_hash,
        anchors=(*from_checkpoints.anchors, *from_bundles.anchors),
    )
    problems = [*report.problems, *from_checkpoints.problems, *from_bundles.problems]
    if not file.exists and entries:
        problems.append(
            f"there is no checkpoint file {checkpoints}: nothing outside the database vouches "
            "for the entries after the last released bundle"
        )
    return dataclasses.replace(
        report,
        problems=tuple(problems),
        notes=(*report.notes, *from_checkpoints.notes, *from_bundles.notes),
    )
