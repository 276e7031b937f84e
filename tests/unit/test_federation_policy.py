"""A node's answer to a verified request: its policy ([federation]) and its grants decide, and
each refusal names the rule (the reason goes back to the coordinator, so never data)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.federation.stubs import install
from tresor.core.catalogue import DatasetEntry
from tresor.core.site import load_site_config
from tresor.federation.crate import FederatedRequest, Target
from tresor.federation.policy import Refused, decide

install()

SITE = """
node_name = "dk"
[accounts]
researchers = ["federation"]
[projects.nordic]
members = ["federation"]
[projects.other]
members = ["federation"]
[federation]
enabled = true
registry = "registry.toml"
analyses = ["allele_counts"]
datasets = ["dk", "dk-private"]
projects = { "nordic-gwas" = "nordic", "other-study" = "other" }
"""


@pytest.fixture
def site(tmp_path):
    (tmp_path / "site.toml").write_text(f'state_dir = "{tmp_path / "state"}"\n{SITE}')
    return load_site_config(tmp_path / "site.toml")


@pytest.fixture
def catalogue(tmp_path):
    def entry(name, grants):
        return DatasetEntry(id=name, title=name, store=tmp_path / name, grants=tuple(grants))

    return {e.id: e for e in (entry("dk", ["nordic"]), entry("dk-private", []), entry("x", []))}


def request(**changes) -> FederatedRequest:
    fields = dict(
        request_id="a" * 32,
        federation="demo",
        coordinator_url="https://coordinator.example",
        created_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        requester="alice",
        project="nordic-gwas",
        analysis="allele_counts",
        analysis_version="0+stub",
        parameters={},
        targets=(Target("dk", "dk"), Target("se", "se")),
    )
    return FederatedRequest(**{**fields, **changes})


def test_decide__accepts_what_the_policy_and_grants_allow(site, catalogue):
    from tresor.federation import analysis_registry

    version = analysis_registry.get("allele_counts").version
    accepted = decide(request(analysis_version=version), site, catalogue)
    assert accepted.entry.id == "dk" and accepted.local_project == "nordic"
    assert accepted.analysis.name == "allele_counts"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"targets": (Target("se", "se"),)}, "does not name node dk"),
        ({"analysis": "hwe_counts"}, "does not accept analysis hwe_counts (it accepts: allele_c"),
        ({"analysis_version": "999"}, "registered here at version"),
        ({"parameters": {"nonesuch": 1}}, "cannot read the parameters"),
        ({"targets": (Target("dk", "x"),)}, "does not offer dataset x to the federation"),
        ({"targets": (Target("dk", "dk-gone"),)}, "does not offer dataset dk-gone"),
        ({"project": "stranger"}, "coordinator project stranger is not mapped"),
        ({"project": "other-study"}, "dataset dk is not granted to project other of node dk"),
        ({"targets": (Target("dk", "dk-private"),)}, "not granted to project nordic"),
    ],
    ids=["not-named", "analysis", "version", "parameters", "not-offered", "unknown-dataset",
         "unmapped-project", "no-grant", "private-dataset"],
)  # fmt: skip
def test_decide__refusals_name_the_rule(site, catalogue, changes, reason):
    from tresor.federation import analysis_registry

    version = analysis_registry.get("allele_counts").version
    with pytest.raises(Refused, match=reason.replace("(", r"\(").replace(")", r"\)")):
        decide(request(**{"analysis_version": version, **changes}), site, catalogue)
