"""The committed built form of the JupyterLab extension is what its sources build to: npm and
the JupyterLab builder rebuild it from tresor/lab/js (the lock file's exact packages), and the
result, file by file, and the sources' digest recorded beside it equal what is committed."""

from __future__ import annotations

import os
import subprocess

import pytest

import tresor.lab
from tests.conftest import REPO, require_tool

pytestmark = pytest.mark.slow


def files(root) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_labextension__npm_rebuild_equals_the_committed_build(tmp_path):
    require_tool("npm")
    out = tmp_path / "labextension"
    env = {k: v for k, v in os.environ.items() if k != "TRESOR_LABEXTENSION_WORK"}
    done = subprocess.run(
        ["bash", "scripts/build-labextension.sh", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    digest = (out / tresor.lab.SOURCES_DIGEST_FILE).read_text().strip()
    assert digest == tresor.lab.sources_digest()
    rebuilt, committed = files(out), files(tresor.lab.LABEXTENSION)
    assert sorted(rebuilt) == sorted(committed)
    differ = [name for name in committed if rebuilt[name] != committed[name]]
    assert not differ, (
        f"{differ} differ from a fresh build: run bash scripts/build-labextension.sh and commit"
    )
