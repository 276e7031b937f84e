"""Every analysis on every shape of callset (tests/vcf_fixtures.py), against plink2 and bcftools
where they define the same result, and against a hand-computed expectation where they differ
(the differences are the conventions of docs/stats.md).

plink2 reads each VCF with its sex-aware rules (``--update-sex``), half-calls as missing
(``--vcf-half-call m``) and contig names as stored (``--output-chr chrM``).
"""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from tests.conftest import bcftools_counts, require_tool
from tests.integration.test_stats_plink import assert_matches_printed
from tests.unit.test_stats_aggregation import hwe_by_enumeration
from tresor.io import open_store
from tresor.stats import reports
from tresor.stats.tables import notes_path

DIGITS = 12
DIPLOID_ONLY = ("half_calls", "gvcf", "phased_dosages", "multiallelic", "no_ids")


def read(path, **kw) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", na_values=["NA"], keep_default_na=False, **kw)


def suffix(prefix, name):
    return prefix.with_name(prefix.name + name)


class Plink2:
    """plink2 on the fixtures: ``pfile(name)`` is the fileset made from NAME.vcf.gz,
    ``run(prefix, name, *args)`` runs an analysis on it and returns ``PREFIX``'s path."""

    def __init__(self, directory):
        self.directory = directory
        self.binary = require_tool("plink2")

    def pfile(self, name: str) -> str:
        return str(self.directory / name)

    def run(self, prefix: str, *args: str):
        target = self.directory / prefix
        subprocess.run(
            [self.binary, "--output-chr", "chrM", *args, "--out", str(target)],
            check=True,
            capture_output=True,
        )
        return target

    def analyse(self, prefix: str, name: str, *args: str):
        return self.run(prefix, "--pfile", self.pfile(name), *args)


@pytest.fixture(scope="module")
def plink(vcf_fixtures, tmp_path_factory):
    """plink2 --make-pgen of every readable fixture, with sex and IDs for the missing ones."""
    runner = Plink2(tmp_path_factory.mktemp("plink2"))
    for name, w in vcf_fixtures.items():
        if w.store is None:
            continue
        sex = ["--update-sex", str(w.sex)] if w.sex else []
        ids = ["--set-missing-var-ids", "@:#:$r:$a"]
        runner.run(name, "--vcf", str(w.vcf), "--vcf-half-call", "m", *sex, *ids, "--make-pgen")
    return runner


@pytest.fixture(scope="module")
def ours(vcf_fixtures, tmp_path_factory):
    """tresor's freq, hardy and missing reports of every readable fixture, unrounded."""
    out = tmp_path_factory.mktemp("tresor")
    prefixes = {}
    for name, w in vcf_fixtures.items():
        if w.store is None:
            continue
        ds = open_store(w.store)
        prefix = out / name
        common = {"progress": False, "digits": DIGITS}
        reports.write_freq(ds, prefix, counts=True, **common)
        reports.write_hardy(ds, prefix, **common)
        reports.write_missing(ds, prefix, **common)
        prefixes[name] = prefix
    return prefixes


def test_freq__equals_bcftools_except_half_calls_and_polyploid_calls(vcf_fixtures, ours):
    """bcftools counts each called allele: haploid calls one, chrM's heteroplasmic 0/1 two, as
    we do. It differs where we follow plink2 (a half-call ./1 is missing) and where its
    +fill-tags reads a triploid call as diploid (0/1/1 -> 0/1)."""
    differ = {
        # ./1 and 0/. are missing: 0/1 1/1 0/0 give 3 of 6 (bcftools 4 of 8)
        ("half_calls", 100): (3, 6),
        # ./0 missing: 0/1 0/1 1/1 0/0 0/1 give 5 of 10 (bcftools 5 of 11)
        ("half_calls", 200): (5, 10),
        # 0/1/1 has three alleles, two ALT: 2+0+1+2+0 of 3+2+2+2+2 (bcftools 4 of 10)
        ("triploid", 2000): (5, 11),
    }
    checked = 0
    for name, prefix in ours.items():
        a = read(suffix(prefix, ".acount"))
        b = bcftools_counts(vcf_fixtures[name].vcf)
        assert list(a["POS"]) == list(b["pos"]), name
        for (_, row), (_, ref) in zip(a.iterrows(), b.iterrows(), strict=True):
            expected = differ.get((name, row["POS"]), (ref["ac"], ref["an"]))
            assert (str(row["ALT_CTS"]), row["OBS_CT"]) == (str(expected[0]), expected[1]), (
                name,
                row["POS"],
            )
            checked += 1
    assert checked > 400


