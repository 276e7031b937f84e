"""GWAS kernels against statsmodels and a direct optimizer; sufficient statistics add up."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
import xarray as xr
from scipy import optimize

from tests.unit.stats_data import dataset, random_genotypes
from tresor.stats import (
    gwas_linear,
    gwas_logistic,
    linear_regression_statistics,
    solve_linear_regression,
    variant_stats,
)
from tresor.stats.association_kernels import CONST_ALLELE, firth_regression


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(11)
    n = 90
    g = random_genotypes(rng, 24, n, n_alleles=3, missing=0.03)
    g[3] = np.where(g[3] == 2, 1, g[3])  # a third allele that never occurs: CONST_ALLELE
    covariates = xr.DataArray(
        np.column_stack([rng.normal(50, 10, n), rng.integers(1, 3, n)]).astype(float),
        dims=("samples", "covariates"),
        coords={"covariates": ["age", "sex"]},
    )
    dosage = np.where((g < 0).any(-1), 0, (g == 1).sum(-1))
    y = 0.4 * dosage[5] + 0.02 * covariates.values[:, 0] + rng.normal(size=n)
    y[:4] = np.nan  # missing phenotypes
    liability = 0.8 * dosage[6] + rng.normal(size=n)
    case = (liability > np.quantile(liability, 0.6)).astype(float)
    return g, covariates, xr.DataArray(y, dims="samples"), xr.DataArray(case, dims="samples")


def design(g_v, covariates, y, tested):
    """Rows with a phenotype and a call; columns intercept, covariates, tested dosages."""
    ok = ~np.isnan(y) & (g_v >= 0).all(-1)
    x = np.column_stack(
        [np.ones(ok.sum()), covariates[ok], *[(g_v[ok] == a).sum(-1) for a in tested]]
    )
    return x.astype(float), y[ok]


def test_gwas_linear__equals_statsmodels_ols(cohort):
    g, covariates, y, _ = cohort
    result = gwas_linear(dataset(g), y, covariates).compute()
    checked = 0
    for v in range(g.shape[0]):
        tested = np.flatnonzero(result.variant_glm_a1.values[v])
        errors = result.variant_glm_error.values[v, tested]
        fitted = tested[errors == 0]
        if len(fitted) == 0:
            continue
        x, yy = design(g[v], covariates.values, y.values, fitted)
        fit = sm.OLS(yy, x).fit()
        k = 3
        np.testing.assert_allclose(result.variant_glm_beta.values[v, fitted], fit.params[k:])
        np.testing.assert_allclose(result.variant_glm_se.values[v, fitted], fit.bse[k:])
        assert result.variant_glm_n.values[v] == len(yy)
        checked += 1
    assert checked > 15
    assert CONST_ALLELE in result.variant_glm_error.values[3]


def test_gwas_linear__omits_the_major_allele(cohort):
    g, covariates, y, _ = cohort
    ds = variant_stats(dataset(g))
    result = gwas_linear(ds, y, covariates).compute()
    major = ds.variant_major_allele.values
    tested = result.variant_glm_a1.values
    assert not tested[np.arange(len(major)), major].any()
    assert (tested.sum(1) == 2).all()  # three alleles: two tested per site


def test_linear_statistics__add_up_over_sample_blocks_and_nodes(cohort):
    g, covariates, y, _ = cohort
    whole = linear_regression_statistics(dataset(g), y, covariates).compute()
    chunked = linear_regression_statistics(dataset(g, sample_chunk=17), y, covariates).compute()
    names = ["variant_linreg_n", "variant_linreg_xtx", "variant_linreg_xty", "variant_linreg_yty"]
    for name in names:
        np.testing.assert_allclose(chunked[name], whole[name], rtol=1e-12)
    # two "nodes" holding disjoint samples: their statistics sum to the pooled ones
    half = g.shape[1] // 2
    parts = [
        linear_regression_statistics(
            dataset(g[:, sl]), y[sl], covariates[sl], merge=False
        ).compute()
        for sl in (slice(0, half), slice(half, None))
    ]
    for name in names:
        np.testing.assert_allclose(parts[0][name] + parts[1][name], whole[name], rtol=1e-12)
    pooled = whole.assign(variant_stats(dataset(g), merge=False))
    solved = solve_linear_regression(pooled).compute()
    direct = gwas_linear(dataset(g), y, covariates).compute()
    np.testing.assert_allclose(solved.variant_glm_beta, direct.variant_glm_beta)


def test_gwas_logistic__equals_statsmodels_logit(cohort):
    g, covariates, _, case = cohort
    result = gwas_logistic(dataset(g), case, covariates).compute()
    checked = 0
    for v in range(g.shape[0]):
        if result.variant_glm_firth.values[v]:
            continue
        tested = np.flatnonzero(result.variant_glm_a1.values[v])
        fitted = tested[result.variant_glm_error.values[v, tested] == 0]
        if len(fitted) == 0:
            continue
        x, yy = design(g[v], covariates.values, case.values, fitted)
        fit = sm.Logit(yy, x).fit(disp=0, tol=1e-12, maxiter=100)
        np.testing.assert_allclose(
            result.variant_glm_beta.values[v, fitted], fit.params[3:], rtol=1e-5, atol=1e-8
        )
        np.testing.assert_allclose(result.variant_glm_se.values[v, fitted], fit.bse[3:], rtol=1e-4)
        checked += 1
    assert checked > 10


def penalized_loglik(beta, x, y):
    p = 1 / (1 + np.exp(-x @ beta))
    information = (x * (p * (1 - p))[:, None]).T @ x
    return np.sum(y * np.log(p) + (1 - y) * np.log1p(-p)) + 0.5 * np.linalg.slogdet(information)[1]


def test_firth_regression__reaches_the_penalized_maximum():
    rng = np.random.default_rng(5)
    n = 150
    x = np.column_stack([np.ones(n), rng.normal(size=n), np.zeros(n)])
    x[:2, 2] = 1  # a singleton-like allele carried by two controls: logistic MLE is infinite
    y = (rng.random(n) < 0.3).astype(float)
    y[:2] = 0
    beta, cov, failed, unfinished = firth_regression(x, y, 25)
    assert not failed and not unfinished
    best = optimize.minimize(lambda b: -penalized_loglik(b, x, y), beta, method="BFGS")
    np.testing.assert_allclose(beta, best.x, atol=1e-4)
    p = 1 / (1 + np.exp(-x @ beta))
    information = (x * (p * (1 - p))[:, None]).T @ x
    np.testing.assert_allclose(cov, np.linalg.inv(information), rtol=1e-6)


def test_gwas_logistic__rejects_a_non_binary_phenotype(cohort):
    g, covariates, y, _ = cohort
    with pytest.raises(ValueError, match="0 \\(control\\) / 1 \\(case\\)"):
        gwas_logistic(dataset(g), y, covariates)


def test_gwas_logistic__same_with_samples_in_several_chunks(cohort):
    g, covariates, _, case = cohort
    whole = gwas_logistic(dataset(g), case, covariates).compute()
    chunked = gwas_logistic(dataset(g, sample_chunk=20), case, covariates).compute()
    for name in ("variant_glm_beta", "variant_glm_se", "variant_glm_error", "variant_glm_firth"):
        np.testing.assert_array_equal(chunked[name], whole[name])


@pytest.mark.parametrize("n_samples", [0, 7])
def test_linreg_stats__a_block_without_rows(n_samples):
    """A chunk without exception rows (the packed path's usual case) sums nothing."""
    from tresor.stats.association_kernels import linreg_stats

    g = np.zeros((0, n_samples, 2), dtype=np.int8)
    covariates, y = np.ones((n_samples, 1)), np.ones(n_samples)
    assert linreg_stats(g, covariates, y, np.ones(n_samples, bool), 2).shape[0] == 0
