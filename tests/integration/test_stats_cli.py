"""The tresor freq / hardy / gwas / pca commands on real stores: selections and PCA against
plink2, and the errors a researcher sees."""

from __future__ import annotations

import dataclasses
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


@pytest.fixture(scope="module")
def packed_stores(vcf_fixtures, demo_cohorts, tmp_path_factory):
    """Packed copies of the demo cohort dk and of some fixtures: the CLI reads them without
    xarray or Dask (tresor.stats.direct)."""
    from tests.integration.test_stats_packed import copy_store
    from tresor.stats.packed import pack_store

    out = tmp_path_factory.mktemp("packed-cli")
    stores = {"demo": demo_cohorts["dk"].store}
    for name in ("haploid", "half_calls", "triploid", "sex_chromosomes", "multiallelic", "gvcf"):
        stores[name] = vcf_fixtures[name].store
    copies = {}
    for name, store in stores.items():
        (out / name).mkdir()
        copies[name] = copy_store(store, out / name)
        pack_store(copies[name])
    return copies


@pytest.mark.parametrize(
    "name", ["demo", "haploid", "half_calls", "triploid", "sex_chromosomes", "multiallelic", "gvcf"]
)
def test_cli__freq_hardy_missing_of_a_packed_store_the_same_files(
    packed_stores, vcf_fixtures, demo_cohorts, name, tmp_path
):
    """Without xarray or Dask, the same bytes as the Dataset way, with every option."""
    store = packed_stores[name]
    plain = demo_cohorts["dk"].store if name == "demo" else vcf_fixtures[name].store
    ids = open_store(plain)["sample_id"].values.tolist()
    keep = tmp_path / "keep.txt"
    keep.write_text("\n".join(map(str, ids[::2])) + "\n")
    ds = open_store(plain)
    contig = int(ds["variant_contig"].values[0])
    positions = ds["variant_position"].values[ds["variant_contig"].values == contig]
    region = f"{ds['contig_id'].values[contig]}:1-{int(np.median(positions))}"
    variants = [
        [],
        ["--counts"],
        ["--keep", keep],
        ["--region", region, "--min-call-rate", "0.5"],
        ["--min-maf", "0.05"],
    ]
    for i, options in enumerate(variants):
        for command in ("freq", "hardy", "missing"):
            if command != "freq" and "--counts" in options:
                continue
            if command == "missing":  # no filters
                options = [o for o in options if o not in ("--min-maf", "--min-call-rate", "0.05",
                                                           "0.5")]  # fmt: skip
            for kind, path in (("packed", store), ("plain", plain)):
                result = CliRunner().invoke(
                    cli, [command, str(path), *map(str, options), "--out",
                          str(tmp_path / f"{kind}{i}"), "--quiet"],
                )  # fmt: skip
                assert result.exit_code == 0, (kind, command, options, result.output)
            notes = [line for line in result.stderr.splitlines() if line.startswith("note")]
            assert all(str(tmp_path / "plain") in n for n in notes)
        ours = sorted(p.name[len(f"packed{i}") :] for p in tmp_path.glob(f"packed{i}.*"))
        theirs = sorted(p.name[len(f"plain{i}") :] for p in tmp_path.glob(f"plain{i}.*"))
        assert ours == theirs and ours
        for suffix in ours:
            a = (tmp_path / f"packed{i}{suffix}").read_bytes()
            assert a == (tmp_path / f"plain{i}{suffix}").read_bytes(), (options, suffix)


def test_cli__freq_of_a_packed_store_imports_no_xarray_dask_or_zarr(packed_stores, tmp_path):
    """The CLI imports what the command needs: for freq on a packed store, NumPy and numba."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tresor.cli import cli\n"
        "try:\n"
        f"    cli(['freq', {str(packed_stores['demo'])!r}, '--out', {str(tmp_path / 'x')!r},"
        " '--quiet'])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'xarray', 'dask', 'zarr', 'pandas', 'distributed'})\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert (tmp_path / "x.afreq").stat().st_size > 1000


def test_cli__a_stale_companion_is_said_and_not_used(vcf_fixtures, tmp_path):
    """One changed call in the store: freq says the packed genotypes are stale and how to
    refresh them, and writes what the store gives."""
    import subprocess
    import sys

    import zarr

    from tests.integration.test_stats_packed import copy_store
    from tresor.stats.packed import pack_store

    plain = vcf_fixtures["sex_chromosomes"].store
    (tmp_path / "copy").mkdir()
    store = copy_store(plain, tmp_path / "copy")
    pack_store(store)
    array = zarr.open_array(str(store), path="call_genotype", mode="r+")
    array[3, 5] = [1, 1] if array[3, 5].tolist() != [1, 1] else [0, 0]
    (tmp_path / "copy" / "keep").mkdir()
    fresh = copy_store(store, tmp_path / "copy" / "keep")  # the changed store, no companion
    for name, path in (("stale", store), ("plain", fresh), ("before", plain)):
        freq = [sys.executable, "-m", "tresor", "freq", str(path), "--out", str(tmp_path / name)]
        result = subprocess.run([*freq, "--quiet"], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        if name == "stale":
            assert "StalePackWarning" in result.stderr, result.stderr
            assert "tresor datasets pack ID" in result.stderr
        else:
            assert "StalePackWarning" not in result.stderr
    stale, fresh_table, before = (tmp_path / f"{n}.afreq" for n in ("stale", "plain", "before"))
    assert stale.read_bytes() == fresh_table.read_bytes() != before.read_bytes()


#: (command, the option the error names, what it says)
ERRORS = [
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
        (["missing", "haploid", "--region", "chrY:1-2"], "--region", "no variant lies in"),
]  # fmt: skip
#: freq, hardy and missing go without xarray on a packed store: the same errors there
PACKED_ERRORS = [e for e in ERRORS if e[0][0] in ("freq", "hardy", "missing")]


@pytest.mark.parametrize(
    ("command", "option", "says", "packed"),
    [*((*e, False) for e in ERRORS), *((*e, True) for e in PACKED_ERRORS)],
)  # fmt: skip
def test_cli__researcher_fixable_errors_are_one_line_naming_the_option(
    vcf_fixtures, packed_stores, tmp_path, command, option, says, packed
):
    """Each error a researcher can fix by changing an option: exit status 1, one line on
    stderr that names the option (with its value), no traceback, no output file left; the same
    with a packed companion (freq, hardy and missing then go without xarray)."""
    name, w = command[1], vcf_fixtures[command[1]]
    if packed:
        w = dataclasses.replace(w, store=packed_stores[name])
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
