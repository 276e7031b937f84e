"""GWAS as plink2 --glm: linear regression for quantitative traits, logistic regression with
Firth fallback for binary ones, covariates, one result per tested allele.

plink2's model, reproduced here: per variant, samples with a missing call are left out; the
predictors are an intercept, the covariates and the dosage of every allele except the major
one (so a biallelic site tests the minor allele, A1, and a multi-allelic site is fitted
jointly with one row per non-major allele); a dosage is the copies of the allele in the call,
so 0/1 for a haploid call, as plink2 codes men on chrX (add sex as a covariate where haploid
and diploid calls mix); alleles with constant dosage are dropped and
reported as CONST_ALLELE; collinear predictors give CORR_TOO_HIGH / VIF_INFINITE /
VIF_TOO_HIGH. Only the genotype rows are reported (plink2's ``hide-covar``).

Linear regression is split in two so federation can reuse the first half:
:func:`linear_regression_statistics` gives per-variant sufficient statistics (n, X'X, X'y, y'y
over covariates and allele dosages) that add up across sample blocks and across nodes;
:func:`solve_linear_regression` turns (possibly pooled) statistics into plink2's results.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import xarray as xr
from scipy import stats as st

from tresor.stats import variables
from tresor.stats.aggregation import count_genotypes, variant_n_alleles
from tresor.stats.association_kernels import ERRCODES, MAX_CORR, MAX_VIF, stats_width
from tresor.stats.blocks import map_packed_variant_blocks, map_variant_blocks, packed_genotypes
from tresor.stats.packed import packed_view

__all__ = [
    "ERRCODES",
    "gwas_linear",
    "gwas_logistic",
    "linear_regression_statistics",
    "solve_linear_regression",
]


def _design(
    ds: xr.Dataset, phenotype: xr.DataArray, covariates: xr.DataArray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(covariates with intercept, y, include, predictor names) as NumPy over ds's samples."""
    n = ds.sizes["samples"]
    y = np.asarray(phenotype, dtype=float)
    if y.shape != (n,):
        raise ValueError(f"the phenotype has shape {y.shape}; expected ({n},) (one per sample)")
    columns = [np.ones(n)]
    names = ["intercept"]
    if covariates is not None:
        c = np.asarray(covariates, dtype=float)
        if c.ndim == 1:
            c = c[:, None]
        if c.shape[0] != n:
            raise ValueError(f"covariates have {c.shape[0]} rows; expected {n} (one per sample)")
        columns += list(c.T)
        if isinstance(covariates, xr.DataArray) and "covariates" in covariates.coords:
            names += [str(x) for x in covariates["covariates"].values]
        else:
            names += [f"COVAR{i + 1}" for i in range(c.shape[1])]
    design = np.column_stack(columns)
    include = ~np.isnan(y) & ~np.isnan(design).any(axis=1)
    if include.sum() < 2:
        from tresor.stats.phenotypes import PhenotypeError

        raise PhenotypeError(
            f"only {int(include.sum())} samples have the phenotype and every covariate; a "
            "regression needs more: check the phenotype and covariate files (or --covar-name)"
        )
    design = np.where(include[:, None], design, 0.0)
    y = np.where(include, y, 0.0)
    return design, y, include, names


def _major_allele(ds: xr.Dataset) -> xr.DataArray:
    """Most common allele over all of ``ds``'s samples (REF on ties), as plink2 omits it."""
    if variables.variant_allele_count not in ds:
        ds = count_genotypes(ds)
    return ds[variables.variant_allele_count].argmax("alleles").astype(np.int32)


def linear_regression_statistics(
    ds: xr.Dataset,
    phenotype: xr.DataArray,
    covariates: xr.DataArray | None = None,
    *,
    merge: bool = True,
) -> xr.Dataset:
    """Per-variant sufficient statistics of the linear model, lazily, one pass over genotypes.

    Predictors are ``[intercept, covariates..., REF, ALT1, ALT2, ...]`` (dosages); samples lacking
    the phenotype or a covariate are excluded, and per variant so are samples with a missing
    call. Returns ``variant_linreg_n``, ``variant_linreg_xtx``, ``variant_linreg_xty``,
    ``variant_linreg_yty``, with a ``predictors`` coordinate. These add up exactly across
    disjoint sample sets, which is what a federated pooled regression needs.
    """
    from tresor.stats.association_kernels import linreg_stats

    variables.validate(ds, variables.call_genotype)
    design, y, include, names = _design(ds, phenotype, covariates)
    a = ds.sizes["alleles"]
    k = design.shape[1]
    p = k + a
    width = stats_width(k, a)
    view = packed_view(ds)
    if view is None:
        flat = map_variant_blocks(
            ds[variables.call_genotype].data,
            lambda block, c, yy, inc: linreg_stats(block, c, yy, inc, a),
            width,
            np.float64,
            design,
            y,
            include,
        )
    else:
        flat = map_packed_variant_blocks(
            view, _packed_linreg(view, include, a, width), width, np.float64, design, y, include
        )
    predictors = [*names, "REF", *(f"ALT{i}" for i in range(1, a))]
    new = variables.create_dataset(
        {
            variables.variant_linreg_n: (("variants",), flat[:, 0].astype(np.int64)),
            variables.variant_linreg_xtx: (
                ("variants", "predictors", "predictors_2"),
                flat[:, 1 : 1 + p * p].reshape((-1, p, p)),
            ),
            variables.variant_linreg_xty: (
                ("variants", "predictors"),
                flat[:, 1 + p * p : 1 + p * p + p],
            ),
            variables.variant_linreg_yty: (("variants",), flat[:, -1]),
        }
    ).assign_coords(predictors=predictors, predictors_2=predictors)
    new.attrs["linreg_covariates"] = k
    return variables.conditional_merge(ds, new, merge)


