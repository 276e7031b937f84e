"""The tresor freq / hardy / gwas / pca commands on real stores: selections and PCA against
plink2, and the errors a researcher sees."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tests.conftest import require_tool
from tresor.cli import cli
from tresor.io import open_store
from tresor.stats import genotype_dask_array


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def pgen(demo_cohorts, tmp_path_factory):
    plink2 = require_tool("plink2")
    prefix = tmp_path_factory.mktemp("pgen") / "se"
    subprocess.run(
        [plink2, "--vcf", str(demo_cohorts["se"].vcf), "--make-pgen", "--out", str(prefix)],
        check=True,
        capture_output=True,
    )
    return prefix


def plink2_run(pgen, out, *args):
    subprocess.run(
        [require_tool("plink2"), "--pfile", str(pgen), "--output-chr", "chrM", *args, "--out", out],
        check=True,
        capture_output=True,
    )


def test_freq__keep_region_and_filters_select_what_plink2_selects(demo_cohorts, pgen, tmp_path):
    se = demo_cohorts["se"]
    ids = pd.read_csv(se.pheno, sep="\t")["#IID"]
    keep = tmp_path / "keep.txt"
    keep.write_text("\n".join(ids[::2]) + "\n")
    out = tmp_path / "ours"
    run(
        "freq", se.store, "--out", out, "--counts", "--quiet", "--keep", keep,
        "--region", "chr21:100000-800000", "--min-maf", "0.05", "--min-call-rate", "0.99",
    )  # fmt: skip
    # plink2 --freq reports before applying --maf/--geno, so filter into a fileset first
    plink2_run(
        pgen, tmp_path / "theirs", "--keep", str(keep), "--chr", "chr21", "--from-bp", "100000",
        "--to-bp", "800000", "--maf", "0.05", "--geno", "0.01", "--make-pgen",
    )  # fmt: skip
    plink2_run(tmp_path / "theirs", tmp_path / "theirs", "--freq", "counts", "cols=+pos")
    ours = pd.read_csv(tmp_path / "ours.acount", sep="\t")
    theirs = pd.read_csv(tmp_path / "theirs.acount", sep="\t")
    assert 0 < len(ours) < 0.5 * se.n_variants
    pd.testing.assert_frame_equal(ours, theirs)


def test_pca__eigenvalues_within_1_percent_and_components_match_plink2(
    demo_cohorts, pgen, tmp_path
):
    out = tmp_path / "se"
    run("pca", demo_cohorts["se"].store, "--out", out, "--quiet")
    assert (tmp_path / "se.pca.png").stat().st_size > 10_000
    # plink2's deterministic PCA with mean imputation, on the variants tresor kept
    plink2_run(
        pgen, tmp_path / "plink2", "--extract", str(tmp_path / "se.prune.in"),
        "--pca", "10", "meanimpute",
    )  # fmt: skip
    ours = np.loadtxt(tmp_path / "se.eigenval")
    theirs = np.loadtxt(tmp_path / "plink2.eigenval")
    np.testing.assert_allclose(ours, theirs, rtol=0.01)
    a = pd.read_csv(tmp_path / "se.eigenvec", sep="\t")
    b = pd.read_csv(tmp_path / "plink2.eigenvec", sep="\t")
    assert list(a["#IID"]) == list(b["#IID"])
    for i in range(1, 11):
        assert abs(np.corrcoef(a[f"PC{i}"], b[f"PC{i}"])[0, 1]) > 0.99, i
    n_used = len((tmp_path / "se.prune.in").read_text().split())
    assert 100 < n_used < demo_cohorts["se"].n_variants


def test_gwas__writes_results_and_plots(demo_cohorts, tmp_path):
    se = demo_cohorts["se"]
    out = tmp_path / "se"
    result = run(
        "gwas", se.store, "--pheno", se.pheno, "--pheno-name", "ldl,t2d", "--covar", se.covar,
        "--covar-name", "age,sex", "--out", out, "--quiet",
    )  # fmt: skip
    for name in ("ldl.glm.linear", "t2d.glm.logistic.hybrid", "ldl.manhattan.png", "t2d.qq.png"):
        assert (tmp_path / f"se.{name}").stat().st_size > 1000, name
        assert f"se.{name}" in result.output
    table = pd.read_csv(tmp_path / "se.ldl.glm.linear", sep="\t", na_values=["NA"])
    causal = pd.read_csv(demo_cohorts["se"].store.parent.parent / "causal_variants.tsv", sep="\t")
    top = table.nsmallest(50, "P")
    assert set(top["ID"]) & set(causal["ID"]), "some causal variant is among the top hits"


def test_cli__not_a_vcf_zarr_store_is_one_clear_line(tmp_path):
    (tmp_path / "plain").mkdir()
    result = run("freq", tmp_path / "plain", "--out", tmp_path / "x", ok=False)
    assert result.exit_code == 1
    assert "not a Zarr store" in result.output and "vcf2zarr convert" in result.output
    assert "Traceback" not in result.output
    assert not list(tmp_path.glob("x*"))


def test_cli__phenotype_ids_matching_no_sample_is_a_clear_error(demo_cohorts, tmp_path):
    pheno = tmp_path / "other.pheno"
    pheno.write_text("#IID\tldl\nXX1\t1.0\nXX2\t2.0\n")
    result = run(
        "gwas", demo_cohorts["dk"].store, "--pheno", pheno, "--pheno-name", "ldl",
        "--out", tmp_path / "x", ok=False,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "none of the 2 sample IDs" in result.output
    assert not list(tmp_path.glob("x*"))


def test_cli__constant_phenotype_is_a_clear_error(demo_cohorts, tmp_path):
    ids = pd.read_csv(demo_cohorts["dk"].pheno, sep="\t")["#IID"]
    pheno = tmp_path / "flat.pheno"
    pd.DataFrame({"#IID": ids, "ldl": 3.0}).to_csv(pheno, sep="\t", index=False)
    result = run(
        "gwas", demo_cohorts["dk"].store, "--pheno", pheno, "--pheno-name", "ldl",
        "--out", tmp_path / "x", ok=False,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "is constant" in result.output


def test_genotype_dask_array__scikit_allel_view_of_a_store(demo_cohorts):
    ds = open_store(demo_cohorts["uk"].store)
    g = genotype_dask_array(ds)
    assert g.shape == ds.call_genotype.shape
    counts = g.count_alleles(max_allele=ds.sizes["alleles"] - 1).compute()
    from tresor.stats import variant_stats

    np.testing.assert_array_equal(counts, variant_stats(ds).variant_allele_count.values)


def _constant_covariate(path, ids):
    path.write_text("#IID\tage\n" + "".join(f"{i}\t50\n" for i in ids))
    return path


@pytest.mark.parametrize(
    ("command", "option", "says"),
    [
        (["pca", "no_ids", "--components", "80"], "--components 80", "ask for 1 to 59"),
        # the default --min-call-rate 0.95 removes every variant, not a lack of variants
        (["pca", "half_calls", "--components", "1"], "--min-call-rate 0.95", "lower the call-rate"),
        (["pca", "chrm", "--components", "2"], "--components 2", "monomorphic"),
        (["pca", "no_ids", "--min-maf", "0.5"], "--min-maf 0.5", "lower the MAF threshold"),
        (["pca", "triploid", "--components", "2"], "--ld-r2 0.2", "raise the r^2 threshold"),
        (["freq", "half_calls", "--min-call-rate", "0.9"], "--min-call-rate 0.9", "is 0.833"),
        (["hardy", "triploid", "--min-maf", "0.46"], "--min-maf 0.46", "highest is 0.455"),
        (["gwas", "haploid", "--pheno-name", "bmi"], "--pheno-name bmi", "no column 'bmi'"),
        (["gwas", "haploid", "--pheno-name", "qt", "--covar-name", "age"], "--covar", "needs"),
        (["gwas", "haploid", "--pheno-name", "qt", "--covar", "{const}"], "--covar-name", "age"),
        (["freq", "haploid", "--keep", "{nobody}"], "--keep", "none of the 1 sample IDs"),
        (["freq", "haploid", "--region", "chr9"], "--region", "no contig 'chr9'"),
    ],
)  # fmt: skip
def test_cli__researcher_fixable_errors_are_one_line_naming_the_option(
    vcf_fixtures, tmp_path, command, option, says
):
    """Each error a researcher can fix by changing an option: exit status 1, one line on
    stderr that names the option (with its value), no traceback, no output file left."""
    name, w = command[1], vcf_fixtures[command[1]]
    files = {
        "{const}": _constant_covariate(tmp_path / "c.covar", [f"M{i:03d}" for i in range(40)]),
        "{nobody}": tmp_path / "nobody.txt",
    }
    files["{nobody}"].write_text("X1\n")
    args = [str(files.get(a, a)) for a in command[2:]]
    if command[0] == "gwas":
        args += ["--pheno", str(w.pheno)]
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, [command[0], str(w.store), *args, "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and option in lines[0] and says in lines[0], lines[0]
    assert "Traceback" not in result.output and result.stdout == ""
    assert not list(tmp_path.glob("out*")), name
