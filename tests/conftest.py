"""Fixtures shared by the whole suite."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"


def require_tool(name: str) -> str:
    """Path of a reference tool; fails (never skips) when bootstrap did not install it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; run: bash scripts/bootstrap.sh --test")
    return path


def bcftools_counts(vcf) -> pd.DataFrame:
    """bcftools' AC and AN per record (+fill-tags): columns chrom, pos, ac (text, comma-joined
    for several ALT alleles), an."""
    import io
    import subprocess

    import pandas as pd

    bcftools = require_tool("bcftools")
    text = subprocess.run(
        f"{bcftools} +fill-tags {vcf} -- -t AC,AN | "
        f"{bcftools} query -f '%CHROM\\t%POS\\t%AC\\t%AN\\n'",
        shell=True,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return pd.read_csv(
        io.StringIO(text), sep="\t", names=["chrom", "pos", "ac", "an"], dtype={"ac": str}
    )


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
def vcf_fixtures(tmp_path_factory):
    """The small purpose-written VCFs of tests/vcf_fixtures.py, bgzipped and indexed, each but
    the malformed one converted to VCF Zarr: name -> vcf_fixtures.Written."""
    from tests import vcf_fixtures as vf

    out = tmp_path_factory.mktemp("vcf-fixtures")
    result = {}
    for make in vf.FIXTURES:
        written = vf.write(make(), out)
        result[written.name] = written if written.name in vf.UNREADABLE else vf.convert(written)
    return result


@pytest.fixture(scope="session")
def local_node(tmp_path_factory):
    """A real local node (hub, proxy, airlock service, culler, dask-gateway, the node's own
    Beacon) with small demo cohorts. The gateway and the Beacon are on so their tests share
    this hub instead of starting a second one.

    See tests/hub/node.py for what it offers: url, site, passwords, api(), user_token(),
    start_server(), run_in_kernel().
    """
    from tests.hub.node import LocalNode, open_directory

    with open_directory("tresor-node-") as directory:
        node = LocalNode.create(directory, gateway=True, discovery=True)
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


# -- the one Playwright of the session, driving Debian's Chromium (never a downloaded browser) --
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = require_tool("chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        context.close()