def _packed_linreg(view, include: np.ndarray, n_alleles: int, width: int):
    """The per-block kernel of :func:`linear_regression_statistics` on packed genotypes: the
    int8 kernel's sums (the same additions in the same order) from the packed words."""
    from tresor.stats import packed_kernels
    from tresor.stats.association_kernels import linreg_stats
    from tresor.stats.packed import words_mask

    per_block = {}
    for block in view.sample_blocks:
        included = block.positions[include[block.start : block.stop]]
        per_block[block.start] = (block.rank(), words_mask(included, len(block.mask)))
    # the int8 kernel adds one copy at a time in diploid stores, dosage times value otherwise
    pairwise = view.layout.ploidy == 2

    def kernel(rows, block, c, yy, inc):
        exceptions = np.zeros((0, width))
        if len(rows.exception_calls):
            exceptions = linreg_stats(rows.exception_calls, c, yy, inc, n_alleles)
        rank, include_mask = per_block[block.start]
        return packed_kernels.linreg_stats(
            rows.codes,
            rows.haploid,
            rows.exception,
            exceptions,
            rank,
            include_mask,
            c,
            yy,
            inc,
            n_alleles,
            pairwise,
        )

    return kernel


def _results(solved: da.Array, width: int, major: da.Array, n_alleles: da.Array, dist: str) -> dict:
    """Result variables from a kernel's [beta | se | stat | error | df] columns."""
    beta = solved[:, :width]
    se = solved[:, width : 2 * width]
    stat = solved[:, 2 * width : 3 * width]
    err = solved[:, 3 * width : 4 * width]
    alleles = da.arange(width)[None, :]
    tested = (alleles < n_alleles[:, None]) & (alleles != major[:, None])
    if dist == "t":
        df = solved[:, 4 * width][:, None]
        p = da.map_blocks(lambda t, d: 2 * st.t.sf(np.abs(t), d), stat, df, dtype=float)
    else:
        p = da.map_blocks(lambda z: 2 * st.norm.sf(np.abs(z)), stat, dtype=float)
    dims = ("variants", "alleles")
    return {
        variables.variant_glm_a1: (dims, tested),
        variables.variant_glm_beta: (dims, beta),
        variables.variant_glm_se: (dims, se),
        variables.variant_glm_stat: (dims, stat),
        variables.variant_glm_p_value: (dims, p),
        variables.variant_glm_error: (
            dims,
            da.where(tested, da.nan_to_num(err), 0).astype(np.uint8),
        ),
    }


def solve_linear_regression(
    ds: xr.Dataset,
    *,
    max_corr: float = MAX_CORR,
    max_vif: float = MAX_VIF,
    merge: bool = True,
) -> xr.Dataset:
    """plink2 --glm linear results from the sufficient statistics in ``ds``.

    Needs ``variant_linreg_*`` (from :func:`linear_regression_statistics`, or summed over
    nodes), ``variant_allele_count`` (for the major allele) and ``variant_allele``. Returns
    ``variant_glm_a1`` (tested alleles), ``variant_glm_beta``, ``variant_glm_se``,
    ``variant_glm_stat`` (T), ``variant_glm_p_value``, ``variant_glm_error`` and
    ``variant_glm_n``.
    """
    from tresor.stats.association_kernels import linreg_solve

    variables.validate(
        ds,
        variables.variant_linreg_n,
        variables.variant_linreg_xtx,
        variables.variant_linreg_xty,
        variables.variant_linreg_yty,
        variables.variant_allele_count,
    )
    width = ds.sizes["alleles"]
    k = ds.sizes["predictors"] - width

    def lazy(name: str) -> da.Array:
        """Dask array of a variable (statistics pooled in memory come as NumPy)."""
        data = ds[name].data
        return data if isinstance(data, da.Array) else da.from_array(data, chunks=10_000)

    xtx = lazy(variables.variant_linreg_xtx)
    n = lazy(variables.variant_linreg_n)
    chunks = (xtx.chunks[0],)
    flat = da.concatenate(
        [
            n.astype(float)[:, None].rechunk((chunks[0], 1)),
            xtx.reshape((n.shape[0], -1)).rechunk((chunks[0], -1)),
            lazy(variables.variant_linreg_xty).rechunk((chunks[0], -1)),
            lazy(variables.variant_linreg_yty)[:, None].rechunk((chunks[0], 1)),
        ],
        axis=1,
    ).rechunk((chunks[0], -1))
    major = da.asarray(_major_allele(ds).data).rechunk(chunks)
    n_alleles = da.asarray(variant_n_alleles(ds).data).rechunk(chunks)
    solved = da.map_blocks(
        lambda s, m, na: linreg_solve(s, m[:, 0], na[:, 0], k, width, max_corr, max_vif),
        flat,
        major[:, None],
        n_alleles[:, None],
        dtype=np.float64,
        chunks=(chunks[0], (4 * width + 1,)),
    )
    results = _results(solved, width, major, n_alleles, "t")
    results[variables.variant_glm_n] = (("variants",), n)
    new = variables.create_dataset(results)
    return variables.conditional_merge(ds, new, merge)


