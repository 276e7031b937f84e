"""tresor.lab, the researchers' server extension: the workspace's examples (copied, updated only
while untouched), the dashboard route's narrowness, and the committed built JupyterLab extension
matching its sources (tests/integration/test_labextension.py rebuilds it with npm and compares)."""

from __future__ import annotations

import json
import os

import pytest

import tresor.lab
from tresor.lab import dashboards, examples


@pytest.fixture
def source(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    for name in examples.NOTEBOOKS:
        (src / name).write_text(f"{name} v1")
    monkeypatch.setenv("TRESOR_EXAMPLES_DIR", str(src))
    return src


def test_examples__copied_once_updated_only_while_untouched(tmp_path, source):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "notebooks").mkdir()
    (ws / "notebooks" / "pca.ipynb").write_text("mine, made before the examples came")
    copied = examples.install(ws)
    assert set(copied) == {"README.md", "notebooks/gwas.ipynb", "notebooks/qc.ipynb",
                           "notebooks/allele_frequencies.ipynb"}  # fmt: skip
    assert (ws / "README.md").read_bytes() == examples.README.read_bytes()
    assert not (ws / "README.md").is_symlink()
    assert (ws / "notebooks" / "pca.ipynb").read_text() == "mine, made before the examples came"
    manifest = json.loads((ws / examples.MANIFEST).read_text())
    assert "notebooks/pca.ipynb" not in manifest
    assert examples.install(ws) == []  # nothing new

    # new versions: the untouched copy follows, the edited one and the deleted one stay so
    (ws / "notebooks" / "qc.ipynb").write_text("edited by the researcher")
    (ws / "notebooks" / "allele_frequencies.ipynb").unlink()
    for name in examples.NOTEBOOKS:
        (source / name).write_text(f"{name} v2")
    assert examples.install(ws) == ["notebooks/gwas.ipynb"]
    assert (ws / "notebooks" / "gwas.ipynb").read_text() == "gwas.ipynb v2"
    assert (ws / "notebooks" / "qc.ipynb").read_text() == "edited by the researcher"
    assert not (ws / "notebooks" / "allele_frequencies.ipynb").exists()
    # a link put where an example was is never written through
    target = tmp_path / "elsewhere"
    target.write_text("not the researcher's to change")
    (ws / "notebooks" / "gwas.ipynb").unlink()
    os.symlink(target, ws / "notebooks" / "gwas.ipynb")
    (source / "gwas.ipynb").write_text("gwas.ipynb v3")
    assert examples.install(ws) == []
    assert target.read_text() == "not the researcher's to change"


def test_examples__the_repository_notebooks_exist():
    for name in examples.NOTEBOOKS:
        assert (examples.REPO_ROOT / "notebooks" / name).is_file(), name


@pytest.mark.parametrize(
    ("path", "served"),
    [
        ("/status", True),
        ("/individual-task-stream", True),
        ("/individual-plots.json", True),
        ("/status/ws", True),
        ("/statics/css/base.css", True),
        ("/info/main/workers.html", True),
        ("/", False),
        ("/files/secret.csv", False),
        ("/api/contents", False),
        ("/statics/../../etc/passwd", False),
        ("/info/../../files/x", False),
        ("/status/../secret", False),
    ],
)
def test_dashboards__only_dashboard_pages(path, served):
    assert bool(dashboards.DASHBOARD_PATH.match(path)) is served


def test_dashboards__only_a_kernels_own_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert dashboards.listening_pid(port) == os.getpid()
        assert dashboards.served_by_kernel(port, {os.getpid()})
        assert not dashboards.served_by_kernel(port, {2**30})  # not one of the server's kernels
    assert not dashboards.served_by_kernel(port, {os.getpid()})  # nobody listens any more


def test_labextension__built_form_matches_its_sources():
    recorded = (tresor.lab.LABEXTENSION / tresor.lab.SOURCES_DIGEST_FILE).read_text().strip()
    assert recorded == tresor.lab.sources_digest(), (
        "tresor/lab/js changed since tresor/lab/labextension was built: run "
        "bash scripts/build-labextension.sh and commit the result"
    )
    package = json.loads((tresor.lab.LABEXTENSION / "package.json").read_text())
    assert package["name"] == tresor.lab.LABEXTENSION_NAME
    assert (tresor.lab.LABEXTENSION / package["jupyterlab"]["_build"]["load"]).exists()
