"""Kernels on every ploidy: stores of ploidy 1, mixed haploid and diploid calls (-2 fill), and
ploidy 3 (one triploid call makes the whole store ploidy 3). Values, not only shapes."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
import xarray as xr

from tests.unit.stats_data import dataset
from tresor.stats import gwas_linear, gwas_logistic, linear_regression_statistics, variant_stats
from tresor.stats.pca_kernels import biallelic_dosage, filtered_standardized, standardize


def _block(*rows) -> np.ndarray:
    return np.array(rows, dtype=np.int8)


def test_pca_kernels__ploidy_1_block_reads_only_its_own_slot():
    """Ploidy 1: the last sample's call is the last byte of the block; a kernel reading a
    second slot would take the next sample's allele (or read past the end)."""
    g = _block([[0], [1], [-1], [1]], [[1], [1], [1], [0]])
    codes = biallelic_dosage(g)
    np.testing.assert_array_equal(codes, [[3, 4, -1, 4], [4, 4, 4, 3]])
    z = standardize(codes)
    p = 2 / 3  # variant 0: ALT in 2 of 3 called haploid calls
    expected = np.array([0 - p, 1 - p, 0, 1 - p]) / np.sqrt(p * (1 - p))
    np.testing.assert_allclose(z[0], expected, rtol=1e-6)
    p = 3 / 4  # variant 1: the last sample's REF is its own, not past the block
    expected = (np.array([1, 1, 1, 0]) - p) / np.sqrt(p * (1 - p))
    np.testing.assert_allclose(z[1], expected, rtol=1e-6)


def test_pca_kernels__mixed_ploidy_each_call_by_its_own_ploidy():
    """chrX-like row: diploid women, haploid men (-2 fill), a half-call (missing), and a row of
    ploidy 3 where the triploid call is left out and counted."""
    g = _block([[0, 1], [1, -2], [-1, -2], [-1, 1], [0, 0], [1, 1]])
    codes = biallelic_dosage(g)
    np.testing.assert_array_equal(codes, [[1, 4, -1, -1, 0, 2]])
    # alleles: 2 + 1 + 2 + 2 = 7 called, ALT 1 + 1 + 0 + 2 = 4
    p = 4 / 7
    z = standardize(codes)[0]
    diploid = lambda d: (d - 2 * p) / np.sqrt(2 * p * (1 - p))  # noqa: E731
    haploid = lambda d: (d - p) / np.sqrt(p * (1 - p))  # noqa: E731
    np.testing.assert_allclose(z, [diploid(1), haploid(1), 0, 0, diploid(0), diploid(2)], 1e-6)

    g3 = _block([[0, 1, 1], [0, 1, -2], [1, -2, -2], [0, 0, -2], [-1, -1, -2]])
    rows, z3, left_out = filtered_standardized(g3, np.array([True]), 0.0, 0.0)
    assert rows.tolist() == [0] and left_out.tolist() == [1]
    p = 2 / 5  # the triploid call is left out: 0/1, 1, 0/0 remain
    expected = [0, (1 - 2 * p) / np.sqrt(2 * p * (1 - p)), (1 - p) / np.sqrt(p * (1 - p))]
    expected += [(0 - 2 * p) / np.sqrt(2 * p * (1 - p)), 0]
    np.testing.assert_allclose(z3[0], expected, rtol=1e-6)


def _dosages(g: np.ndarray, allele: int) -> np.ndarray:
    """Copies of ``allele`` per call, NaN where the call is missing."""
    missing = (g == -1).any(-1) | (g < 0).all(-1)
    return np.where(missing, np.nan, (g == allele).sum(-1).astype(float))


