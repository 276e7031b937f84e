"""The genomics rules on real plink2 and bcftools output from the demo cohorts.

The variants the airlock blocks for a small minor allele count are compared with the variants
whose allele counts, computed by bcftools from the VCF (all samples, cases only, controls
only), have an allele seen 1 to 9 times. Individual-level outputs (PCA scores, dosages, plink
and BCF genotype files, the VCF Zarr store) must block, with sample IDs read from the store.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from airlock.checks import Verdict, check_paths
from tests.checks_support import check, rules
from tests.conftest import require_tool

pytestmark = pytest.mark.slow

ALL = {"max_findings_per_rule": 10**6, "max_table_rows": 10**7}


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True)


def _bcftools_counts(vcf: Path, samples: Path | None, out: Path) -> pd.DataFrame:
    """AC/AN per variant from bcftools: for a subset of samples `view -S` recomputes them."""
    bcftools = require_tool("bcftools")
    if samples is None:
        view = subprocess.run([bcftools, "+fill-tags", str(vcf), "-Ou", "--", "-t", "AC,AN"],
                              check=True, capture_output=True)  # fmt: skip
    else:
        view = subprocess.run([bcftools, "view", "-S", str(samples), "-Ou", str(vcf)], check=True,
                              capture_output=True)  # fmt: skip
    query = subprocess.run(
        [bcftools, "query", "-H", "-f", "%ID\t%AC\t%AN\n", "-"],
        input=view.stdout,
        check=True,
        capture_output=True,
    )
    out.write_bytes(query.stdout)
    return pd.read_csv(out, sep="\t", dtype=str)


def _rare(counts: pd.DataFrame, t: int = 10) -> set[str]:
    """IDs of variants with an allele (REF or any ALT) seen 1..t-1 times."""
    rare = set()
    for vid, ac, an in counts.itertuples(index=False):
        alts = [int(x) for x in str(ac).split(",")]
        alleles = [*alts, int(an) - sum(alts)]
        if any(0 < a < t for a in alleles):
            rare.add(vid)
    return rare


def _blocked_ids(report, table: pd.DataFrame, id_column: str = "ID") -> set[str]:
    rows = [f.location.row for f in report.findings if f.rule == "minor-allele-count"]
    return set(table[id_column].iloc[[r - 1 for r in rows]])


@pytest.fixture(scope="module")
def plink_outputs(demo_cohorts, tmp_path_factory):
    plink2 = require_tool("plink2")
    cohort = demo_cohorts["dk"]
    out = tmp_path_factory.mktemp("plink2")
    base = ["--vcf", str(cohort.vcf), "--allow-extra-chr"]
    _run(plink2, *base, "--freq", "counts", "--geno-counts", "--hardy", "--out", "dk", cwd=out)
    _run(plink2, *base, "--freq", "--out", "dkf", cwd=out)
    _run(plink2, *base, "--pca", "3", "--out", "dk", cwd=out)
    _run(plink2, *base, "--export", "A", "--out", "dk", cwd=out)
    _run(plink2, *base, "--max-alleles", "2", "--make-bed", "--out", "dkb", cwd=out)
    _run(plink2, *base, "--make-pgen", "--out", "dkp", cwd=out)
    _run(
        plink2, *base, "--pheno", str(cohort.pheno), "--pheno-name", "t2d",
        "--covar", str(cohort.covar), "--glm",
        "cols=+a1countcc,+totallelecc,+a1freqcc,+a1count,+totallele,+a1freq",
        "--out", "dk", cwd=out,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def expected(demo_cohorts, plink_outputs):
    """bcftools' allele counts: all samples, cases (t2d = 2), controls (t2d = 1)."""
    cohort = demo_cohorts["dk"]
    pheno = pd.read_csv(cohort.pheno, sep="\t")
    strata = {}
    for name, value in (("cases", 2), ("controls", 1)):
        ids = plink_outputs / f"{name}.txt"
        ids.write_text("\n".join(pheno.loc[pheno.t2d == value, "#IID"]) + "\n")
        strata[name] = _bcftools_counts(cohort.vcf, ids, plink_outputs / f"{name}.counts")
    strata["all"] = _bcftools_counts(cohort.vcf, None, plink_outputs / "all.counts")
    return strata


