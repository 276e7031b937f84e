"""The federated merge on the demo cohorts: exact against the pooled computation over the
concatenated cohorts, independent of the coordinator and of signatures (bundles built by hand)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.unit.federation_data import genotypes, make_bundle, open_cohort, pooled_fit
from tresor.federation.alignment import align
from tresor.federation.analyses import phenotype_table
from tresor.federation.merge import MergeError, merge

COHORTS = ("dk", "se", "uk")
GWAS = {"phenotype": "ldl", "covariates": ["age", "sex"]}
MAC = 10


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=["NA"])


@pytest.fixture(scope="module")
def cohort_data(demo_cohorts):
    out = {}
    for c in COHORTS:
        out[c] = genotypes(demo_cohorts[c])
    return out


@pytest.fixture(scope="module")
def phenotypes(demo_cohorts):
    """Each node's phenotype table; se misses ldl for five samples (they leave se's fit)."""
    tables = {c: phenotype_table([demo_cohorts[c].pheno, demo_cohorts[c].covar]) for c in COHORTS}
    tables["se"].iloc[:5, tables["se"].columns.get_loc("ldl")] = "NA"
    return tables


@pytest.fixture(scope="module")
def outputs(demo_cohorts, phenotypes, tmp_path_factory):
    """Every analysis run in every node: {(analysis, cohort): out_dir}."""
    from tresor.federation.analyses import REGISTRY

    root = tmp_path_factory.mktemp("node-outputs")
    runs = {
        "allele_counts": {},
        "hwe_counts": {},
        "linear_gwas_sufficient_statistics": GWAS,
        "gwas_summary_statistics": GWAS,
    }
    out = {}
    for c in COHORTS:
        ds = open_cohort(demo_cohorts[c])
        for name, params in runs.items():
            d = root / c / name
            REGISTRY[name].run(ds, phenotypes[c], params, min_minor_allele_count=MAC, out_dir=d)
            out[name, c] = d
    return out


def merged(outputs, analysis, tmp_path, *, replace=None):
    bundles = [
        make_bundle(tmp_path / "bundles", c, (replace or {}).get(c, outputs[analysis, c]))
        for c in COHORTS
    ]
    return merge(bundles, tmp_path / "merged"), bundles


def pooled_counts(cohort_data) -> pd.DataFrame:
    """AC, AN per node and in total, on the sites biallelic in every cohort's store."""
    frames = []
    for c in COHORTS:
        keys, dosage, _ = cohort_data[c]
        frames.append(
            keys.assign(
                **{
                    f"AC_{c}": np.nansum(dosage, axis=1).astype(int),
                    f"AN_{c}": 2 * (~np.isnan(dosage)).sum(axis=1),
                }
            )
        )
    table = frames[0]
    for f in frames[1:]:
        table = table.merge(f, on=["CHROM", "POS", "REF", "ALT"], how="outer")
    return table


def passes(ac, an):
    return ((ac == 0) | (ac >= MAC)) & ((an - ac == 0) | (an - ac >= MAC))


# -- allele counts ------------------------------------------------------------------------------
def test_merge_allele_counts__equal_the_pooled_counts_exactly(outputs, cohort_data, tmp_path):
    result, _ = merged(outputs, "allele_counts", tmp_path)
    table = read(result.tables[0])
    pooled = pooled_counts(cohort_data)
    in_all = pooled.dropna()
    reported_everywhere = in_all[
        np.logical_and.reduce([passes(in_all[f"AC_{c}"], in_all[f"AN_{c}"]) for c in COHORTS])
    ]
    complete = table[table["COMPLETE"] == "Y"]
    assert len(complete) > 500
    both = complete.merge(
        reported_everywhere,
        left_on=["#CHROM", "POS", "REF", "ALT"],
        right_on=["CHROM", "POS", "REF", "ALT"],
    )
    # every variant that every node reports is a complete row, and nothing else is
    assert len(both) == len(complete) == len(reported_everywhere)
    assert (both["ALT_CTS"] == sum(both[f"AC_{c}"] for c in COHORTS)).all()
    assert (both["OBS_CT"] == sum(both[f"AN_{c}"] for c in COHORTS)).all()
    assert (complete["NODES"] == "dk,se,uk").all()
    assert result.verdicts == {"federated.acount": "pass"}


