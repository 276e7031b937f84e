"""The workspace a researcher finds on first start: a README and the example notebooks.

Copied, never linked (the workspace is the researcher's to change), by the researcher's own
server. A manifest (``.tresor/examples.json``) keeps the SHA-256 of each file as copied: a newer
version of an example replaces the researcher's copy only while that copy is untouched; a file
they edited or deleted stays as they left it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from tresor.core.paths import REPO_ROOT

#: the examples a workspace gets (notebooks/federated_gwas.ipynb needs a federation)
NOTEBOOKS = ("gwas.ipynb", "qc.ipynb", "allele_frequencies.ipynb", "pca.ipynb")
README = Path(__file__).with_name("workspace-README.md")
MANIFEST = Path(".tresor") / "examples.json"


def source_dir() -> Path:
    """The example notebooks: ``$TRESOR_EXAMPLES_DIR`` (the notebook image), else the
    checkout's (or the node runtime's copy of it) ``notebooks/``."""
    return Path(os.environ.get("TRESOR_EXAMPLES_DIR") or REPO_ROOT / "notebooks")


def planned() -> dict[str, Path]:
    """Workspace path -> the file it is copied from."""
    source = source_dir()
    return {"README.md": README, **{f"notebooks/{n}": source / n for n in NOTEBOOKS}}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write(target: Path, data: bytes) -> None:
    """Atomically, never through a link that stands where the file goes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def install(workspace: Path) -> list[str]:
    """Copy what is missing or outdated-but-untouched into ``workspace``; returns what was
    copied (workspace paths)."""
    manifest_path = workspace / MANIFEST
    try:
        manifest: dict[str, str] = json.loads(manifest_path.read_text())
    except (FileNotFoundError, ValueError):
        manifest = {}
    copied = []
    for name, source in planned().items():
        if not source.is_file():
            continue
        data = source.read_bytes()
        target = workspace / name
        if name in manifest:
            if target.is_symlink() or not target.is_file():
                continue  # deleted or replaced by the researcher: theirs
            current = _sha256(target.read_bytes())
            if current != manifest[name] or current == _sha256(data):
                continue  # edited by the researcher, or already the newest
        elif target.exists() or target.is_symlink():
            continue  # a file of theirs by that name, made before the examples came
        _write(target, data)
        manifest[name] = _sha256(data)
        copied.append(name)
    if copied:
        _write(manifest_path, json.dumps(manifest, indent=1, sort_keys=True).encode() + b"\n")
    return copied
