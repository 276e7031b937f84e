"""Counts and HWE kernels against brute force and scikit-allel, on in-memory Datasets."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import allel
import numpy as np
import pytest

from tests.unit.stats_data import dataset, random_genotypes
from tresor.stats import genotype_dask_array, hardy_weinberg_test, sample_stats, variant_stats
from tresor.stats.hwe_kernels import hwe_exact


def brute_counts(g: np.ndarray, width: int):
    called = (g != -1).all(axis=-1) & (g >= 0).any(axis=-1)
    allele = np.stack([((g == a) & called[..., None]).sum(axis=(1, 2)) for a in range(width)], 1)
    diploid = called & (g >= 0).all(axis=-1)
    hom = np.stack([(diploid & (g == a).all(-1)).sum(1) for a in range(width)], 1)
    het = np.stack([(diploid & ((g == a).sum(-1) == 1)).sum(1) for a in range(width)], 1)
    return allele, hom, het, called.sum(axis=1)


@pytest.mark.parametrize("sample_chunk", [None, 13])
def test_variant_stats__counts_equal_brute_force(sample_chunk):
    rng = np.random.default_rng(1)
    g = random_genotypes(rng, 40, 50, n_alleles=3)
    g[0, :5, 1] = -2  # haploid calls: one allele, no genotype class
    g[1, :3, 0] = -1  # half-missing calls count as missing
    stats = variant_stats(dataset(g, sample_chunk=sample_chunk)).compute()
    allele, hom, het, called = brute_counts(g, 3)
    np.testing.assert_array_equal(stats.variant_allele_count, allele)
    np.testing.assert_array_equal(stats.variant_allele_hom_count, hom)
    np.testing.assert_array_equal(stats.variant_allele_het_count, het)
    np.testing.assert_array_equal(stats.variant_n_called, called)
    np.testing.assert_array_equal(stats.variant_allele_total, allele.sum(1))
    freq = allele / allele.sum(1, keepdims=True)
    np.testing.assert_allclose(stats.variant_allele_frequency, freq)
    np.testing.assert_allclose(stats.variant_minor_allele_frequency, 1 - freq.max(1))
    np.testing.assert_array_equal(stats.variant_major_allele, allele.argmax(1))


@pytest.mark.parametrize("n_samples", [5, 64, 77])
@pytest.mark.parametrize("contiguous", [True, False])
def test_genotype_counts__biallelic_fast_path_and_fallbacks_equal_brute_force(
    n_samples, contiguous
):
    """Biallelic rows take the vectorized path; rows with allele 2, -2 fill or -1 next to
    another allele must give the same counts as rows without them."""
    from tresor.stats.aggregation_kernels import genotype_counts

    rng = np.random.default_rng(n_samples)
    g = random_genotypes(rng, 30, 2 * n_samples, n_alleles=2, missing=0.1)
    g[0, :3, 1] = -2  # haploid calls
    g[1, 2] = (2, 0)  # one call with a third allele
    g[2, 1] = (-1, 2)  # half-missing call with a third allele: missing
    g[3, :4, 0] = -1  # half-missing calls
    g[4] = -1  # nothing called
    g[5, -1] = (0, 2)  # the third allele in the tail after the last whole lane
    g = g if contiguous else g[:, ::2]
    counts = genotype_counts(g, 3)
    allele, hom, het, called = brute_counts(g, 3)
    np.testing.assert_array_equal(counts[:, 0:3], allele)
    np.testing.assert_array_equal(counts[:, 3:6], hom)
    np.testing.assert_array_equal(counts[:, 6:9], het)
    np.testing.assert_array_equal(counts[:, 9], called)


@pytest.mark.parametrize("n_samples", [0, 7])
def test_genotype_counts__a_block_without_rows(n_samples):
    """A chunk without exception rows (the packed path's usual case) counts nothing."""
    from tresor.stats.aggregation_kernels import genotype_counts

    counts = genotype_counts(np.zeros((0, n_samples, 2), dtype=np.int8), 2)
    assert counts.shape == (0, 9)


def test_variant_stats__allele_counts_equal_scikit_allel():
    rng = np.random.default_rng(2)
    ds = dataset(random_genotypes(rng, 30, 25, n_alleles=2))
    ours = variant_stats(ds).variant_allele_count.values
    theirs = genotype_dask_array(ds).count_alleles(max_allele=1).compute()
    np.testing.assert_array_equal(ours, theirs)


def test_sample_stats__call_rate_and_heterozygosity_equal_brute_force():
    rng = np.random.default_rng(3)
    g = random_genotypes(rng, 33, 20, n_alleles=3)
    stats = sample_stats(dataset(g, sample_chunk=6)).compute()
    called = (g >= 0).all(-1)
    het = called & (g[..., 0] != g[..., 1])
    np.testing.assert_array_equal(stats.sample_n_called, called.sum(0))
    np.testing.assert_array_equal(stats.sample_n_het, het.sum(0))
    np.testing.assert_allclose(stats.sample_call_rate, called.mean(0))
    gd = allel.GenotypeArray(g)
    np.testing.assert_array_equal(stats.sample_n_het, gd.count_het(axis=0))
    counts = np.stack([((g == a) & called[..., None]).sum((1, 2)) for a in range(3)], 1)
    expected_hom = ((counts / counts.sum(1, keepdims=True)) ** 2).sum(1)
    np.testing.assert_allclose(stats.sample_expected_hom, (called * expected_hom[:, None]).sum(0))


def hwe_by_enumeration(n_het: int, n_hom_1: int, n_hom_2: int) -> float:
    """Exact HWE p-value by listing every het count (Levene's formula, exact integers)."""
    n = n_het + n_hom_1 + n_hom_2
    rare = min(2 * n_hom_1 + n_het, 2 * n_hom_2 + n_het)

    def prob(h):
        hom_r = (rare - h) // 2
        hom_c = n - h - hom_r
        return Fraction(
            math.factorial(n) * math.factorial(rare) * math.factorial(2 * n - rare) * 2**h,
            math.factorial(hom_r)
            * math.factorial(h)
            * math.factorial(hom_c)
            * math.factorial(2 * n),
        )

    probs = {h: prob(h) for h in range(rare % 2, rare + 1, 2)}
    observed = probs[n_het]
    return float(sum(p for p in probs.values() if p <= observed))


@pytest.mark.parametrize(
    "counts",
    [
        (0, 0, 0),
        (0, 10, 0),
        (1, 99, 0),
        (0, 50, 50),
        (100, 0, 0),
        (57, 14, 29),
        *itertools.product((0, 3, 17), (1, 8, 40), (0, 2, 25)),
    ],
)
def test_hwe_exact__equals_enumeration(counts):
    n_het, n_hom_1, n_hom_2 = counts
    expected = hwe_by_enumeration(*counts) if sum(counts) else 1.0
    assert hwe_exact(n_het, n_hom_1, n_hom_2) == pytest.approx(expected, rel=1e-10)


def test_hardy_weinberg_test__per_allele_of_multiallelic_sites():
    rng = np.random.default_rng(4)
    g = random_genotypes(rng, 12, 60, n_alleles=3, missing=0.0)
    result = hardy_weinberg_test(dataset(g)).compute()
    _, hom, het, _ = brute_counts(g, 3)
    for v in range(12):
        for a in range(3):
            two_ax = 60 - hom[v, a] - het[v, a]
            expected = hwe_exact(het[v, a], hom[v, a], two_ax)
            assert result.variant_hwe_p_value.values[v, a] == pytest.approx(expected)
