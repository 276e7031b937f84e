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

import importlib
import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

#: Public names and the module that defines them; imported on first use, so that
#: ``tresor freq`` does not pay for SciPy or matplotlib.
_EXPORTS = {
    "count_genotypes": "aggregation",
    "sample_stats": "aggregation",
    "variant_stats": "aggregation",
    "gwas_linear": "association",
    "gwas_logistic": "association",
    "linear_regression_statistics": "association",
    "solve_linear_regression": "association",
    "hardy_weinberg_test": "hwe",
    "load_covariates": "phenotypes",
    "load_phenotype": "phenotypes",
    "keep_samples": "selection",
    "ld_prune": "pca",
    "select_pca_variants": "pca",
    "read_sample_ids": "selection",
    "select_regions": "selection",
    "variant_filter": "selection",
}


class _Package(types.ModuleType):
    """``tresor.stats.pca`` is the function, whatever imports the submodule of that name first:
    the import system's ``setattr`` of the submodule is ignored (``from tresor.stats.pca import
    ...`` still reaches the module), and nothing is imported until it is used, so that modules
    such as :mod:`tresor.stats.direct` load without xarray or Dask."""

    @property
    def pca(self):
        from tresor.stats.pca import pca

        return pca

    @pca.setter
    def pca(self, value) -> None:
        pass


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"tresor.stats.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    if name == "plots":
        return importlib.import_module("tresor.stats.plots")
    raise AttributeError(f"module 'tresor.stats' has no attribute {name!r}")


def genotype_dask_array(ds: xr.Dataset):
    """``call_genotype`` as a scikit-allel ``GenotypeDaskArray`` (lazy, chunked as stored).

    Gives the whole scikit-allel API (``count_alleles``, ``is_het``, ``to_n_alt``, ...) on the
    dataset without loading it. Negative values (-1 missing, -2 fill) count as missing.
    """
    import allel

    return allel.GenotypeDaskArray(ds["call_genotype"].data)


def compute(*objects, progress: bool = True) -> tuple:
    """Compute Datasets / DataArrays / Dask arrays, with a progress bar: the distributed one
    when a Client is active (e.g. dask-gateway), else tqdm's (a widget in a notebook, text
    elsewhere).

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
    from tqdm.dask import TqdmCallback

    with TqdmCallback(desc="computing"):
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