def test_freq_and_missing__equal_plink2_with_its_sex_rules(vcf_fixtures, ours, plink):
    """With sex from the sex file, plink2 counts a man's chrX and chrY calls as one allele, as
    we do; on chrM it counts a heteroplasmic 0/1 as half an allele (we count the call as
    diploid, as bcftools does), and it reads a triploid call as missing."""
    differ = {("chrm", 16519): ("2.5", 5), ("triploid", 2000): ("3", 8)}
    for name, prefix in ours.items():
        qc = plink.analyse(f"{name}.qc", name, "--freq", "counts", "cols=+pos", "--missing",
                           "vcols=+pos")  # fmt: skip
        text = {"dtype": {"ALT_CTS": str}}
        a, b = read(suffix(prefix, ".acount"), **text), read(suffix(qc, ".acount"), **text)
        for pos, (ac, obs) in [(p, v) for (n, p), v in differ.items() if n == name]:
            row = b["POS"] == pos
            assert (b.loc[row, "ALT_CTS"].item(), b.loc[row, "OBS_CT"].item()) == (ac, obs)
            b = b[~row]
            a = a[a["POS"] != pos]
        if name == "gvcf":  # plink2's $a is the first ALT only; ours the whole ALT column
            a, b = a.drop(columns="ID"), b.drop(columns="ID")
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
        if name == "triploid":  # plink2 reads T1's 0/1/1 as missing; we count it as called
            ours_t1 = read(suffix(prefix, ".smiss")).set_index("#IID").loc["T1", "MISSING_CT"]
            theirs_t1 = read(suffix(qc, ".smiss")).set_index("#IID").loc["T1", "MISSING_CT"]
            assert (ours_t1, theirs_t1) == (0, 1)
            continue
        for table in (".smiss", ".vmiss"):
            pd.testing.assert_frame_equal(
                read(suffix(prefix, table)).drop(columns="ID", errors="ignore"),
                read(suffix(qc, table)).drop(columns="ID", errors="ignore"),
            )


def test_hardy__diploid_calls_as_plink2_others_left_out_with_a_note(vcf_fixtures, ours, plink):
    exact = ["HOM_A1_CT", "HET_A1_CT", "TWO_AX_CT"]
    for name in DIPLOID_ONLY:
        h = plink.analyse(f"{name}.h", name, "--hardy", "cols=+pos")
        a, b = read(suffix(ours[name], ".hardy")), read(suffix(h, ".hardy"))
        pd.testing.assert_frame_equal(
            a[["POS", "A1", "AX", *exact]], b[["POS", "A1", "AX", *exact]]
        )
        assert_matches_printed(a["P"], b["P"], rtol=1e-6)
        assert not notes_path(suffix(ours[name], ".hardy")).exists(), name

    # chrX: women's calls tested; men's haploid calls left out. plink2 writes chrX to .hardy.x
    # with a sex-aware test instead (Graffelman and Weir): same women's counts, another P.
    name = "sex_chromosomes"
    h = plink.analyse(f"{name}.h", name, "--hardy", "cols=+pos")
    a = read(suffix(ours[name], ".hardy"))
    auto, x = a[a["#CHROM"] == "chr21"], a[a["#CHROM"] == "chrX"]
    b = read(suffix(h, ".hardy"))
    pd.testing.assert_frame_equal(auto[exact].reset_index(drop=True), b[exact])
    assert_matches_printed(auto["P"], b["P"], rtol=1e-6)
    bx = read(suffix(h, ".hardy.x"))
    women = ["FEMALE_HOM_A1_CT", "FEMALE_HET_A1_CT", "FEMALE_TWO_AX_CT"]
    np.testing.assert_array_equal(x[exact].to_numpy(), bx[women].to_numpy())
    expected = [hwe_by_enumeration(h, a1, ax) for a1, h, ax in x[exact].to_numpy()]
    np.testing.assert_allclose(x["P"], expected, rtol=1e-9)
    notes = read(notes_path(suffix(ours[name], ".hardy")))
    assert list(notes["POS"]) == list(x["POS"])
    g = open_store(vcf_fixtures[name].store).call_genotype.values
    men_called = ((g[:, :20, 0] >= 0) & (g[:, :20, 1] == -2)).sum(axis=1)[-len(x) :]
    assert min(men_called) < 20  # a missing call is not left out: it is missing
    assert notes["NOTE"].tolist() == [
        f"{n} haploid calls left out: the HWE test is defined on diploid calls" for n in men_called
    ]

    # all haploid: no test at all, P is NA (plink2: "Skipping 150 haploid variants")
    a = read(suffix(ours["haploid"], ".hardy"))
    assert len(a) == 150 and a["P"].isna().all() and (a[exact].sum(axis=1) == 0).all()
    notes = read(notes_path(suffix(ours["haploid"], ".hardy")))
    assert len(notes) == 150 and notes["NOTE"].str.endswith("so P is NA").all()

    # the triploid call is left out: 0/0 0/1 1/1 ./. 0/0 remain (hom 2, het 1, two ALT 1)
    a = read(suffix(ours["triploid"], ".hardy")).set_index("POS")
    assert a.loc[2000, exact].tolist() == [2, 1, 1]
    assert a.loc[2000, "P"] == pytest.approx(hwe_by_enumeration(1, 2, 1))
    notes = read(notes_path(suffix(ours["triploid"], ".hardy")))
    assert notes["POS"].tolist() == [2000]
    assert notes["NOTE"].item().startswith("1 calls with more than two alleles left out")


