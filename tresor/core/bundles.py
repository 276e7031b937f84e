"""The released-bundle format, shared by the airlock that writes it and everyone who checks it.

A bundle is a directory: ``files/`` (the released files), ``manifest.json`` (every file's name,
SHA-256 and size, the request, the reviews, the release time, the signing key's fingerprint)
and ``manifest.sig`` (the Ed25519 signature of the exact manifest bytes, base64). The airlock
writes and signs bundles (:mod:`airlock.bundles`); :func:`verify_bundle` checks one against a
public key (``tresor airlock verify``, the federation coordinator). A bundle travels as one
tar archive (:func:`pack_bundle`, :func:`unpack_bundle`), which holds nothing else.

Only ``cryptography`` and the standard library are used here, so a federation coordinator can
verify without the airlock service's dependencies.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tresor.core.errors import TresorError

FORMAT = "tresor-airlock-bundle/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
FILES = "files"
CHUNK = 1 << 20
#: the media type of a bundle packed by :func:`pack_bundle`
ARCHIVE_MEDIA_TYPE = "application/x-tar"


class BundleError(TresorError):
    """A bundle or a key file cannot be read as one: the message says what is wrong."""


# -- keys -------------------------------------------------------------------------------------
def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A PEM public key file (as published by the node: ``<signing key>.pub``)."""
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (ValueError, TypeError) as e:
        raise BundleError(f"{path} is not a PEM public key: {e}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise BundleError(f"{path} is not an Ed25519 public key")
    return key


def key_fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex: how a manifest names the key that signed it."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


# -- the manifest -----------------------------------------------------------------------------
def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The exact bytes that are signed: sorted keys, two-space indent, UTF-8."""
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def safe_name(name: str) -> str:
    """A file's name in a bundle: relative, inside ``files/``, never ``..``."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or "\\" in name:
        raise BundleError(f"file name {name!r} cannot appear in a bundle")
    return str(path)


def sha256_file(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# -- verifying --------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class BundleReport:
    path: Path
    manifest: dict[str, Any] | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclasses.dataclass(frozen=True)
class VerifiedBundle:
    """A bundle whose signature, files and federation binding have been checked (by
    :func:`tresor.federation.verify.verify_federated_bundle`): what a merge may trust."""

    node: str
    directory: Path
    manifest: dict[str, Any]
    manifest_sha256: str

    @property
    def files_dir(self) -> Path:
        return self.directory / FILES


def _walk(root: Path) -> Iterable[Path]:
    """Every non-directory entry under root, without following symlinks."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        for d in dirnames:
            if (base / d).is_symlink():
                yield base / d
        for f in filenames:
            yield base / f


def signature_verifies(path: Path, public_key: Ed25519PublicKey) -> bool:
    """True when ``manifest.sig`` is ``public_key``'s signature of ``manifest.json``."""
    try:
        data = (Path(path) / MANIFEST).read_bytes()
        signature = base64.b64decode((Path(path) / SIGNATURE).read_bytes().strip(), validate=True)
        public_key.verify(signature, data)
    except (OSError, ValueError, InvalidSignature):
        return False
    return True


def signed_manifest(path: Path, public_key: Ed25519PublicKey) -> dict[str, Any] | None:
    """A bundle's manifest if its signature verifies with ``public_key`` (the files are not
    read: :func:`verify_bundle` checks those), else None."""
    if not signature_verifies(path, public_key):
        return None
    try:
        manifest = json.loads((Path(path) / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def verify_bundle(path: Path, public_key: Ed25519PublicKey) -> BundleReport:
    """Check a bundle: signature over manifest.json, every file's hash and size, nothing else."""
    path = Path(path)
    problems: list[str] = []
    manifest: dict[str, Any] | None = None
    if not path.is_dir() or path.is_symlink():
        return BundleReport(path, None, (f"{path} is not a bundle directory",))
    try:
        data = (path / MANIFEST).read_bytes()
        signature = base64.b64decode((path / SIGNATURE).read_bytes().strip(), validate=True)
    except FileNotFoundError as e:
        return BundleReport(path, None, (f"{Path(e.filename).name} is missing: not a bundle",))
    except ValueError:
        return BundleReport(path, None, (f"{SIGNATURE} is not base64",))
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        problems.append(
            "the signature does not match manifest.json and this public key: the manifest was "
            "changed, or the bundle comes from another node"
        )
    try:
        manifest = json.loads(data)
        files = manifest["files"]
        listed = {safe_name(f["name"]): f for f in files}
    except (ValueError, KeyError, TypeError, BundleError) as e:
        return BundleReport(path, None, (*problems, f"manifest.json is malformed: {e}"))
    if manifest.get("format") != FORMAT:
        problems.append(f"unknown bundle format {manifest.get('format')!r}")
    root = path / FILES
    present: set[str] = set()
    for p in _walk(root) if root.is_dir() else ():
        rel = p.relative_to(root).as_posix()
        present.add(rel)
        if p.is_symlink() or not p.is_file():
            problems.append(f"{rel} is not a regular file")
            continue
        if rel not in listed:
            problems.append(f"{rel} is in the bundle but not in the manifest")
            continue
        sha, size = sha256_file(p)
        if sha != listed[rel]["sha256"] or size != listed[rel]["size"]:
            problems.append(f"{rel} does not match the SHA-256 and size in the manifest")
    problems.extend(
        f"{name} is listed in the manifest but missing" for name in sorted(set(listed) - present)
    )
    extra = {p.name for p in path.iterdir()} - {MANIFEST, SIGNATURE, FILES}
    problems.extend(f"{name} is in the bundle but not in the manifest" for name in sorted(extra))
    return BundleReport(path, manifest, tuple(problems))


# -- one archive ------------------------------------------------------------------------------
def pack_bundle(path: Path, out: BinaryIO) -> None:
    """Write the bundle directory ``path`` as an uncompressed tar archive to ``out``: its
    manifest, signature and files under the bundle's own name, in a fixed order, with no
    owners, modes or times but the files' (read-only) modes."""
    path = Path(path)
    entries = [path / MANIFEST, path / SIGNATURE, path / FILES]
    for p in sorted(_walk(path / FILES)):
        entries.append(p)
    dirs = sorted(
        {p.parent for p in entries[3:] if p.parent != path / FILES}, key=lambda p: p.parts
    )
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for p in [*entries[:3], *dirs, *entries[3:]]:
            info = tar.gettarinfo(str(p), arcname=f"{path.name}/{p.relative_to(path).as_posix()}")
            if not (info.isfile() or info.isdir()):
                raise BundleError(f"{p} is neither a file nor a directory; not packed")
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            info.mode = 0o755 if info.isdir() else 0o444
            if info.isfile():
                with open(p, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)


def pack_bundle_bytes(path: Path) -> bytes:
    buffer = io.BytesIO()
    pack_bundle(path, buffer)
    return buffer.getvalue()


def unpack_bundle(archive: BinaryIO | bytes, into: Path, *, max_bytes: int = 1 << 30) -> Path:
    """Unpack a bundle archive made by :func:`pack_bundle` into ``into/<bundle name>``.

    Refuses (BundleError) anything but one top-level directory of regular files and
    directories: no links, devices, absolute paths or ``..``; no more than ``max_bytes`` in
    all. The result is not verified: call :func:`verify_bundle` on it.
    """
    if isinstance(archive, bytes):
        archive = io.BytesIO(archive)
    try:
        tar = tarfile.open(fileobj=archive, mode="r:")  # noqa: SIM115 - closed below
    except tarfile.TarError as e:
        raise BundleError(f"not a bundle archive (tar): {e}") from None
    with tar:
        members = tar.getmembers()
        roots = {PurePosixPath(m.name).parts[0] for m in members if m.name}
        if len(roots) != 1:
            raise BundleError(
                f"a bundle archive holds one directory, not {len(roots)}: {sorted(roots)[:5]}"
            )
        name = roots.pop()
        total = 0
        for m in members:
            if not (m.isfile() or m.isdir()):
                raise BundleError(f"{m.name} in the bundle archive is not a file or directory")
            rel = PurePosixPath(m.name)
            if rel.is_absolute() or ".." in rel.parts or name in ("", ".", ".."):
                raise BundleError(f"{m.name} in the bundle archive points outside it")
            total += m.size
            if total > max_bytes:
                raise BundleError(f"the bundle archive unpacks to more than {max_bytes} bytes")
        target = Path(into) / name
        if target.exists():
            raise BundleError(f"{target} exists already; unpack into an empty directory")
        Path(into).mkdir(parents=True, exist_ok=True)
        tar.extractall(into, members=members, filter="data")
    return target
