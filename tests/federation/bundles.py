"""Bundles for the coordinator's tests, written by the airlock's own writer
(:func:`airlock.bundles.write_bundle`) with a manifest of the shape its workflow writes, so a
test chooses the key, the node, the binding and the time (forgeries included)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from airlock.bundles import write_bundle
from tresor.core.bundles import pack_bundle_bytes


def make_bundle(
    root: Path,
    key: Ed25519PrivateKey,
    *,
    node: str,
    request_id: str | None,
    crate_sha256: str | None,
    files: dict[str, bytes],
    released_at: dt.datetime | None = None,
    reviewers: tuple[str, ...] = ("reviewer1", "reviewer2"),
) -> Path:
    """A signed bundle directory under ``root``; ``request_id=None``: not bound to a request."""
    airlock_id = secrets.token_hex(8)
    store = root / f"store-{airlock_id}"
    store.mkdir(parents=True)
    sources = {}
    for name, data in files.items():
        path = store / hashlib.sha256(data).hexdigest()
        path.write_bytes(data)
        sources[name] = path
    released_at = released_at or dt.datetime.now(dt.UTC)
    manifest = {
        "node": node,
        "bundle": f"{node}-{airlock_id}",
        "request": {
            "id": airlock_id,
            "project": "nordic-gwas",
            "requester": "federation",
            "round": 1,
            "created_at": released_at.isoformat(),
            "submitted_at": released_at.isoformat(),
        },
        "files": [
            {
                "name": name,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "description": "test output",
                "disclosure_control": "test",
                "exception": None,
                "check": {},
            }
            for name, data in files.items()
        ],
        "reviews": [
            {
                "reviewer": r,
                "round": 1,
                "decision": "approve",
                "reason": "",
                "acknowledged_exceptions": [],
                "at": released_at.isoformat(),
            }
            for r in reviewers
        ],
        "released_at": released_at.isoformat(),
        "audit_head_before_release": "0" * 64,
        "tresor_version": "test",
    }
    if request_id is not None:
        manifest["federation"] = {"request_id": request_id, "crate_sha256": crate_sha256}
    return write_bundle(root / "outbox", manifest["bundle"], manifest, sources, key)


def archive_of(bundle: Path) -> bytes:
    return pack_bundle_bytes(bundle)
