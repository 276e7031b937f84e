"""Secrets generated at first start into the node's state directory, readable only by the owner.

Nothing secret is ever in the repository: each file is created with mode 0600 (O_EXCL, so two
starts racing cannot both write), and an existing file that others can read is refused.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from tresor.core.errors import ConfigError


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700) if needed; refuse one that others may write."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = path.stat().st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(f"{path} is writable by other users; run: chmod go-w {path}")
    return path


def check_private_file(path: Path) -> None:
    """Refuse a secret file that group or others can read or write."""
    mode = path.stat().st_mode
    if mode & 0o077:
        raise ConfigError(
            f"secret file {path} has mode {stat.filemode(mode)}; only its owner may read it. "
            f"Run: chmod 600 {path}"
        )


def write_private_file(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 and ``data``; fails if it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def ensure_secret(path: Path, nbytes: int = 32) -> str:
    """The hex secret in ``path``, generated on first use. Mode 0600."""
    with contextlib.suppress(FileExistsError):
        write_private_file(path, secrets.token_hex(nbytes).encode())
    return read_secret(path, made_by="the next start")


def read_secret(path: Path, *, made_by: str) -> str:
    """The hex secret in ``path``, which ``made_by`` generates: readers (configuration) never
    create one, so a missing file names what makes it."""
    if not path.is_file():
        raise ConfigError(f"secret file {path} does not exist; {made_by} creates it")
    check_private_file(path)
    value = path.read_text().strip()
    if len(value) < 2 * 16:
        raise ConfigError(
            f"secret file {path} is too short; delete it and {made_by} generates a new one"
        )
    return value
