"""Released bundles: the airlock writes and signs them in the shared format
(:mod:`tresor.core.bundles`: ``files/``, ``manifest.json`` and its Ed25519 signature
``manifest.sig``).

A bundle is written into a temporary directory of the outbox, every file and directory is
fsynced, and the directory is renamed to its final name; the rename is the moment of release.
A bundle directory under its final name is therefore always complete, and a second writer's
rename fails because the name exists. Anyone with the node's public key verifies a bundle with
:func:`tresor.core.bundles.verify_bundle` (``tresor airlock verify BUNDLE --public-key KEY``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
import shutil
import stat
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from airlock.exceptions import IntegrityError
from airlock.store import fsync_dir
from tresor.core.bundles import (
    CHUNK,
    FILES,
    FORMAT,
    MANIFEST,
    SIGNATURE,
    BundleError,
    BundleReport,
    key_fingerprint,
    load_public_key,
    manifest_bytes,
    public_key_pem,
    safe_name,
    signed_manifest,
    verify_bundle,
)

__all__ = [
    "FILES",
    "FORMAT",
    "MANIFEST",
    "SIGNATURE",
    "TMP_PREFIX",
    "BundleReport",
    "key_fingerprint",
    "load_or_create_signing_key",
    "load_public_key",
    "public_key_pem",
    "read_released_file",
    "remove_incomplete",
    "signed_manifest",
    "verify_bundle",
    "write_bundle",
]

TMP_PREFIX = ".tmp-"


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


# -- writing ----------------------------------------------------------------------------------
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
            target = tmp / FILES / _bundle_name(entry["name"])
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


def read_released_file(bundle: Path, name: str, sha256: str) -> bytes:
    """A released file's bytes, after checking them against the hash recorded at release."""
    data = (Path(bundle) / FILES / _bundle_name(name)).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise IntegrityError(f"released file {name} in {bundle} has been altered")
    return data


def _bundle_name(name: str) -> str:
    try:
        return safe_name(name)
    except BundleError as e:
        raise IntegrityError(str(e)) from None