@pytest.mark.parametrize("name", ["dk.acount", "dkf.afreq", "dk.gcount"])
def test_plink2_allele_tables__blocked_variants_match_bcftools(plink_outputs, expected, name):
    path = plink_outputs / name
    table = pd.read_csv(path, sep="\t", dtype={"ID": str})
    report = check(path, **ALL)
    want = _rare(expected["all"]) & set(table.ID)
    assert want, "the demo cohort has rare variants"
    assert _blocked_ids(report, table) == want
    assert report.verdict is Verdict.BLOCK


def test_plink2_hardy__genotype_counts(plink_outputs, expected):
    path = plink_outputs / "dk.hardy"
    table = pd.read_csv(path, sep="\t", dtype={"ID": str})
    report = check(path, **ALL)
    assert _blocked_ids(report, table) == _rare(expected["all"]) & set(table.ID)
    # a genotype seen in 1..9 people is a small cell
    small = table[["HOM_A1_CT", "HET_A1_CT", "TWO_AX_CT"]].isin(range(1, 10)).any(axis=1)
    rows = {f.location.row for f in report.findings if f.rule == "min-cell-count"}
    assert rows == {i + 1 for i in small.to_numpy().nonzero()[0]}


def test_plink2_glm__every_stratum_matches_bcftools(plink_outputs, expected):
    path = plink_outputs / "dk.t2d.glm.logistic.hybrid"
    table = pd.read_csv(path, sep="\t", dtype={"ID": str})
    report = check(path, **ALL)
    blocked = _blocked_ids(report, table)
    # a multi-allelic row shows one allele against the others pooled, so compare biallelic ones
    counts = expected["all"]
    biallelic = set(counts.iloc[:, 0][~counts.iloc[:, 1].str.contains(",")])
    rare = set().union(*(_rare(expected[s]) for s in ("all", "cases", "controls")))
    assert blocked & biallelic == rare & biallelic & set(table.ID)
    assert _rare(expected["cases"]) - _rare(expected["all"]), "a stratum adds rare variants"


def test_bcftools_query__ac_an_table(plink_outputs, expected):
    path = plink_outputs / "all.counts"
    table = pd.read_csv(path, sep="\t", dtype=str)
    report = check(path, **ALL)
    assert _blocked_ids(report, table, table.columns[0]) == _rare(expected["all"])


def test_individual_level_outputs__block_with_the_store_sample_ids(demo_cohorts, plink_outputs):
    from tresor.io import open_store

    ids = [str(s) for s in open_store(demo_cohorts["dk"].store)["sample_id"].values]
    for name, rule in [
        ("dk.eigenvec", "individual-level.one-row-per-sample"),
        ("dk.raw", "individual-level.genotypes"),
        ("dk.eigenvec", "individual-level.sample-id"),
        ("dkb.bed", "individual-level.format"),
        ("dkp.pgen", "individual-level.format"),
    ]:
        report = check(plink_outputs / name, sample_ids=ids)
        assert rule in rules(report, Verdict.BLOCK), (name, report.findings)


def test_genotype_files__renamed_bcf_and_the_zarr_store_block(demo_cohorts, tmp_path):
    cohort = demo_cohorts["dk"]
    bcf = tmp_path / "summary.csv"
    _run(require_tool("bcftools"), "view", "-Ob", "-o", str(bcf), str(cohort.vcf), cwd=tmp_path)
    assert "individual-level.format" in rules(check(bcf), Verdict.BLOCK)
    copied = tmp_path / "copy.vcz"
    shutil.copytree(cohort.store, copied)
    reports = list(check_paths([copied]))
    assert [r.findings[0].rule for r in reports] == ["individual-level.format"]
