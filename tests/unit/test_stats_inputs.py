"""Phenotype, covariate, sample-list and region inputs: plink2 formats and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.stats_data import dataset, random_genotypes
from tresor.core.errors import TresorError
from tresor.stats.aggregation import variant_stats
from tresor.stats.phenotypes import PhenotypeError, load_covariates, load_phenotype
from tresor.stats.selection import (
    SelectionError,
    keep_samples,
    parse_region,
    read_sample_ids,
    select_regions,
    variant_filter,
)


@pytest.fixture
def ds():
    return dataset(random_genotypes(np.random.default_rng(0), 10, 6))


def write(tmp_path, text, name="file.txt"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_load_phenotype__quantitative_with_missing_codes(ds, tmp_path):
    path = write(tmp_path, "#IID\tldl\nS000\t1.5\nS001\tNA\nS002\t-9\nS003\t2.5\nS009\t7\n")
    values, binary = load_phenotype(ds, path, "ldl")
    assert not binary
    np.testing.assert_array_equal(values.values, [1.5, np.nan, np.nan, 2.5, np.nan, np.nan])


def test_load_phenotype__binary_1_2_becomes_0_1_and_0_is_missing(ds, tmp_path):
    path = write(tmp_path, "#FID IID t2d\nf S000 1\nf S001 2\nf S002 0\nf S003 2\n")
    values, binary = load_phenotype(ds, path, "t2d")
    assert binary
    np.testing.assert_array_equal(values.values, [0, 1, np.nan, 1, np.nan, np.nan])


def test_load_phenotype__ids_matching_no_sample_is_a_clear_error(ds, tmp_path):
    path = write(tmp_path, "#IID ldl\nX1 1\nX2 2\n")
    with pytest.raises(PhenotypeError, match="none of the 2 sample IDs") as e:
        load_phenotype(ds, path, "ldl")
    assert isinstance(e.value, TresorError)
    assert "S000" in str(e.value)


def test_load_phenotype__constant_phenotype_is_a_clear_error(ds, tmp_path):
    path = write(tmp_path, "#IID ldl\nS000 3\nS001 3\nS002 NA\n")
    with pytest.raises(PhenotypeError, match="constant"):
        load_phenotype(ds, path, "ldl")


def test_load_phenotype__only_cases_is_constant(ds, tmp_path):
    path = write(tmp_path, "#IID t2d\nS000 2\nS001 2\nS002 0\n")
    with pytest.raises(PhenotypeError, match="constant"):
        load_phenotype(ds, path, "t2d")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("S000 1\n", "header"),
        ("#IID ldl\nS000 1\nS000 2\n", "more than once"),
        ("#IID ldl\n", "no samples"),
        ("#IID bmi\nS000 1\nS001 2\n", "no column 'ldl'"),
    ],
)
def test_load_phenotype__malformed_files(ds, tmp_path, text, message):
    with pytest.raises(PhenotypeError, match=message):
        load_phenotype(ds, write(tmp_path, text), "ldl")


def test_load_covariates__numeric_only_and_not_constant(ds, tmp_path):
    path = write(tmp_path, "#IID age sex site\nS000 40 1 a\nS001 50 2 b\nS002 60 1 c\n")
    cov = load_covariates(ds, path, ["age", "sex"])
    assert list(cov.covariates.values) == ["age", "sex"]
    np.testing.assert_array_equal(cov.values[:3], [[40, 1], [50, 2], [60, 1]])
    assert np.isnan(cov.values[3:]).all()
    with pytest.raises(PhenotypeError, match="non-numeric"):
        load_covariates(ds, path, ["site"])
    constant = write(tmp_path, "#IID pc1\nS000 1\nS001 1\n", "c.txt")
    with pytest.raises(PhenotypeError, match="constant"):
        load_covariates(ds, constant)


def test_read_sample_ids__plink2_keep_formats(tmp_path):
    assert read_sample_ids(write(tmp_path, "S1\nS2\n\n")) == ["S1", "S2"]
    assert read_sample_ids(write(tmp_path, "F1 S1\nF2 S2\n")) == ["S1", "S2"]
    assert read_sample_ids(write(tmp_path, "#IID x\nS1 a\n")) == ["S1"]
    assert read_sample_ids(write(tmp_path, "#FID IID\nF S3\n")) == ["S3"]
    with pytest.raises(SelectionError, match="no sample IDs"):
        read_sample_ids(write(tmp_path, "\n"))


def test_keep_samples__keeps_store_order_and_rejects_no_match(ds):
    kept = keep_samples(ds, ["S004", "S001", "nobody"])
    assert list(kept.sample_id.values) == ["S001", "S004"]
    with pytest.raises(SelectionError, match="none of the 1 sample IDs"):
        keep_samples(ds, ["nobody"])


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("chr1", ("chr1", 1, None)),
        ("chr1:200-500", ("chr1", 200, 500)),
        ("chr1:1,000-", ("chr1", 1000, None)),
        ("chr1:300", ("chr1", 300, 300)),
    ],
)
def test_parse_region__forms(region, expected):
    assert parse_region(region) == expected


def test_select_regions__inclusive_and_errors(ds):
    assert list(select_regions(ds, ["chr1:200-500"]).variant_position.values) == [
        200,
        300,
        400,
        500,
    ]
    with pytest.raises(SelectionError, match="no contig 'chr2'"):
        select_regions(ds, ["chr2"])
    with pytest.raises(SelectionError, match="no variant"):
        select_regions(ds, ["chr1:5000-6000"])
    with pytest.raises(SelectionError, match="ends before"):
        parse_region("chr1:9-3")


def test_variant_filter__maf_and_call_rate(ds):
    stats = variant_stats(ds).compute()
    keep = variant_filter(stats, min_maf=0.2, min_call_rate=0.9).values
    expected = (stats.variant_minor_allele_frequency.values >= 0.2) & (
        stats.variant_call_rate.values >= 0.9
    )
    np.testing.assert_array_equal(keep, expected)
    assert variant_filter(stats).values.all()
