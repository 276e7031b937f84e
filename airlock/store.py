"""Snapshots of submitted files: read only inside the requester's workspace, kept by SHA-256.

Reading a workspace file walks the path one directory at a time with ``O_NOFOLLOW`` relative to
the directory already opened, so a symlink anywhere in the path is refused and a path cannot be
swapped for a link between a check and the read. Only regular files with one link are read
(a hard link could name a file of another workspace), up to the size limit. The snapshot is
written to a temporary file, fsynced and renamed to ``<store>/<first 2 hex>/<sha256>``; later
edits in the workspace change nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from airlock.domain import MAX_PATH
from airlock.exceptions import IntegrityError, InvalidInput, OutsideWorkspace, WorkspaceFileError

CHUNK = 1 << 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


def clean_relative_path(value: str, what: str = "path") -> str:
    """A relative POSIX path with no ``..``, no empty or hidden-control parts; else InvalidInput.

    Used for workspace paths and for file names inside a bundle.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"the {what} is empty")
    if len(value) > MAX_PATH or "\x00" in value or "\\" in value:
        raise InvalidInput(f"the {what} {value!r} is not allowed (too long, NUL or backslash)")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidInput(f"the {what} {value!r} contains control characters")
    path = PurePosixPath(value)
    if path.is_absolute():
        raise OutsideWorkspace(
            f"the {what} {value!r} is absolute; give it relative to your workspace"
        )
    parts = [p for p in path.parts if p != "."]
    if not parts:
        raise InvalidInput(f"the {what} {value!r} names no file")
    if ".." in parts:
        raise OutsideWorkspace(f"the {what} {value!r} leaves your workspace ('..' is not allowed)")
    if any(len(p.encode()) > 255 for p in parts):
        raise InvalidInput(f"a part of the {what} {value!r} is longer than 255 bytes")
    return "/".join(parts)


def workspace_root(workspaces_dir: Path, username: str) -> Path:
    """``<workspaces>/<username>``, the only directory the airlock reads for that user."""
    if not _USER.match(username) or username in (".", ".."):
        raise InvalidInput(f"user name {username!r} cannot name a workspace")
    return workspaces_dir / username


def _open_nofollow(root: Path, relative: str) -> int:
    """Open ``root/relative`` for reading without following any symlink; returns an fd."""
    dir_flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    parts = relative.split("/")
    try:
        dfd = os.open(root, dir_flags)
    except FileNotFoundError:
        raise WorkspaceFileError(
            f"your workspace {root} does not exist yet; start your JupyterLab server once"
        ) from None
    except OSError as e:
        raise OutsideWorkspace(
            f"your workspace {root} cannot be opened safely ({e.strerror})"
        ) from e
    try:
        walked: list[str] = []
        for part in parts[:-1]:
            walked.append(part)
            try:
                nfd = os.open(part, dir_flags, dir_fd=dfd)
            except OSError as e:
                raise _path_error(e, "/".join(walked), _is_link(part, dfd)) from None
            os.close(dfd)
            dfd = nfd
        try:
            return os.open(
                parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd
            )
        except OSError as e:
            raise _path_error(e, relative, _is_link(parts[-1], dfd)) from None
    finally:
        os.close(dfd)


def _path_error(e: OSError, shown: str, is_link: bool) -> Exception:
    if is_link or e.errno == errno.ELOOP:
        return OutsideWorkspace(
            f"{shown} is a symbolic link; the airlock never follows links. Copy the file into "
            "your workspace and submit the copy"
        )
    if e.errno == errno.ENOENT:
        return WorkspaceFileError(f"{shown} does not exist in your workspace")
    if e.errno == errno.ENOTDIR:
        return WorkspaceFileError(f"{shown} is not a directory in your workspace")
    if e.errno in (errno.EACCES, errno.EPERM):
        return WorkspaceFileError(
            f"{shown} cannot be read by the airlock ({e.strerror}): the airlock reads your "
            "workspace through its group; give the group read access to the file and its "
            "folders (chmod g+r on the file, g+rx on each folder) and submit again"
        )
    return WorkspaceFileError(f"{shown} cannot be read: {e.strerror}")


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


@dataclasses.dataclass(frozen=True)
class Snapshot:
    sha256: str
    size: int


class SnapshotStore:
    """Content-addressed, immutable file store: ``<root>/<aa>/<sha256>`` (mode 0440)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp = self.root / ".tmp"
        self.tmp.mkdir(mode=0o700, parents=True, exist_ok=True)

    def path_of(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def snapshot_workspace_file(
        self, workspace: Path, relative: str, *, max_bytes: int
    ) -> Snapshot:
        """Copy a workspace file into the store; returns its hash and size."""
        relative = clean_relative_path(relative, "path")
        fd = _open_nofollow(workspace, relative)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise WorkspaceFileError(
                f"{relative} is not a regular file (a directory, pipe or device); "
                "submit files one by one"
            )
        with os.fdopen(fd, "rb", closefd=True) as source:
            if info.st_nlink > 1:
                raise OutsideWorkspace(
                    f"{relative} has {info.st_nlink} hard links, so it may be a file outside "
                    "your workspace; copy it (cp) and submit the copy"
                )
            if info.st_size > max_bytes:
                raise WorkspaceFileError(_too_large(relative, info.st_size, max_bytes))
            os.set_blocking(source.fileno(), True)
            return self._put(source, max_bytes=max_bytes, shown=relative)

    def put_bytes(self, data: bytes) -> Snapshot:
        """Store bytes directly (tests and migrations)."""
        import io

        return self._put(io.BytesIO(data), max_bytes=len(data), shown="data")

    def _put(self, source, *, max_bytes: int, shown: str) -> Snapshot:
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix="put-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise WorkspaceFileError(_too_large(shown, size, max_bytes))
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            target = self.path_of(sha)
            target.parent.mkdir(mode=0o700, exist_ok=True)
            if target.exists() and self.hash_file(target) == sha:
                tmp.unlink()
            else:
                os.chmod(tmp, 0o440)
                os.replace(tmp, target)
                fsync_dir(target.parent)
            return Snapshot(sha256=sha, size=size)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    @staticmethod
    def hash_file(path: Path) -> str:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def read_verified(self, sha256: str) -> bytes:
        """The stored bytes, after checking they still hash to ``sha256``."""
        try:
            data = self.path_of(sha256).read_bytes()
        except FileNotFoundError:
            raise IntegrityError(f"snapshot {sha256} is missing from the store") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError(f"snapshot {sha256} in the store has been altered")
        return data

    @contextlib.contextmanager
    def checkable(self, sha256: str, name: str) -> Iterator[Path]:
        """The snapshot under its submitted file name, for checks that look at the name."""
        with tempfile.TemporaryDirectory(dir=self.tmp, prefix="check-") as d:
            target = Path(d) / PurePosixPath(name).name
            try:
                os.link(self.path_of(sha256), target)
            except OSError:
                shutil.copyfile(self.path_of(sha256), target)
            yield target


def _too_large(shown: str, size: int, limit: int) -> str:
    return (
        f"{shown} is {size / 2**20:.1f} MiB; the airlock accepts files up to "
        f"{limit / 2**20:.1f} MiB. Release a summary, or split it"
    )


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