def _glm(ours_path, plink_path, rows=None):
    """Our GWAS rows merged with plink2's (on POS and A1), both restricted to ``rows``."""
    a, b = read(ours_path), read(plink_path)
    if rows is not None:
        a, b = a[rows(a)], b[rows(b)]
    m = a.merge(b, on=["POS", "A1"], suffixes=("", "_plink2"), validate="1:1")
    assert len(m) == len(a) == len(b)
    return m


def _assert_glm_equal(m, columns) -> None:
    for col in ("OBS_CT", "ERRCODE", *(["FIRTH?"] if "FIRTH?" in m else [])):
        assert (m[col] == m[f"{col}_plink2"]).all(), col
    for col in columns:
        assert_matches_printed(m[col], m[f"{col}_plink2"], rtol=1e-5, atol=1e-6)


def test_gwas__haploid_calls_are_dosage_0_or_1_as_plink2_codes_men(vcf_fixtures, plink, tmp_path):
    """chrY of men and chrX of men (haploid) against plink2 with their sex: linear and logistic
    regression agree to plink2's printed digits. On chrX plink2 needs --xchr-model 1 (men 0/1,
    sex added as a covariate: its default, model 2, codes men 0/2); we take sex from --covar."""
    w = vcf_fixtures["haploid"]
    ds = open_store(w.store)
    reports.write_gwas(ds, tmp_path / "hap", w.pheno, ["qt", "cc"], plots=False, digits=DIGITS)
    theirs = plink.analyse("hap.glm", "haploid", "--pheno", str(w.pheno), "--glm", "hide-covar",
                           "allow-no-covars")  # fmt: skip
    m = _glm(tmp_path / "hap.qt.glm.linear", suffix(theirs, ".qt.glm.linear"))
    _assert_glm_equal(m, ["BETA", "SE", "T_STAT", "P"])
    assert len(m) == 150
    m = _glm(tmp_path / "hap.cc.glm.logistic.hybrid", suffix(theirs, ".cc.glm.logistic.hybrid"))
    plain = m["FIRTH?"] == "N"
    assert plain.sum() > 100
    _assert_glm_equal(m[plain & (m["OBS_CT"] % 4 == 0)], ["OR", "P"])

    w = vcf_fixtures["sex_chromosomes"]
    ds = open_store(w.store)
    out = tmp_path / "sex"
    reports.write_gwas(ds, out, w.pheno, ["qt"], covar=w.covar, plots=False, digits=DIGITS)
    on_x = plink.analyse("sx", "sex_chromosomes", "--pheno", str(w.pheno), "--chr", "chrX",
                         "--glm", "hide-covar", "allow-no-covars", "--xchr-model", "1")  # fmt: skip
    on_21 = plink.analyse("sa", "sex_chromosomes", "--pheno", str(w.pheno), "--covar",
                          str(w.covar), "--not-chr", "chrX", "--glm", "hide-covar")  # fmt: skip
    for chrom, theirs in (("chrX", on_x), ("chr21", on_21)):
        m = _glm(
            suffix(out, ".qt.glm.linear"),
            suffix(theirs, ".qt.glm.linear"),
            rows=lambda t, c=chrom: t["#CHROM"] == c,
        )
        _assert_glm_equal(m, ["BETA", "SE", "T_STAT", "P"])