def gwas_linear(
    ds: xr.Dataset,
    phenotype: xr.DataArray,
    covariates: xr.DataArray | None = None,
    *,
    merge: bool = True,
) -> xr.Dataset:
    """Linear regression of ``phenotype`` on each variant, as plink2 --glm (hide-covar).

    ``phenotype`` is one value per sample (NaN = missing); ``covariates`` is (samples,
    covariates). See :func:`solve_linear_regression` for what is returned; lazy.
    """
    if variables.variant_allele_count not in ds:
        ds = count_genotypes(ds)
    with_stats = linear_regression_statistics(ds, phenotype, covariates)
    solved = solve_linear_regression(with_stats, merge=False)
    return variables.conditional_merge(ds, solved, merge)


FIRTH_MODES = {"no-firth": 0, "firth-fallback": 1, "firth": 2}


def gwas_logistic(
    ds: xr.Dataset,
    phenotype: xr.DataArray,
    covariates: xr.DataArray | None = None,
    *,
    firth: str = "firth-fallback",
    max_corr: float = MAX_CORR,
    max_vif: float = MAX_VIF,
    merge: bool = True,
) -> xr.Dataset:
    """Logistic regression of a 0/1 ``phenotype`` on each variant, as plink2 --glm.

    ``firth`` is plink2's mode: ``firth-fallback`` (default; Firth regression when an allele
    is absent from cases or controls, or logistic regression does not converge), ``firth``
    (always) or ``no-firth``. Returns the variables of :func:`solve_linear_regression` (the
    statistic is Wald Z; beta is the log odds ratio) plus ``variant_glm_firth``. Each block
    holds every sample, so the store's sample chunks are merged first.
    """
    from tresor.stats.association_kernels import logreg_block

    if firth not in FIRTH_MODES:
        raise ValueError(f"firth must be one of {', '.join(FIRTH_MODES)}, not {firth!r}")
    variables.validate(ds, variables.call_genotype)
    values = np.asarray(phenotype, dtype=float)
    if not np.isin(values[~np.isnan(values)], (0.0, 1.0)).all():
        raise ValueError("a logistic phenotype must be 0 (control) / 1 (case) with NaN missing")
    design, y, include, _ = _design(ds, phenotype, covariates)
    view = packed_view(ds)
    gt = ds[variables.call_genotype].data if view is None else packed_genotypes(view)
    if len(gt.chunks[1]) > 1:
        rows = max(1, int(64e6 // (gt.shape[1] * gt.shape[2])))
        gt = gt.rechunk({0: rows, 1: -1})
    width = ds.sizes["alleles"]
    n_alleles = variant_n_alleles(ds).data.rechunk((gt.chunks[0],))
    mode = FIRTH_MODES[firth]
    solved = da.map_blocks(
        lambda block, na: logreg_block(
            block, design, y, include, na[:, 0, 0], width, mode, max_corr, max_vif
        ),
        gt,
        n_alleles[:, None, None],
        dtype=np.float64,
        drop_axis=2,
        chunks=(gt.chunks[0], (4 * width + 2,)),
    )
    major = _major_allele(ds).data.rechunk((gt.chunks[0],))
    results = _results(solved, width, major, n_alleles, "z")
    results[variables.variant_glm_firth] = (("variants",), solved[:, 4 * width] > 0)
    results[variables.variant_glm_n] = (("variants",), solved[:, 4 * width + 1].astype(np.int64))
    new = variables.create_dataset(results)
    return variables.conditional_merge(ds, new, merge)
