"""`tresor demo-data` on its own: files that bio2zarr, bcftools and plink2 read the same way."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.conftest import bcftools_counts, require_tool
from tresor.io import open_store


@pytest.fixture(scope="module")
def cli_demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli-demo")
    catalogue = tmp_path_factory.mktemp("catalogue")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tresor",
            "demo-data",
            "--out",
            str(out),
            "--samples",
            "40",
            "--contig-length",
            "300000",
            "--seed",
            "3",
            "--catalogue",
            str(catalogue),
            "--grant",
            "dk=nordic",
            "--grant",
            "uk=nordic",
            "--grant",
            "uk=ukstudy",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return out, catalogue, result.stdout


def test_demo_data__vcf2zarr_inspect_reads_every_store(cli_demo):
    out, _, _ = cli_demo
    vcf2zarr = [sys.executable, "-m", "bio2zarr", "vcf2zarr"]
    for cohort in ("dk", "se", "uk"):
        result = subprocess.run(
            [*vcf2zarr, "inspect", str(out / cohort / f"{cohort}.vcz")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "call_genotype" in result.stdout


def test_demo_data__registers_cohorts_with_grants(cli_demo):
    from tresor.core.catalogue import load_catalogue

    _out, catalogue, _ = cli_demo
    entries = load_catalogue(catalogue)
    assert sorted(entries) == ["dk", "se", "uk"]
    assert entries["uk"].grants == ("nordic", "ukstudy")
    assert entries["se"].grants == ()
    ds = open_store(entries["dk"].store)
    assert entries["dk"].n_samples == ds.sizes["samples"] == 40
    assert entries["dk"].n_variants == ds.sizes["variants"]


def test_demo_data__zarr_genotypes_equal_bcftools_counts(demo_cohorts, tmp_path):
    dk = demo_cohorts["dk"]
    ref = bcftools_counts(dk.vcf)
    ds = open_store(dk.store)
    g = ds.call_genotype.values
    assert len(ref) == g.shape[0]
    np.testing.assert_array_equal(ref["pos"], ds.variant_position.values)
    np.testing.assert_array_equal(ref["an"], (g >= 0).sum(axis=(1, 2)))
    n_alleles = (ds.variant_allele.values != "").sum(axis=1)
    ours = [
        ",".join(str(int((row == a).sum())) for a in range(1, k))
        for row, k in zip(g, n_alleles, strict=True)
    ]
    assert ours == list(ref["ac"])


def test_demo_data__cohorts_have_missing_calls_and_plink_phenotypes(demo_cohorts):
    for cohort, files in demo_cohorts.items():
        ds = open_store(files.store)
        missing = float((ds.call_genotype.values < 0).mean())
        assert 0.001 < missing < 0.02, cohort
        pheno = pd.read_csv(files.pheno, sep="\t")
        covar = pd.read_csv(files.covar, sep="\t")
        assert list(pheno.columns) == ["#IID", "ldl", "t2d"]
        assert list(covar.columns) == ["#IID", "age", "sex"]
        assert list(pheno["#IID"]) == list(ds.sample_id.values)
        assert set(pheno["t2d"]) == {1, 2}
        assert set(covar["sex"]) <= {1, 2}


def test_demo_data__plink2_reads_the_vcf(demo_cohorts, tmp_path):
    plink2 = require_tool("plink2")
    se = demo_cohorts["se"]
    subprocess.run(
        [plink2, "--vcf", str(se.vcf), "--freq", "counts", "--out", str(tmp_path / "se")],
        capture_output=True,
        check=True,
    )
    acount = pd.read_csv(tmp_path / "se.acount", sep="\t")
    assert len(acount) == se.n_variants


def test_demo_data__stores_are_read_only(demo_cohorts):
    store = demo_cohorts["uk"].store
    assert not (store.stat().st_mode & 0o222)
    assert not ((store / "call_genotype").stat().st_mode & 0o222)
