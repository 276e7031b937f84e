"""Genomics over VCF Zarr with Dask: QC, allele frequencies, HWE, GWAS, PCA, as plink2 does them.

Functions take an xarray Dataset in VCF Zarr naming (``tresor.open_dataset(...)`` or
``tresor.io.open_store(path)``) and return a Dataset, merged into the input unless
``merge=False``, lazily: nothing is read until ``.compute()``. Variables are declared in
:mod:`tresor.stats.variables`; files in plink2's formats come from :mod:`tresor.stats.reports`.

    import tresor, tresor.stats as ts
    ds = tresor.open_dataset("dk")
    ds = ts.variant_stats(ds)                     # counts, frequencies, call rate, MAF
    ds = ts.hardy_weinberg_test(ds)
    gwas = ts.gwas_linear(ds, phenotype, covariates).compute()
    g = ts.genotype_dask_array(ds)                # scikit-allel GenotypeDaskArray
"""

from __future__ import annotations

import xarray as xr

from tresor.stats import plots
from tresor.stats.aggregation import count_genotypes, sample_stats, variant_stats
from tresor.stats.association import (
    gwas_linear,
    gwas_logistic,
    linear_regression_statistics,
    solve_linear_regression,
)
from tresor.stats.hwe import hardy_weinberg_test
from tresor.stats.pca import ld_prune, pca, select_pca_variants
from tresor.stats.phenotypes import load_covariates, load_phenotype
from tresor.stats.selection import keep_samples, read_sample_ids, select_regions, variant_filter


def genotype_dask_array(ds: xr.Dataset):
    """``call_genotype`` as a scikit-allel ``GenotypeDaskArray`` (lazy, chunked as stored).

    Gives the whole scikit-allel API (``count_alleles``, ``is_het``, ``to_n_alt``, ...) on the
    dataset without loading it. Negative values (-1 missing, -2 fill) count as missing.
    """
    import allel

    return allel.GenotypeDaskArray(ds["call_genotype"].data)


def compute(*objects, progress: bool = True) -> tuple:
    """Compute Datasets / DataArrays / Dask arrays, with a progress bar: the distributed one
    when a Client is active (e.g. dask-gateway), else Dask's local ProgressBar.

    Each object is computed with its own ``.compute()`` (xarray's path; ``dask.compute`` on a
    multi-variable Dataset trips over a graph-optimization bug in this Dask release).
    """
    if not progress:
        return tuple(obj.compute() for obj in objects)
    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):
        client = None
    if client is not None:
        from distributed import progress as distributed_progress

        persisted = [obj.persist() for obj in objects]
        distributed_progress(*persisted)
        return tuple(obj.compute() for obj in persisted)
    from dask.diagnostics import ProgressBar

    with ProgressBar():
        return tuple(obj.compute() for obj in objects)


__all__ = [
    "compute",
    "count_genotypes",
    "genotype_dask_array",
    "gwas_linear",
    "gwas_logistic",
    "hardy_weinberg_test",
    "keep_samples",
    "ld_prune",
    "linear_regression_statistics",
    "load_covariates",
    "load_phenotype",
    "pca",
    "plots",
    "read_sample_ids",
    "sample_stats",
    "select_pca_variants",
    "select_regions",
    "solve_linear_regression",
    "variant_filter",
    "variant_stats",
]