def test_merge_allele_counts__a_variant_missing_from_a_store_is_merged_over_the_others(
    outputs, cohort_data, tmp_path
):
    """The stated rule: pooled over the nodes that report it, marked incomplete, and the absent
    node's samples are not counted (AN is not padded with them)."""
    result, _ = merged(outputs, "allele_counts", tmp_path)
    table = read(result.tables[0])
    pooled = pooled_counts(cohort_data)
    absent_in_uk = pooled[
        pooled["AC_uk"].isna() & pooled["AC_dk"].notna() & pooled["AC_se"].notna()
    ]
    absent_in_uk = absent_in_uk[
        passes(absent_in_uk["AC_dk"], absent_in_uk["AN_dk"])
        & passes(absent_in_uk["AC_se"], absent_in_uk["AN_se"])
    ]
    rows = table.merge(
        absent_in_uk,
        left_on=["#CHROM", "POS", "REF", "ALT"],
        right_on=["CHROM", "POS", "REF", "ALT"],
    )
    assert len(rows) == len(absent_in_uk) > 50
    assert (rows["NODES"] == "dk,se").all()
    assert (rows["COMPLETE"] == "N").all()
    assert (rows["ALT_CTS"] == rows["AC_dk"] + rows["AC_se"]).all()
    assert (rows["OBS_CT"] == rows["AN_dk"] + rows["AN_se"]).all()


def test_merge_hwe_counts__sums_genotype_counts_and_tests_them(outputs, tmp_path):
    from tresor.stats.hwe_kernels import hwe_exact

    result, _ = merged(outputs, "hwe_counts", tmp_path)
    table = read(result.tables[0])
    nodes = pd.concat(
        [pd.read_parquet(outputs["hwe_counts", c] / "hwe_counts.parquet") for c in COHORTS]
    )
    sums = nodes.groupby(["CHROM", "POS", "REF", "ALT"], as_index=False).sum(numeric_only=True)
    both = table.merge(
        sums, left_on=["#CHROM", "POS", "A1", "AX"], right_on=["CHROM", "POS", "REF", "ALT"]
    )
    assert len(both) == len(table)
    assert (both["HOM_A1_CT"] == both["HOM_REF_CT"]).all()
    assert (both["TWO_AX_CT"] == both["TWO_ALT_GENO_CTS"]).all()
    for row in both.head(50).itertuples():
        assert pytest.approx(hwe_exact(row.HET_A1_CT, row.HOM_A1_CT, row.TWO_AX_CT)) == row.P


# -- linear GWAS ---------------------------------------------------------------------------
def test_merge_linear_gwas__equals_the_pooled_fit_with_a_cohort_covariate(
    outputs, cohort_data, phenotypes, tmp_path
):
    result, _ = merged(outputs, "linear_gwas_sufficient_statistics", tmp_path)
    table = read(result.tables[0])
    fitted = table[table["ERRCODE"] == "."]
    assert len(fitted) > 0.99 * len(table)
    complete = fitted[fitted["COMPLETE"] == "Y"]
    incomplete = fitted[fitted["COMPLETE"] == "N"]
    assert len(complete) > 500 and len(incomplete) > 500
    checked = pd.concat([complete.iloc[::4], incomplete.iloc[::20]])
    for row in checked.itertuples():
        key = (row._1, row.POS, row.REF, row.ALT)
        beta, se = pooled_fit(cohort_data, phenotypes, key, row.NODES.split(","))
        assert abs(row.BETA - beta) <= 1e-9 * se, key
        assert pytest.approx(se, rel=1e-9) == row.SE, key
    assert (complete["OBS_CT"] == 3 * 120 - 5).all()  # five se samples lack ldl
    assert result.verdicts == {"federated.glm.linear": "pass"}


