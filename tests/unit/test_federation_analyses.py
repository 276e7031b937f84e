"""The registered analyses as a node runs them, and the streaming reader of their tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pydantic import ValidationError

from tests.unit.federation_data import MAC, open_cohort
from tests.unit.stats_data import dataset, random_genotypes
from tresor.federation.analyses import REGISTRY, AnalysisError, output_kinds, phenotype_table
from tresor.federation.analyses.base import VARIANT_FIELDS, TableWriter
from tresor.federation.streams import NodeTable, windows


@pytest.fixture(scope="module")
def dk(demo_cohorts):
    c = demo_cohorts["dk"]
    return open_cohort(c), phenotype_table([c.pheno, c.covar])


def test_registry__every_analysis_declares_version_parameters_and_output_kinds():
    assert set(REGISTRY) == {
        "allele_counts",
        "hwe_counts",
        "linear_gwas_sufficient_statistics",
        "gwas_summary_statistics",
        "allele_frequency_summary",
    }
    kinds = output_kinds()
    for analysis in REGISTRY.values():
        assert analysis.version
        assert analysis.output_kinds and set(analysis.output_kinds) <= set(kinds)
    assert kinds["federation.allele_counts"]["counts_of_alleles"] == ["AC", "AN"]
    assert "OBS_CT" in kinds["federation.gwas_summary_statistics"]["counts_of_people"]


def test_parameters__unknown_keys_are_errors():
    with pytest.raises(ValidationError):
        REGISTRY["allele_counts"].parameters({"stratify": "sex"})
    with pytest.raises(ValidationError):
        REGISTRY["gwas_summary_statistics"].parameters({"phenotype": "ldl", "covars": ["age"]})
    with pytest.raises(ValidationError):
        REGISTRY["gwas_summary_statistics"].parameters({"phenotype": "ldl", "covariates": ["ldl"]})


def test_allele_counts__manifest_and_minor_allele_count_rule(dk, tmp_path):
    ds, pheno = dk
    REGISTRY["allele_counts"].run(ds, pheno, {}, min_minor_allele_count=MAC, out_dir=tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["analysis"] == "allele_counts" and manifest["version"] == "1"
    assert manifest["dataset"] == {"id": "dk", "genome_build": "GRCh38"}
    assert manifest["missing_genotype_rule"] == "not-counted"
    table = pd.read_parquet(tmp_path / "allele_counts.parquet")
    assert manifest["outputs"]["federation.allele_counts"]["rows"] == len(table)
    variants = manifest["variants"]
    assert variants["reported"] == len(table) > 1000
    assert sum(v for k, v in variants.items() if k not in ("in_store", "reported")) == (
        variants["in_store"] - variants["reported"]
    )
    ref = table["AN"] - table["AC"]
    assert (((table["AC"] == 0) | (table["AC"] >= MAC)) & ((ref == 0) | (ref >= MAC))).all()
    genotypes = table[["HOM_REF_CT", "HET_REF_ALT_CTS", "TWO_ALT_GENO_CTS"]].dropna()
    assert ((genotypes == 0) | (genotypes >= MAC)).all().all()
    assert (genotypes.sum(axis=1) * 2 == table.loc[genotypes.index, "AN"]).all()


def test_allele_counts__strata_add_up_and_a_small_stratum_is_refused(dk, tmp_path):
    ds, pheno = dk
    REGISTRY["allele_counts"].run(
        ds, pheno, {"stratify_by": "sex"}, min_minor_allele_count=MAC, out_dir=tmp_path / "a"
    )
    table = pd.read_parquet(tmp_path / "a" / "allele_counts.parquet")
    assert set(table["STRATUM"]) == {"ALL", "sex=1", "sex=2"}
    total = table[table["STRATUM"] == "ALL"].set_index(["CHROM", "POS", "REF", "ALT"])
    parts = (
        table[table["STRATUM"] != "ALL"].groupby(["CHROM", "POS", "REF", "ALT"])[["AC", "AN"]].sum()
    )
    assert (total[["AC", "AN"]] == parts.loc[total.index]).all().all()
    pheno = pheno.copy()
    pheno.iloc[:3, pheno.columns.get_loc("sex")] = "NA"
    with pytest.raises(AnalysisError, match="sex=NA"):
        REGISTRY["allele_counts"].run(
            ds, pheno, {"stratify_by": "sex"}, min_minor_allele_count=MAC, out_dir=tmp_path / "b"
        )


def test_linear_gwas_statistics__mean_imputed_within_the_node():
    """C'g, g'g, g'y equal the products with missing calls set to the node's mean dosage."""
    rng = np.random.default_rng(3)
    g = random_genotypes(rng, 40, 150, missing=0.05)
    ds = dataset(g, variant_chunk=9, sample_chunk=60)
    ds.attrs.update(tresor_dataset_id="t", genome_build="GRCh38")
    ids = ds["sample_id"].values.astype(str)
    pheno = pd.DataFrame(
        {"y": rng.normal(size=150), "age": rng.integers(20, 80, 150).astype(float)}, index=ids
    )
    pheno.iloc[7, 0] = np.nan  # left out everywhere
    from tempfile import TemporaryDirectory

    with TemporaryDirectory() as out:
        REGISTRY["linear_gwas_sufficient_statistics"].run(
            ds,
            pheno,
            {"phenotype": "y", "covariates": ["age"]},
            min_minor_allele_count=5,
            out_dir=out,
        )
        stats = pd.read_parquet(f"{out}/linear_gwas_statistics.parquet")
        node = pd.read_parquet(f"{out}/linear_gwas_node_statistics.parquet")
    keep = ~np.isnan(pheno["y"].to_numpy())
    c = np.column_stack([np.ones(keep.sum()), pheno["age"].to_numpy()[keep]])
    y = pheno["y"].to_numpy()[keep]
    assert node["N"].iloc[0] == keep.sum()
    np.testing.assert_allclose(node[["CTC_INTERCEPT", "CTC_age"]].to_numpy(), c.T @ c)
    assert len(stats) > 20
    positions = ds["variant_position"].values
    for row in stats.itertuples():
        v = int(np.flatnonzero(positions == row.POS)[0])
        calls = g[v][keep]
        dosage = np.where((calls < 0).any(axis=1), np.nan, calls.sum(axis=1)).astype(float)
        assert dosage[~np.isnan(dosage)].sum() == row.AC
        dosage[np.isnan(dosage)] = np.nanmean(dosage)
        np.testing.assert_allclose([row.CG_INTERCEPT, row.CG_age], c.T @ dosage, rtol=1e-12)
        assert pytest.approx(dosage @ dosage, rel=1e-12) == row.GG
        assert pytest.approx(dosage @ y, rel=1e-12) == row.GY
        assert min(row.AC, row.AN - row.AC) >= 5


def test_gwas_analyses__refuse_a_binary_phenotype_and_too_few_samples(dk, tmp_path):
    ds, pheno = dk
    with pytest.raises(AnalysisError, match="binary"):
        REGISTRY["gwas_summary_statistics"].run(
            ds, pheno, {"phenotype": "t2d"}, min_minor_allele_count=MAC, out_dir=tmp_path / "a"
        )
    with pytest.raises(AnalysisError, match="only 120 samples"):
        REGISTRY["linear_gwas_sufficient_statistics"].run(
            ds,
            pheno,
            {"phenotype": "ldl"},
            min_minor_allele_count=MAC,
            min_cell_count=500,
            out_dir=tmp_path / "b",
        )


def test_windows__every_position_once_and_never_split_across_windows(tmp_path):
    """Row groups of different sizes per node, positions repeated across row-group boundaries:
    each window holds every node's rows of its positions, and the windows cover all rows."""
    rng = np.random.default_rng(5)
    schema = pa.schema([*VARIANT_FIELDS, pa.field("AC", pa.int64())])
    tables = []
    expected = []
    for k, group_size in enumerate((7, 13, 50)):
        pos = np.sort(rng.choice(np.arange(1, 400), size=150))  # repeats: several rows a position
        frame = pd.DataFrame({"CHROM": "chr1", "POS": pos, "REF": "A", "ALT": "G", "AC": k})
        writer = TableWriter(tmp_path / f"{k}.parquet", schema)
        for start in range(0, len(frame), group_size):
            writer.write(frame.iloc[start : start + group_size].to_dict("list"))
        writer.write({"CHROM": ["chr2"], "POS": [5], "REF": ["A"], "ALT": ["C"], "AC": [k]})
        writer.close()
        tables.append(NodeTable(writer.path))
        expected.append(frame.assign(NODE=k))
    seen = []
    last = 0
    for window in windows(tables, "chr1"):
        assert window["POS"].min() >= last
        last = window["POS"].max() + 1
        seen.append(window)
    got = pd.concat(seen).sort_values(["NODE", "POS"], ignore_index=True)
    want = pd.concat(expected).sort_values(["NODE", "POS"], ignore_index=True)
    pd.testing.assert_frame_equal(got[want.columns], want, check_dtype=False)
    assert len(seen) > 3
    assert tables[0].groups["chr2"] and len(list(windows(tables, "chr2"))) == 1
