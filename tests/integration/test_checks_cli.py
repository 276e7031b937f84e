"""``tresor airlock check`` on a node with a catalogue: values are matched against the sample
IDs of the registered datasets (read from their VCF Zarr stores)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.checks_support import write
from tresor.cli import cli

pytestmark = pytest.mark.slow


def test_cli__sample_ids_come_from_the_node_catalogue(demo_cohorts, tmp_path):
    from tresor.demo import register_cohorts

    catalogue = tmp_path / "catalogue"
    register_cohorts(list(demo_cohorts.values()), catalogue, {})
    se_sample = "SE000007"
    path = write(tmp_path, "outliers.csv", f"who,z\n{se_sample},4.5\nnobody,1.5\n")

    result = CliRunner().invoke(
        cli, ["airlock", "check", "--json", "--catalogue", str(catalogue), str(path)]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    [finding] = [
        f for f in doc["files"][0]["findings"] if f["rule"] == "individual-level.sample-id"
    ]
    assert finding["location"]["row"] == 1 and finding["location"]["column"] == "who"
    assert se_sample not in result.stdout  # reports never repeat a sample ID in full
    total = sum(c.n_samples for c in demo_cohorts.values())
    assert f"matched against {total:,} sample IDs of datasets dk, se, uk" in doc["notes"][0]
    assert doc["notes"][0] in result.stderr