def test_merge_ivw__equals_an_inverse_variance_meta_analysis_by_hand(outputs, tmp_path):
    from scipy import stats as st

    result, _ = merged(outputs, "gwas_summary_statistics", tmp_path)
    table = read(result.tables[0])
    nodes = pd.concat(
        [
            pd.read_parquet(
                outputs["gwas_summary_statistics", c] / "gwas_summary_statistics.parquet"
            )
            for c in COHORTS
        ]
    )
    checked = 0
    for (chrom, pos, _ref, alt), rows in nodes.groupby(["CHROM", "POS", "REF", "ALT"]):
        if checked >= 300:
            break
        w = 1 / rows["SE"].to_numpy() ** 2
        b = rows["BETA"].to_numpy()
        beta = (w * b).sum() / w.sum()
        row = table[(table["#CHROM"] == chrom) & (table["POS"] == pos) & (table["ALT"] == alt)]
        assert len(row) == 1
        row = row.iloc[0]
        assert pytest.approx(beta, rel=1e-12, abs=1e-15) == row.BETA
        assert pytest.approx(np.sqrt(1 / w.sum()), rel=1e-12) == row.SE
        assert pytest.approx(2 * st.norm.sf(abs(beta) * np.sqrt(w.sum())), rel=1e-9) == row.P
        if len(rows) > 1:
            q = (w * (b - beta) ** 2).sum()
            assert pytest.approx(q, rel=1e-9, abs=1e-12) == row.Q
            assert (
                pytest.approx(max(0.0, (q - len(b) + 1) / q) * 100 if q else 0.0, abs=1e-9)
                == row.I2
            )
            checked += 1
    assert checked == 300


# -- alignment ------------------------------------------------------------------------------------
def swap_alleles(ds, sites):
    """``ds`` with REF and ALT exchanged (and every call's 0 and 1) at ``sites``."""
    ds = ds.load()
    alleles = ds["variant_allele"].values.copy()
    alleles[sites, 0], alleles[sites, 1] = (
        ds["variant_allele"].values[sites, 1],
        ds["variant_allele"].values[sites, 0],
    )
    g = ds["call_genotype"].values.copy()
    part = g[sites]
    g[sites] = np.where(part == 0, 1, np.where(part == 1, 0, part))
    ds["variant_allele"] = (ds["variant_allele"].dims, alleles)
    ds["call_genotype"] = (ds["call_genotype"].dims, g)
    return ds.chunk({"variants": 1000})


@pytest.fixture(scope="module")
def swapped_dk(demo_cohorts, outputs, phenotypes, tmp_path_factory):
    """dk's outputs from a store with REF/ALT swapped at 60 sites that every node reports, half
    strand-ambiguous (A/T, C/G): {analysis: out_dir}, and the swapped sites."""
    from tresor.federation.analyses import REGISTRY

    ds = open_cohort(demo_cohorts["dk"])
    complete = read(merge_input_table(outputs, tmp_path_factory))
    complete = complete[complete["COMPLETE"] == "Y"]
    pair = complete["REF"] + complete["ALT"]
    ambiguous = complete[pair.isin(["AT", "TA", "CG", "GC"])].head(30)
    plain = complete[~pair.isin(["AT", "TA", "CG", "GC"])].iloc[::20].head(30)
    alleles = ds["variant_allele"].values.astype(object)
    contigs = ds["contig_id"].values.astype(object)[ds["variant_contig"].values]
    index = pd.DataFrame(
        {"#CHROM": contigs, "POS": ds["variant_position"].values, "REF": alleles[:, 0]}
    )
    index["i"] = np.arange(len(index))
    sites = index.merge(pd.concat([ambiguous, plain])[["#CHROM", "POS", "REF"]])["i"].to_numpy()
    assert len(sites) == len(ambiguous) + len(plain)
    swapped = swap_alleles(ds, np.sort(sites))
    root = tmp_path_factory.mktemp("swapped")
    out = {}
    for name, params in (
        ("allele_counts", {}),
        ("linear_gwas_sufficient_statistics", GWAS),
        ("gwas_summary_statistics", GWAS),
    ):
        REGISTRY[name].run(
            swapped, phenotypes["dk"], params, min_minor_allele_count=MAC, out_dir=root / name
        )
        out[name] = root / name
    return out, plain, ambiguous


