"""The runtime every account of an isolated node can read and execute.

Researchers' servers, kernels and Dask workers and the airlock run as accounts of their own
(:mod:`tresor.node.accounts_os`), so their Python must not live where only root may look: the
checkout's ``.venv`` usually does (a root-only home, CI's 0700 clone, pyenv under ``/root``).
The node therefore keeps, under :data:`RUNTIME_ROOT` (root-owned, world-readable):

- ``venv-<lock>``: a virtual environment made from Debian's ``/usr/bin/python3.11`` with exactly
  ``constraints.txt`` (``<lock>`` is a digest of it and ``pyproject.toml``), made once per lock;
- ``code-<digest>``: a copy of the project's code and files the node's processes read (tresor,
  airlock, kernels, config), by content, put on ``PYTHONPATH`` of those processes.

``scripts/bootstrap.sh`` builds the venv when run as root (:func:`main`); a start as root that
does not find it builds it too.
"""

from __future__ import annotations

import compileall
import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tresor.core.errors import ConfigError
from tresor.core.paths import REPO_ROOT

RUNTIME_ROOT = Path(os.environ.get("TRESOR_RUNTIME_ROOT", "/opt/tresor"))
#: the interpreter every account can run
SYSTEM_PYTHON = Path("/usr/bin/python3.11")
#: what the node's processes read from the checkout (REPO_ROOT of the copy)
CODE_PARTS = ("tresor", "airlock", "kernels", "config", "images/notebook/jupyter", "notebooks")


@dataclass(frozen=True)
class Runtime:
    python: Path
    code: Path

    @property
    def bin_dir(self) -> Path:
        return self.python.parent


def lock_digest() -> str:
    files = ("constraints.txt", "pyproject.toml")
    lock = b"".join((REPO_ROOT / name).read_bytes() for name in files)
    return hashlib.sha256(lock).hexdigest()[:16]


def venv_dir() -> Path:
    return RUNTIME_ROOT / f"venv-{lock_digest()}"


def _uv() -> str:
    local = Path(sys.executable).parent / "uv"
    if local.exists():
        return str(local)
    if found := shutil.which("uv"):
        return found
    raise ConfigError("uv is not installed; run scripts/bootstrap.sh, which installs it")


def build_venv() -> Path:
    """The shared venv for this lock, made if missing; returns its python."""
    venv = venv_dir()
    python = venv / "bin" / "python"
    done = venv / ".tresor-complete"
    if done.exists():
        return python
    if not SYSTEM_PYTHON.exists():
        raise ConfigError(
            f"{SYSTEM_PYTHON} is missing: the accounts of an isolated node need a Python every "
            "account can run. Install it: apt-get install -y python3.11"
        )
    RUNTIME_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
    os.chmod(RUNTIME_ROOT, 0o755)  # noqa: S103 - every account runs what is here
    with _locked():
        if done.exists():  # another start built it meanwhile
            return python
        # a venv is not relocatable (its scripts name their interpreter): built in place,
        # complete only once marked
        shutil.rmtree(venv, ignore_errors=True)
        uv = _uv()
        subprocess.run([uv, "venv", "-q", "--python", str(SYSTEM_PYTHON), str(venv)], check=True)
        subprocess.run(
            [
                uv, "pip", "install", "-q", "--compile-bytecode", "--link-mode=copy",
                "--python", str(python), "-r", str(REPO_ROOT / "constraints.txt"),
            ],
            check=True,
        )  # fmt: skip
        _world_readable(venv)
        done.write_text("")
    return python


@contextlib.contextmanager
def _locked():
    """One builder at a time (several checkouts and nodes share the runtime root)."""
    with open(RUNTIME_ROOT / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _world_readable(root: Path) -> None:
    subprocess.run(["chmod", "-R", "a+rX,go-w", str(root)], check=True)


def _code_digest() -> str:
    digest = hashlib.sha256()
    for part in CODE_PARTS:
        for path in sorted((REPO_ROOT / part).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def copy_code() -> Path:
    """A copy of the node's code by content, made if missing; returns its directory."""
    target = RUNTIME_ROOT / f"code-{_code_digest()}"
    if (target / ".tresor-complete").exists():
        os.utime(target)  # in use: kept by _prune
        return target
    RUNTIME_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
    _prune()
    with _locked():
        if (target / ".tresor-complete").exists():
            return target
        shutil.rmtree(target, ignore_errors=True)
        for part in CODE_PARTS:
            shutil.copytree(
                REPO_ROOT / part, target / part, ignore=shutil.ignore_patterns("__pycache__")
            )
        compileall.compile_dir(target, quiet=1, workers=1)
        _world_readable(target)
        (target / ".tresor-complete").write_text("")
    return target


#: code copies unused this long are removed when another is made
KEEP_SECONDS = 14 * 24 * 3600


def _prune() -> None:
    import time

    for old in RUNTIME_ROOT.glob("code-*"):
        if time.time() - old.stat().st_mtime > KEEP_SECONDS:
            shutil.rmtree(old, ignore_errors=True)


def ensure_runtime() -> Runtime:
    """The shared venv and this checkout's code copy, made where missing."""
    return Runtime(python=build_venv(), code=copy_code())


def main() -> None:
    """``python -m tresor.node.runtime``: build the runtime (scripts/bootstrap.sh, as root)."""
    if os.geteuid() != 0:
        raise SystemExit("only root builds the shared runtime (an ordinary user's node needs none)")
    runtime = ensure_runtime()
    print(f"tresor runtime: {runtime.python} with code {runtime.code}")


if __name__ == "__main__":
    main()
