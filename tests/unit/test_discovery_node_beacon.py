"""A node's own Beacon: ``tresor discovery summarize`` computes the node's summaries under the
discovery rules, and the Beacon serves them to hub tokens that hold its access scope only, a
refreshed summary from the next query on. (The hub, the accounts and a researcher's kernel:
tests/hub/test_node_beacon.py.)"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from tests.hub.node import write_site_config
from tresor.cli import cli
from tresor.core.site import load_site_config
from tresor.demo import register_cohorts
from tresor.discovery import beacon_models as m
from tresor.discovery.node_beacon import ACCESS_SCOPE, PREFIX, site_app
from tresor.io import open_store

F = 10


#: the hub's answers for a few tokens (the real hub: tests/hub/test_node_beacon.py)
MODELS = {
    "researcher": {"kind": "user", "name": "researcher1", "scopes": [ACCESS_SCOPE]},
    "reviewer": {"kind": "user", "name": "reviewer1", "scopes": ["read:users:name!user=reviewer1"]},
    "service": {"kind": "service", "name": "idle-culler", "scopes": [ACCESS_SCOPE]},
}


class FixedIdentities:
    async def user_for_token(self, token: str):
        return MODELS.get(token)


@pytest.fixture(scope="module")
def node(tmp_path_factory, demo_cohorts):
    """A node with the dk demo cohort (strata = sex) and its summary made by the command."""
    root = tmp_path_factory.mktemp("node")
    path = write_site_config(root, demo=False, discovery=True)
    site = load_site_config(path)
    register_cohorts([demo_cohorts["dk"]], site.catalogue_path, {"dk": ["nordic-gwas"]})
    result = CliRunner().invoke(cli, ["discovery", "summarize", "--site-config", str(path)])
    assert result.exit_code == 0, result.output
    assert "dk: " in result.output and f"floor {F} -> {site.discovery_path / 'dk'}" in result.output
    return site


def query(client: TestClient, row, token: str | None = "researcher", **params) -> dict:
    headers = {"Authorization": f"token {token}"} if token else {}
    params = {"referenceName": row["CHROM"], "start": int(row["POS"]) - 1,
              "referenceBases": row["REF"], "alternateBases": row["ALT"],
              "requestedGranularity": "record", **params}  # fmt: skip
    return client.get(f"{PREFIX}/g_variants", params=params, headers=headers)


def store_counts(ds, pos: int) -> tuple[int, int]:
    i = int(np.flatnonzero(np.asarray(ds["variant_position"].values) == pos)[0])
    g = np.asarray(ds["call_genotype"][i].values)
    return int((g == 1).sum()), int((g >= 0).sum())


def test_summarize__the_node_floor_and_the_rules_of_released_summaries(node, demo_cohorts):
    manifest = json.loads((node.discovery_path / "dk" / "manifest.json").read_text())
    assert manifest["analysis"] == "allele_frequency_summary" and manifest["floor"] == F
    assert manifest["thresholds"] == {"min_minor_allele_count": F, "min_cell_count": F}
    assert manifest["node"] == node.node_name
    assert sorted(p.name for p in node.discovery_path.iterdir()) == ["dk"]  # no leftovers
    result = CliRunner().invoke(
        cli, ["discovery", "summarize", "nonesuch", "--site-config", str(node.source)]
    )
    assert result.exit_code == 2 and "not in the catalogue: nonesuch" in result.output


def test_node_beacon__researchers_tokens_only(node):
    client = TestClient(site_app(node, FixedIdentities()))
    row = {"CHROM": "chr1", "POS": 100, "REF": "A", "ALT": "G"}
    for path in ("", "/info", "/datasets", "/g_variants"):
        r = client.get(f"{PREFIX}{path}")
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer", path
        assert "send your hub token" in m.ErrorResponse.model_validate(r.json()).error.errorMessage
    assert query(client, row, "nonsense").status_code == 401
    refused = query(client, row, "reviewer")
    assert refused.status_code == 403 and ACCESS_SCOPE in refused.text
    assert query(client, row, "service").status_code == 403
    assert query(client, row).status_code == 200


def test_node_beacon__counts_of_the_node_and_nothing_below_the_floor(node):
    client = TestClient(site_app(node, FixedIdentities()))
    entry_store = open_store(next(iter(_catalogue(node).values())).store)
    table = pd.read_parquet(node.discovery_path / "dk" / "allele_frequencies.parquet")
    shown = table[(table["STRATUM"] == "ALL") & ~table["SUPPRESSED"]].iloc[len(table) // 4]
    answer = query(client, shown).json()
    m.ResultsetsResponse.model_validate(answer)
    (result,) = answer["response"]["resultSets"][0]["results"]
    (population,) = result["frequencyInPopulations"]
    total = next(f for f in population["frequencies"] if f["population"] == node.node_name)
    assert (total["alleleCount"], total["alleleNumber"]) == store_counts(
        entry_store, int(shown["POS"])
    )
    # a variant the store has 1 to F-1 times answers as absent
    g = np.asarray(entry_store["call_genotype"].values)
    ac = (g == 1).sum(axis=(1, 2))
    alleles = np.asarray(entry_store["variant_allele"].values).astype(object).astype(str)
    rare = int(np.flatnonzero((ac > 0) & (ac < F) & (alleles[:, 2:] == "").all(axis=1))[0])
    contigs = np.asarray(entry_store["contig_id"].values).astype(object).astype(str)
    row = {"CHROM": contigs[int(entry_store["variant_contig"][rare])],
           "POS": int(entry_store["variant_position"][rare]),
           "REF": alleles[rare, 0], "ALT": alleles[rare, 1]}  # fmt: skip
    assert query(client, row).json()["responseSummary"]["exists"] is False


def test_node_beacon__a_refreshed_summary_is_served_from_the_next_query(node, tmp_path):
    client = TestClient(site_app(node, FixedIdentities()))
    table = pd.read_parquet(node.discovery_path / "dk" / "allele_frequencies.parquet")
    shown = table[(table["STRATUM"] == "ALL") & ~table["SUPPRESSED"]].iloc[0]
    before = query(client, shown).json()["response"]["resultSets"][0]["results"][0]
    # the refresh writes a new directory and swaps it in; the Beacon notices the new manifest
    result = CliRunner().invoke(
        cli, ["discovery", "summarize", "dk", "--site-config", str(node.source)]
    )
    assert result.exit_code == 0, result.output
    summary = node.discovery_path / "dk" / "allele_frequencies.parquet"
    changed = pd.read_parquet(summary)
    changed.loc[changed["AC"].notna(), "AC"] += F  # a stand-in for new samples
    changed.to_parquet(summary, row_group_size=32_768)
    manifest = node.discovery_path / "dk" / "manifest.json"
    manifest.write_text(manifest.read_text())  # a new time: a new release
    after = query(client, shown).json()["response"]["resultSets"][0]["results"][0]
    counts = [
        next(f["alleleCount"] for f in r["frequencyInPopulations"][0]["frequencies"]
             if f["population"] == node.node_name)
        for r in (before, after)
    ]  # fmt: skip
    assert counts[1] == counts[0] + F


def _catalogue(site):
    from tresor.core.catalogue import load_catalogue

    return load_catalogue(site.catalogue_path)


def test_refresh__refuses_what_the_node_agent_would_refuse_before_asking(node):
    """``tresor discovery refresh`` on a node whose federation would not run the request stops
    before it reaches a coordinator, naming each reason (the real coordinator, the agent and
    the airlock: tests/federation/test_discovery.py)."""
    result = CliRunner().invoke(
        cli,
        ["discovery", "refresh", "--project", "nordic-gwas", "--site-config", str(node.source),
         "--url", "http://127.0.0.1:9", "--token", "t"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    for reason in ("[federation] is not enabled on this node",
                   "[federation] analyses does not list allele_frequency_summary",
                   "[federation] projects does not map coordinator project 'nordic-gwas'",
                   "no dataset: give --dataset or list [federation] datasets"):  # fmt: skip
        assert reason in result.output, result.output