def _ols(dosage, y, covariates=()):
    ok = ~np.isnan(dosage)
    x = np.column_stack([np.ones(ok.sum()), *(c[ok] for c in covariates), dosage[ok]])
    return sm.OLS(y[ok], x).fit()


def test_gwas__triploid_dosage_0_to_3_and_multiallelic_major_allele(vcf_fixtures, plink, tmp_path):
    """Where plink2 does something else, statsmodels on the hand-coded dosages: a triploid call
    0/1/1 has REF dosage 1 (plink2 reads it as missing), and at rs100 the major allele is G (10
    copies against A's 9), so we test A and C; plink2 2.00a3.5 omits REF instead."""
    w = vcf_fixtures["triploid"]
    reports.write_gwas(open_store(w.store), tmp_path / "tri", w.pheno, ["qt"], plots=False,
                       digits=DIGITS)  # fmt: skip
    a = read(tmp_path / "tri.qt.glm.linear").set_index("POS")
    y = np.array([0.5, 1.4, 2.3, 2.9, 0.7, 0.2])
    # rs2 C/T: 0/1/1 0/0 0/1 1/1 ./. 0/0; C 1+2+1+0+2 = 6 copies, T 2+0+1+2+0 = 5: T tested
    t_dosage = np.array([2, 0, 1, 2, np.nan, 0])
    fit = _ols(t_dosage, y)
    assert a.loc[2000, "A1"] == "T" and a.loc[2000, "OBS_CT"] == 5
    assert a.loc[2000, "BETA"] == pytest.approx(fit.params[-1], rel=1e-9)
    assert a.loc[2000, "SE"] == pytest.approx(fit.bse[-1], rel=1e-9)
    theirs = plink.analyse("tri.glm", "triploid", "--pheno", str(w.pheno), "--glm",
                           "allow-no-covars")  # fmt: skip
    m = _glm(
        tmp_path / "tri.qt.glm.linear",
        suffix(theirs, ".qt.glm.linear"),
        rows=lambda t: t["POS"] != 2000,
    )
    _assert_glm_equal(m, ["BETA", "SE", "P"])

    w = vcf_fixtures["multiallelic"]
    reports.write_gwas(open_store(w.store), tmp_path / "multi", w.pheno, ["qt"], plots=False,
                       digits=DIGITS)  # fmt: skip
    a = read(tmp_path / "multi.qt.glm.linear")
    rs100 = a[a["POS"] == 100].set_index("A1")
    assert sorted(rs100.index) == ["A", "C"]
    y = pd.read_csv(w.pheno, sep="\t")["qt"].to_numpy()
    a_dosage = np.array([2, 2, 2, 2, 1, 0, 0, 0, 0, 0, np.nan, np.nan])
    c_dosage = np.array([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, np.nan, np.nan])
    ok = ~np.isnan(a_dosage)
    fit = sm.OLS(y[ok], np.column_stack([np.ones(ok.sum()), a_dosage[ok], c_dosage[ok]])).fit()
    np.testing.assert_allclose(rs100.loc[["A", "C"], "BETA"], fit.params[1:], rtol=1e-9)
    np.testing.assert_allclose(rs100.loc[["A", "C"], "SE"], fit.bse[1:], rtol=1e-9)
    theirs = plink.analyse("multi.glm", "multiallelic", "--pheno", str(w.pheno), "--glm",
                           "allow-no-covars")  # fmt: skip
    table = read(suffix(theirs, ".qt.glm.linear"))
    assert sorted(table.loc[table["POS"] == 100, "A1"]) == ["C", "G"]
    m = _glm(
        tmp_path / "multi.qt.glm.linear",
        suffix(theirs, ".qt.glm.linear"),
        rows=lambda t: t["POS"] != 100,
    )
    _assert_glm_equal(m, ["BETA", "SE", "P"])