def merge_input_table(outputs, tmp_path_factory):
    result, _ = merged(outputs, "allele_counts", tmp_path_factory.mktemp("plain"))
    return result.tables[0]


@pytest.mark.parametrize(
    "analysis", ["allele_counts", "linear_gwas_sufficient_statistics", "gwas_summary_statistics"]
)
def test_merge__a_node_with_swapped_alleles_gives_the_same_result(
    outputs, swapped_dk, analysis, tmp_path
):
    swapped, plain, ambiguous = swapped_dk
    reference = read(merged(outputs, analysis, tmp_path / "ref")[0].tables[0])
    result = read(
        merged(outputs, analysis, tmp_path / "swapped", replace={"dk": swapped[analysis]})[
            0
        ].tables[0]
    )
    key = ["#CHROM", "POS", "REF", "ALT"]
    both = reference.merge(result, on=key, suffixes=("", "_swapped"))
    assert len(both) == len(reference) == len(result)
    at_plain = both.merge(plain[key])
    assert len(at_plain) == len(plain)
    assert (at_plain["FLAGS_swapped"] == "flipped=dk").all()
    assert (at_plain["NODES_swapped"] == "dk,se,uk").all()
    numbers = {
        "allele_counts": ["ALT_CTS", "OBS_CT"],
        "linear_gwas_sufficient_statistics": ["BETA", "SE", "OBS_CT", "A1_FREQ"],
        "gwas_summary_statistics": ["BETA", "SE", "Q", "OBS_CT", "A1_FREQ"],
    }[analysis]
    others = (
        both.merge(ambiguous[key], how="left", indicator=True)["_merge"] == "left_only"
    ).to_numpy()
    for column in numbers:
        a, b = (
            both.loc[others, column].to_numpy(float),
            both.loc[others, f"{column}_swapped"].to_numpy(float),
        )
        if column in ("ALT_CTS", "OBS_CT"):
            assert (a == b).all(), column
        else:
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12, err_msg=column)


def test_merge__strand_ambiguous_sites_swapped_in_a_node_leave_that_node_out(
    outputs, swapped_dk, cohort_data, tmp_path
):
    """A/T and C/G sites: the swapped node is not flipped (a swap cannot be told from a strand
    flip) but left out of the row, which says so."""
    swapped, _, ambiguous = swapped_dk
    result = read(
        merged(outputs, "allele_counts", tmp_path, replace={"dk": swapped["allele_counts"]})[
            0
        ].tables[0]
    )
    rows = result.merge(ambiguous[["#CHROM", "POS", "REF", "ALT"]])
    assert len(rows) == len(ambiguous) > 5
    assert (rows["FLAGS"] == "ambiguous_swap_excluded=dk").all()
    assert (rows["NODES"] == "se,uk").all()
    assert (rows["COMPLETE"] == "N").all()
    pooled = pooled_counts(cohort_data).rename(columns={"CHROM": "#CHROM"})
    check = rows.merge(pooled, on=["#CHROM", "POS", "REF", "ALT"])
    assert len(check) == len(rows)
    assert (check["ALT_CTS"] == check["AC_se"] + check["AC_uk"]).all()


