"""Snapshots read only regular files inside the workspace, never through a link."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from airlock.exceptions import InvalidInput, OutsideWorkspace, WorkspaceFileError
from airlock.store import SnapshotStore, clean_relative_path, workspace_root

DATA = b"a,b\n1,2\n"


@pytest.fixture
def setup(tmp_path):
    ws = tmp_path / "workspaces" / "alice"
    (ws / "results").mkdir(parents=True)
    (ws / "results" / "t.csv").write_bytes(DATA)
    return SnapshotStore(tmp_path / "store"), ws, tmp_path


def test_snapshot__copies_by_sha256_read_only(setup):
    store, ws, _ = setup
    snap = store.snapshot_workspace_file(ws, "results/t.csv", max_bytes=100)
    assert snap.sha256 == hashlib.sha256(DATA).hexdigest() and snap.size == len(DATA)
    stored = store.path_of(snap.sha256)
    assert stored.read_bytes() == DATA and stat.S_IMODE(stored.stat().st_mode) == 0o440
    (ws / "results" / "t.csv").write_bytes(b"edited later")
    assert store.read_verified(snap.sha256) == DATA
    again = store.snapshot_workspace_file(ws, "./results//t.csv", max_bytes=100)
    assert again.sha256 != snap.sha256 and store.read_verified(snap.sha256) == DATA


def test_snapshot__refuses_symlinked_file(setup):
    store, ws, tmp = setup
    (tmp / "secret.csv").write_bytes(b"outside")
    (ws / "link.csv").symlink_to(tmp / "secret.csv")
    with pytest.raises(OutsideWorkspace, match="symbolic link"):
        store.snapshot_workspace_file(ws, "link.csv", max_bytes=100)


def test_snapshot__refuses_symlinked_directory(setup):
    store, ws, tmp = setup
    (tmp / "elsewhere").mkdir()
    (tmp / "elsewhere" / "t.csv").write_bytes(b"outside")
    (ws / "dir").symlink_to(tmp / "elsewhere")
    with pytest.raises(OutsideWorkspace, match="symbolic link"):
        store.snapshot_workspace_file(ws, "dir/t.csv", max_bytes=100)


def test_snapshot__refuses_symlinked_workspace(setup):
    store, ws, tmp = setup
    (tmp / "workspaces" / "bob").symlink_to(ws)
    with pytest.raises(OutsideWorkspace):
        store.snapshot_workspace_file(tmp / "workspaces" / "bob", "results/t.csv", max_bytes=100)


def test_snapshot__refuses_hard_link(setup):
    store, ws, _ = setup
    os.link(ws / "results" / "t.csv", ws / "other.csv")
    with pytest.raises(OutsideWorkspace, match="hard links"):
        store.snapshot_workspace_file(ws, "other.csv", max_bytes=100)


def test_snapshot__refuses_fifo_without_blocking(setup):
    store, ws, _ = setup
    os.mkfifo(ws / "pipe")
    with pytest.raises(WorkspaceFileError, match="not a regular file"):
        store.snapshot_workspace_file(ws, "pipe", max_bytes=100)


def test_snapshot__size_limit(setup):
    store, ws, _ = setup
    with pytest.raises(WorkspaceFileError, match="MiB"):
        store.snapshot_workspace_file(ws, "results/t.csv", max_bytes=len(DATA) - 1)
    assert not any(store.tmp.iterdir())  # nothing half-written left


def test_snapshot__missing_file_and_workspace(setup):
    store, ws, tmp = setup
    with pytest.raises(WorkspaceFileError, match="does not exist"):
        store.snapshot_workspace_file(ws, "nope.csv", max_bytes=100)
    with pytest.raises(WorkspaceFileError, match="start your JupyterLab"):
        store.snapshot_workspace_file(tmp / "workspaces" / "carol", "t.csv", max_bytes=100)


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("../bob/t.csv", OutsideWorkspace),
        ("results/../../bob/t.csv", OutsideWorkspace),
        ("/etc/passwd", OutsideWorkspace),
        ("", InvalidInput),
        (".", InvalidInput),
        ("a\x00b", InvalidInput),
        ("a\\b", InvalidInput),
        ("bad\nname", InvalidInput),
        ("x" * 300, InvalidInput),
    ],
)
def test_clean_relative_path__refuses(path, error):
    with pytest.raises(error):
        clean_relative_path(path)


def test_clean_relative_path__normalises():
    assert clean_relative_path("./a//b/./c.csv") == "a/b/c.csv"


def test_workspace_root__refuses_odd_user_names(tmp_path):
    assert workspace_root(tmp_path, "alice") == tmp_path / "alice"
    for name in ("..", "a/b", "", ".hidden"):
        with pytest.raises(InvalidInput):
            workspace_root(tmp_path, name)


def test_read_verified__detects_altered_snapshot(setup):
    store, ws, _ = setup
    snap = store.snapshot_workspace_file(ws, "results/t.csv", max_bytes=100)
    path = store.path_of(snap.sha256)
    path.chmod(0o640)
    path.write_bytes(b"tampered")
    from airlock.exceptions import IntegrityError

    with pytest.raises(IntegrityError, match="altered"):
        store.read_verified(snap.sha256)