def exact_pca(g: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``n`` eigenpairs of Z'Z / M by hand: each call standardized by its own ploidy k
    (alleles present), (d - k p) / sqrt(k p (1 - p)), missing calls 0, M variants that vary."""
    ploidy = (g >= 0).sum(-1)
    missing = (g == -1).any(-1)
    dosage = (g > 0).sum(-1)
    p = np.where(missing, 0, dosage).sum(1) / np.where(missing, 0, ploidy).sum(1)
    k = np.where(missing, 1, ploidy)
    z = (dosage - k * p[:, None]) / np.sqrt(k * (p * (1 - p))[:, None])
    z = np.where(missing, 0.0, z)[(p > 0) & (p < 1)]
    values, vectors = np.linalg.eigh(z.T @ z / len(z))
    return values[::-1][:n], vectors[:, ::-1][:, :n]


def _assert_same_components(ours: pd.DataFrame, vectors: np.ndarray) -> None:
    for i in range(vectors.shape[1]):
        r = np.corrcoef(ours[f"PC{i + 1}"], vectors[:, i])[0, 1]
        assert abs(r) > 0.9999, (i, r)


def test_pca__ploidy_1_store_as_exact_and_as_plink2_reads_the_same_calls(
    vcf_fixtures, plink, tmp_path
):
    """chrY of men: our PCA equals the exact eigendecomposition with haploid calls as one
    allele. plink2 leaves chrY out of PCA; renamed to an autosome it reads each haploid call
    as homozygous diploid (0 or 2), which doubles G: the same components, twice the
    eigenvalues."""
    w = vcf_fixtures["haploid"]
    ds = open_store(w.store)
    out = tmp_path / "hap"
    options = {"prune": False, "min_maf": 0.0, "min_call_rate": 0.0, "plot": False}
    reports.write_pca(ds, out, n_components=4, progress=False, digits=DIGITS, **options)
    values, vectors = exact_pca(ds.call_genotype.values, 4)
    ours = read(suffix(out, ".eigenvec"))
    np.testing.assert_allclose(np.loadtxt(suffix(out, ".eigenval")), values, rtol=1e-6)
    _assert_same_components(ours, vectors)
    assert len(suffix(out, ".prune.in").read_text().split()) == 150

    renamed = tmp_path / "chr1.vcf.gz"
    (tmp_path / "names").write_text("chrY chr1\n")
    subprocess.run(
        [require_tool("bcftools"), "annotate", "--rename-chrs", str(tmp_path / "names"),
         str(w.vcf), "-Oz", "-o", str(renamed)],
        check=True, capture_output=True,
    )  # fmt: skip
    pfile = str(plink.run("hap1", "--vcf", str(renamed), "--make-pgen"))
    # plink2 wants 50 samples to estimate frequencies for PCA itself; give it exact counts
    freq = plink.run("hap1.freq", "--pfile", pfile, "--freq", "counts")
    theirs = plink.run(
        "hap1.pca", "--pfile", pfile, "--read-freq", str(suffix(freq, ".acount")),
        "--pca", "4", "meanimpute",
    )  # fmt: skip
    np.testing.assert_allclose(2 * values, np.loadtxt(suffix(theirs, ".eigenval")), rtol=1e-5)
    _assert_same_components(
        ours, read(suffix(theirs, ".eigenvec"))[[f"PC{i}" for i in range(1, 5)]].to_numpy()
    )


def test_pca__mixed_ploidy_store_as_exact(vcf_fixtures, tmp_path):
    """chr21 diploid and chrX with men haploid: each call standardized by its own ploidy."""
    ds = open_store(vcf_fixtures["sex_chromosomes"].store)
    out = tmp_path / "sex"
    options = {"prune": False, "min_maf": 0.0, "min_call_rate": 0.0, "plot": False}
    reports.write_pca(ds, out, n_components=3, progress=False, digits=DIGITS, **options)
    values, vectors = exact_pca(ds.call_genotype.values, 3)
    np.testing.assert_allclose(np.loadtxt(suffix(out, ".eigenval")), values, rtol=1e-6)
    _assert_same_components(read(suffix(out, ".eigenvec")), vectors)
    # and LD pruning reads the same calls: the pruned run uses a subset, still exact
    reports.write_pca(ds, out, n_components=3, progress=False, digits=DIGITS, plot=False,
                      min_maf=0.0, min_call_rate=0.0)  # fmt: skip
    kept = suffix(out, ".prune.in").read_text().split()
    ids = [
        f"{c}:{p}:C:T"
        for c, p in zip(
            ds.contig_id.values[ds.variant_contig.values], ds.variant_position.values, strict=True
        )
    ]
    index = [ids.index(k) for k in kept]
    assert 50 < len(index) < len(ids)
    values, vectors = exact_pca(ds.call_genotype.values[index], 3)
    np.testing.assert_allclose(np.loadtxt(suffix(out, ".eigenval")), values, rtol=1e-6)
    _assert_same_components(read(suffix(out, ".eigenvec")), vectors)


def test_prune_in__without_ids_names_variants_so_plink2_extract_keeps_them(
    vcf_fixtures, plink, tmp_path
):
    """No IDs in the VCF: .prune.in lists CHROM:POS:REF:ALT, which plink2 gives with
    --set-all-var-ids @:#:$r:$a (and --output-chr chrM), so --extract keeps exactly them."""
    ds = open_store(vcf_fixtures["no_ids"].store)
    out = tmp_path / "noid"
    reports.write_pca(ds, out, n_components=4, progress=False, plot=False)
    kept = suffix(out, ".prune.in").read_text().split()
    assert 20 < len(kept) < ds.sizes["variants"] and len(set(kept)) == len(kept)
    assert all(k.startswith("chr21:") and len(k.split(":")) == 4 for k in kept)
    pfile = str(plink.run("noid", "--vcf", str(vcf_fixtures["no_ids"].vcf), "--set-all-var-ids",
                          "@:#:$r:$a", "--make-pgen"))  # fmt: skip
    theirs = plink.run("noid.pca", "--pfile", pfile, "--extract", str(suffix(out, ".prune.in")),
                       "--pca", "4", "meanimpute")  # fmt: skip
    log = suffix(theirs, ".log").read_text()
    assert f"{len(kept)} variants remaining after main filters" in log
    np.testing.assert_allclose(
        np.loadtxt(suffix(out, ".eigenval")), np.loadtxt(suffix(theirs, ".eigenval")), rtol=0.01
    )


def test_het__diploid_calls_as_plink2_haploid_and_polyploid_calls_left_out(
    vcf_fixtures, plink, tmp_path
):
    """F is defined on diploid calls. On chr21 of the mixed store ours equals plink2 --het
    (given the allele counts, as it wants 50 samples to estimate them); a man's chrY has no
    diploid call (OBS_CT 0, F NA); the triploid call is outside O(HOM) and OBS_CT."""
    ds = open_store(vcf_fixtures["sex_chromosomes"].store)
    ours = tmp_path / "sex"
    chr21 = np.flatnonzero(ds.variant_contig.values == 0)
    reports.write_het(ds.isel(variants=chr21), ours, progress=False, digits=DIGITS)
    freq = plink.analyse("sex.freq", "sex_chromosomes", "--chr", "chr21", "--freq", "counts")
    theirs = plink.analyse("sex.het", "sex_chromosomes", "--chr", "chr21", "--read-freq",
                           str(suffix(freq, ".acount")), "--het")  # fmt: skip
    a, b = read(suffix(ours, ".het")), read(suffix(theirs, ".het"))
    assert (a[["#IID", "O(HOM)", "OBS_CT"]] == b[["#IID", "O(HOM)", "OBS_CT"]]).all().all()
    for col in ("E(HOM)", "F"):
        assert_matches_printed(a[col], b[col], rtol=1e-9)

    reports.write_het(open_store(vcf_fixtures["haploid"].store), tmp_path / "hap", progress=False)
    hap = read(tmp_path / "hap.het")
    assert (hap["OBS_CT"] == 0).all() and (hap["O(HOM)"] == 0).all() and hap["F"].isna().all()

    reports.write_het(open_store(vcf_fixtures["triploid"].store), tmp_path / "tri", progress=False)
    tri = read(tmp_path / "tri.het").set_index("#IID")
    # T1: 0/0 (hom), 0/1/1 (left out), 0/1 (het); T5: 0/0, ./. (missing), 1/1
    assert tri.loc["T1", ["O(HOM)", "OBS_CT"]].tolist() == [1, 2]
    assert tri.loc["T5", ["O(HOM)", "OBS_CT"]].tolist() == [2, 2]


def test_pca__triploid_call_left_out_and_noted(vcf_fixtures, tmp_path):
    """The triploid call is missing to PCA (mean-imputed) and P.pca.notes says so."""
    ds = open_store(vcf_fixtures["triploid"].store)
    out = tmp_path / "tri"
    reports.write_pca(ds, out, n_components=1, prune=False, min_maf=0.0, min_call_rate=0.0,
                      plot=False, progress=False)  # fmt: skip
    notes = read(suffix(out, ".pca.notes"))
    assert notes["ID"].tolist() == ["rs2"]
    assert notes["NOTE"].item().startswith("1 calls with more than two alleles left out")
    g = ds.call_genotype.values.copy()
    g[1, 0] = -1  # T1's 0/1/1, as PCA reads it
    values, _ = exact_pca(g[:, :, :2], 1)
    assert np.loadtxt(suffix(out, ".eigenval")).item() == pytest.approx(values[0], rel=1e-6)
