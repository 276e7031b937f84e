"""Released bundles: the files, ``manifest.json`` and its Ed25519 signature ``manifest.sig``.

A bundle is written into a temporary directory of the outbox, every file and directory is
fsynced, and the directory is renamed to its final name; the rename is the moment of release.
A bundle directory under its final name is therefore always complete, and a second writer's
rename fails because the name exists. Anyone with the node's public key verifies a bundle with
:func:`verify_bundle` (``tresor airlock verify BUNDLE --public-key KEY``): every listed file's
SHA-256 and size, no unlisted file, and the signature over the exact manifest bytes.

Only ``cryptography`` is needed here, so a federation coordinator can verify without the
service's dependencies.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
import os
import secrets
import shutil
import stat
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from airlock.exceptions import IntegrityError
from airlock.store import fsync_dir

FORMAT = "tresor-airlock-bundle/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
FILES = "files"
TMP_PREFIX = ".tmp-"
CHUNK = 1 << 20


# -- keys -------------------------------------------------------------------------------------
def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """The node's private key (PEM, mode 0600), generated on first use; the public key is
    written next to it as ``<name>.pub`` (PEM, world-readable: it is meant to be shared)."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails if another process made the key first: keep theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    mode = path.stat().st_mode
    if mode & 0o077:
        raise IntegrityError(
            f"the signing key {path} has mode {stat.filemode(mode)}; only its owner may read "
            f"it. Run: chmod 600 {path}"
        )
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise IntegrityError(f"{path} is not an Ed25519 private key")
    public = path.with_suffix(".pub")
    pem = public_key_pem(key.public_key())
    if not public.exists() or public.read_bytes() != pem:
        tmp = public.with_name(f".{public.name}.{secrets.token_hex(4)}")
        tmp.write_bytes(pem)
        os.chmod(tmp, 0o644)
        os.replace(tmp, public)
    return key


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A PEM public key file (as published by the node: ``<signing key>.pub``)."""
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (ValueError, TypeError) as e:
        raise IntegrityError(f"{path} is not a PEM public key: {e}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise IntegrityError(f"{path} is not an Ed25519 public key")
    return key


def key_fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex: how a manifest names the key that signed it."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


# -- writing ----------------------------------------------------------------------------------
def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _copy_verified(source: Path, target: Path, sha256: str) -> None:
    digest = hashlib.sha256()
    with open(source, "rb") as src, open(target, "xb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    if digest.hexdigest() != sha256:
        raise IntegrityError(f"{source} no longer matches its SHA-256 {sha256}; not released")
    os.chmod(target, 0o444)


def write_bundle(
    outbox: Path,
    name: str,
    manifest: dict[str, Any],
    sources: dict[str, Path],
    key: Ed25519PrivateKey,
) -> Path:
    """Write a complete, signed bundle ``outbox/name`` atomically and return its path.

    ``manifest["files"]`` lists ``{"name", "sha256", "size", ...}``; ``sources`` maps each name
    to the stored bytes to copy (checked against the hash while copying). Raises
    FileExistsError when the bundle exists already.
    """
    outbox = Path(outbox)
    outbox.mkdir(parents=True, exist_ok=True)
    final = outbox / name
    if final.exists():
        raise FileExistsError(final)
    manifest = {**manifest, "format": FORMAT, "signing_key": key_fingerprint(key.public_key())}
    tmp = outbox / f"{TMP_PREFIX}{name}-{secrets.token_hex(4)}"
    tmp.mkdir(mode=0o755)
    try:
        directories = {tmp, tmp / FILES}
        (tmp / FILES).mkdir()
        for entry in manifest["files"]:
            target = tmp / FILES / _safe_name(entry["name"])
            try:
                if target.parent != tmp / FILES:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    directories.update(p for p in target.parents if tmp in p.parents)
                _copy_verified(sources[entry["name"]], target, entry["sha256"])
            except OSError as e:  # say which file, not the temporary directory's path
                raise type(e)(
                    e.errno, f"cannot write {entry['name']!r} into bundle {name}: {e.strerror}"
                ) from e
        data = manifest_bytes(manifest)
        for filename, content in (
            (MANIFEST, data),
            (SIGNATURE, base64.b64encode(key.sign(data)) + b"\n"),
        ):
            with open(tmp / filename, "xb") as f:
                f.write(content)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp / filename, 0o444)
        for directory in sorted(directories, key=lambda p: len(p.parts), reverse=True):
            fsync_dir(directory)
        os.rename(tmp, final)  # the release: atomic, and refused if `final` exists
        fsync_dir(outbox)
    except BaseException:
        remove_tree(tmp)
        raise
    return final


def remove_tree(path: Path) -> None:
    """Remove a (read-only) temporary bundle directory."""
    if not path.exists():
        return
    for p in path.rglob("*"):
        with contextlib.suppress(OSError):
            p.chmod(0o700 if p.is_dir() and not p.is_symlink() else 0o600)
    shutil.rmtree(path, ignore_errors=True)


def remove_incomplete(outbox: Path) -> list[Path]:
    """Delete temporary directories left by a release that was interrupted."""
    removed = []
    if Path(outbox).is_dir():
        for p in Path(outbox).iterdir():
            if p.name.startswith(TMP_PREFIX):
                remove_tree(p)
                removed.append(p)
    return removed


def _safe_name(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise IntegrityError(f"file name {name!r} cannot appear in a bundle")
    return str(path)


# -- verifying --------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class BundleReport:
    path: Path
    manifest: dict[str, Any] | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _walk(root: Path) -> Iterable[Path]:
    """Every non-directory entry under root, without following symlinks."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        for d in dirnames:
            if (base / d).is_symlink():
                yield base / d
        for f in filenames:
            yield base / f


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
        listed = {_safe_name(f["name"]): f for f in files}
    except (ValueError, KeyError, TypeError, IntegrityError) as e:
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
        sha, size = _sha256_file(p)
        if sha != listed[rel]["sha256"] or size != listed[rel]["size"]:
            problems.append(f"{rel} does not match the SHA-256 and size in the manifest")
    problems.extend(
        f"{name} is listed in the manifest but missing" for name in sorted(set(listed) - present)
    )
    extra = {p.name for p in path.iterdir()} - {MANIFEST, SIGNATURE, FILES}
    problems.extend(f"{name} is in the bundle but not in the manifest" for name in sorted(extra))
    return BundleReport(path, manifest, tuple(problems))


def signed_manifest(path: Path, public_key: Ed25519PublicKey) -> dict[str, Any] | None:
    """A bundle's manifest if its signature verifies with ``public_key`` (the files are not
    read: :func:`verify_bundle` checks those), else None."""
    try:
        data = (Path(path) / MANIFEST).read_bytes()
        signature = base64.b64decode((Path(path) / SIGNATURE).read_bytes().strip(), validate=True)
        public_key.verify(signature, data)
        manifest = json.loads(data)
    except (OSError, ValueError, InvalidSignature):
        return None
    return manifest if isinstance(manifest, dict) else None


def read_released_file(bundle: Path, name: str, sha256: str) -> bytes:
    """A released file's bytes, after checking them against the hash recorded at release."""
    data = (Path(bundle) / FILES / _safe_name(name)).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise IntegrityError(f"released file {name} in {bundle} has been altered")
    return data