def test_align__orientation_of_most_nodes_and_of_the_first_on_a_tie():
    frame = pd.DataFrame(
        {
            "CHROM": ["1"] * 5,
            "POS": [10, 10, 10, 20, 20],
            "REF": ["A", "G", "G", "G", "A"],
            "ALT": ["G", "A", "A", "A", "G"],
            "AC": [5, 30, 40, 12, 7],
            "AN": [100, 100, 100, 50, 50],
            "HOM_REF_CT": [0] * 5,
            "HET_REF_ALT_CTS": [0] * 5,
            "TWO_ALT_GENO_CTS": [0] * 5,
            "NODE": np.array([0, 1, 2, 1, 2], np.int16),
        }
    )
    aligned, flags = align(frame, "allele_counts", ["dk", "se", "uk"])
    at10 = aligned[aligned["POS"] == 10]
    assert set(zip(at10["REF"], at10["ALT"], strict=True)) == {("G", "A")}  # two nodes of three
    assert at10.set_index("NODE").loc[0, "AC"] == 95  # dk flipped: AN - AC
    at20 = aligned[aligned["POS"] == 20]
    assert set(zip(at20["REF"], at20["ALT"], strict=True)) == {("G", "A")}  # se is first
    assert at20.set_index("NODE").loc[2, "AC"] == 43
    assert sorted(flags["FLAGS"]) == ["flipped=dk", "flipped=uk"]


# -- bundles ------------------------------------------------------------------------------------
def test_merge__the_crate_names_every_bundle_by_its_hash(outputs, tmp_path):
    result, bundles = merged(outputs, "hwe_counts", tmp_path)
    graph = {e["@id"]: e for e in json.loads(result.crate.read_text())["@graph"]}
    for b in bundles:
        assert graph[f"#bundle-{b.node}"]["sha256"] == b.manifest_sha256
    action = graph["#merge"]
    assert {o["@id"] for o in action["object"]} >= {f"#bundle-{b.node}" for b in bundles}
    assert {r["@id"] for r in action["result"]} == {"federated.hardy", "merge.json"}
    summary = json.loads(result.summary.read_text())
    assert [n["bundle_manifest_sha256"] for n in summary["nodes"]] == [
        b.manifest_sha256 for b in bundles
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"request_id": "req-other"}, "answers request req-other"),
        ({"crate_sha256": "d" * 64}, "another version of the request"),
        ({"federation": None}, "does not say which federated request"),
        ({"node": "dk"}, "more than one bundle from dk"),
        ({"build": "GRCh37"}, "different genome builds"),
        ({"parameters": {"stratify_by": "sex"}}, "different parameters"),
    ],
)
def test_merge__refuses_bundles_that_do_not_belong_together(outputs, tmp_path, change, message):
    import dataclasses
    import shutil

    bundles = [make_bundle(tmp_path / "b", c, outputs["hwe_counts", c]) for c in ("dk", "se")]
    if "request_id" in change or "crate_sha256" in change:
        bundles[1] = make_bundle(tmp_path / "c", "se", outputs["hwe_counts", "se"], **change)
    elif "federation" in change:
        manifest = {k: v for k, v in bundles[1].manifest.items() if k != "federation"}
        bundles[1] = dataclasses.replace(bundles[1], manifest=manifest)
    elif "node" in change:
        bundles[1] = dataclasses.replace(bundles[1], node="dk")
    else:
        copy = tmp_path / "edited"
        shutil.copytree(outputs["hwe_counts", "se"], copy)
        m = json.loads((copy / "manifest.json").read_text())
        if "build" in change:
            m["dataset"]["genome_build"] = change["build"]
        else:
            m["parameters"] = change["parameters"]
        (copy / "manifest.json").write_text(json.dumps(m))
        bundles[1] = make_bundle(tmp_path / "d", "se", copy)
    with pytest.raises(MergeError, match=message):
        merge(bundles, tmp_path / "out")