@pytest.fixture(scope="module")
def stores():
    """Ploidy 1 (chrY), mixed (chrX: men haploid), ploidy 3 (one triploid call per site)."""
    rng = np.random.default_rng(21)
    n_v, n = 30, 60
    diploid = (rng.random((n_v, n, 2)) < rng.uniform(0.2, 0.6, (n_v, 1, 1))).astype(np.int8)
    diploid[rng.random((n_v, n)) < 0.03] = -1
    haploid = diploid[:, :, :1].copy()
    mixed = diploid.copy()
    mixed[:, : n // 2, 1] = -2  # men: haploid calls (a missing one is -1, -2)
    triploid = np.concatenate([diploid, np.full((n_v, n, 1), -2, np.int8)], axis=2)
    triploid[:, 0] = (0, 1, 1)
    y = rng.normal(size=n) + 0.8 * np.nan_to_num(_dosages(haploid, 1)[3])
    age = rng.normal(50, 8, n)
    return {"haploid": haploid, "mixed": mixed, "triploid": triploid}, y, age


@pytest.mark.parametrize("kind", ["haploid", "mixed", "triploid"])
def test_gwas_linear__any_ploidy_equals_statsmodels_on_allele_copies(stores, kind):
    genotypes, y, age = stores
    g = genotypes[kind]
    covariates = xr.DataArray(age[:, None], dims=("samples", "covariates"))
    ds = variant_stats(dataset(g, sample_chunk=17))
    result = gwas_linear(ds, xr.DataArray(y, dims="samples"), covariates).compute()
    major = ds.variant_major_allele.values
    for v in range(g.shape[0]):
        tested = 1 - major[v]  # biallelic: the other allele
        d = _dosages(g[v], tested)
        ok = ~np.isnan(d)
        fit = sm.OLS(y[ok], np.column_stack([np.ones(ok.sum()), age[ok], d[ok]])).fit()
        assert result.variant_glm_a1.values[v, tested]
        assert result.variant_glm_n.values[v] == ok.sum()
        assert result.variant_glm_beta.values[v, tested] == pytest.approx(fit.params[2], rel=1e-8)
        assert result.variant_glm_se.values[v, tested] == pytest.approx(fit.bse[2], rel=1e-8)
    # sufficient statistics: REF column of its own, summed over sample chunks as a whole
    whole = linear_regression_statistics(dataset(g), xr.DataArray(y, dims="samples")).compute()
    chunked = linear_regression_statistics(
        dataset(g, sample_chunk=17), xr.DataArray(y, dims="samples")
    ).compute()
    assert whole.predictors.values.tolist() == ["intercept", "REF", "ALT1"]
    np.testing.assert_allclose(chunked.variant_linreg_xtx, whole.variant_linreg_xtx, rtol=1e-12)
    ref = _dosages(g[0], 0)
    ok = ~np.isnan(ref)
    assert whole.variant_linreg_xtx.values[0, 1, 1] == pytest.approx((ref[ok] ** 2).sum())


@pytest.mark.parametrize("kind", ["haploid", "mixed"])
def test_gwas_logistic__haploid_calls_equal_statsmodels_logit(stores, kind):
    genotypes, y, _ = stores
    g = genotypes[kind]
    case = (y > np.median(y)).astype(float)
    ds = variant_stats(dataset(g))
    result = gwas_logistic(ds, xr.DataArray(case, dims="samples"), firth="no-firth").compute()
    major = ds.variant_major_allele.values
    checked = 0
    for v in range(g.shape[0]):
        tested = 1 - major[v]
        if result.variant_glm_error.values[v, tested]:
            continue
        d = _dosages(g[v], tested)
        ok = ~np.isnan(d)
        fit = sm.Logit(case[ok], np.column_stack([np.ones(ok.sum()), d[ok]])).fit(disp=0)
        assert result.variant_glm_beta.values[v, tested] == pytest.approx(fit.params[1], rel=1e-5)
        assert result.variant_glm_se.values[v, tested] == pytest.approx(fit.bse[1], rel=1e-5)
        checked += 1
    assert checked > 20


def test_count_genotypes__ploidy_per_call_in_a_ploidy_3_store(stores):
    genotypes, _, _ = stores
    g = genotypes["triploid"]
    stats = variant_stats(dataset(g)).compute()
    called = ~(g == -1).any(-1) & (g >= 0).any(-1)
    n_alleles = (g >= 0).sum(-1)
    np.testing.assert_array_equal(stats.variant_n_called, called.sum(1))
    np.testing.assert_array_equal(stats.variant_n_polyploid, (called & (n_alleles == 3)).sum(1))
    np.testing.assert_array_equal(stats.variant_n_haploid, 0)
    np.testing.assert_array_equal(
        stats.variant_allele_count[:, 1], ((g == 1) & called[..., None]).sum((1, 2))
    )
    het = called & (n_alleles == 2) & (g[..., 0] != g[..., 1])
    np.testing.assert_array_equal(stats.variant_n_het, het.sum(1))
    mixed = variant_stats(dataset(genotypes["mixed"])).compute()
    men = (genotypes["mixed"][:, :30, 0] >= 0).sum(1)
    np.testing.assert_array_equal(mixed.variant_n_haploid, men)
