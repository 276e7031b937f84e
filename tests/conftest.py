"""Fixtures shared by the whole suite."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"


def require_tool(name: str) -> str:
    """Path of a reference tool; fails (never skips) when bootstrap did not install it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; run: bash scripts/bootstrap.sh --test")
    return path


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots and other files a human may want to look at after a run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def demo_cohorts(tmp_path_factory):
    """Small demo cohorts (dk, se, uk) simulated once per session; not registered anywhere."""
    from tresor.demo import DemoParameters, simulate_cohorts

    out = tmp_path_factory.mktemp("demo")
    params = DemoParameters(samples_per_cohort=120, contigs=2, contig_length=1_000_000, seed=7)
    written = simulate_cohorts(out, params)
    return {c.cohort: c for c in written}


@pytest.fixture(scope="session")
def local_node(tmp_path_factory):
    """A real local node (hub, proxy, airlock service, culler, dask-gateway) with small demo
    cohorts. The gateway is on so its tests share this hub instead of starting a second one.

    See tests/hub/node.py for what it offers: url, site, passwords, api(), user_token(),
    start_server(), run_in_kernel().
    """
    from tests.hub.node import LocalNode

    node = LocalNode.create(tmp_path_factory.mktemp("node"), gateway=True)
    node.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL 15 server (Debian's binaries) for the session; ``.new_database()`` gives a
    fresh database URL per test."""
    from tests.postgres import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def airlock_databases(tmp_path_factory, request):
    """Fresh migrated airlock databases: ``.new("sqlite" | "postgresql", path)`` -> URL.
    PostgreSQL starts only when a test asks for it."""
    from tests.airlock_support import MigratedDatabases

    class Lazy(MigratedDatabases):
        def postgresql(self) -> str:
            if self.postgres is None:
                self.postgres = request.getfixturevalue("postgres_server")
            return super().postgresql()

    return Lazy(tmp_path_factory.mktemp("airlock-db"))
