"""Hardy-Weinberg exact test per variant, as plink2 --hardy.

Each allele is tested against all the others together (for a biallelic site the two tests are
the same, and ``.hardy`` shows the REF line only); a site with k > 2 alleles gets k tests, one
``.hardy`` line each, as plink2 does.

The test is defined on diploid calls: haploid calls (chrX of a man, chrY, chrM) and calls with
more than two alleles are left out of it, and a variant with only such calls gets no p-value
(NaN; plink2 skips haploid variants). :func:`tresor.stats.reports.write_hardy` lists those
variants with what was left out in ``PREFIX.hardy.notes``.
"""

from __future__ import annotations

import threading

import dask.array as da
import numpy as np
import xarray as xr

from tresor.stats import variables
from tresor.stats.aggregation import count_genotypes, variant_n_alleles

#: P-values by genotype counts, one cache per thread (of a process, or of a Dask worker).
_CACHES = threading.local()


def _test(hom: np.ndarray, het: np.ndarray, n_alleles: np.ndarray) -> np.ndarray:
    """The exact tests of a block, through this thread's cache of p-values by counts."""
    from tresor.stats.hwe_kernels import hwe_exact_cached, new_cache

    if not hasattr(_CACHES, "cache"):
        _CACHES.cache = new_cache()
    return hwe_exact_cached(hom, het, n_alleles[:, 0], _CACHES.cache)


def hardy_weinberg_test(ds: xr.Dataset, *, merge: bool = True) -> xr.Dataset:
    """Exact HWE p-value of each allele against the rest: ``variant_hwe_p_value``.

    Uses ``variant_allele_hom_count`` and ``variant_allele_het_count`` when present (from
    :func:`~tresor.stats.aggregation.count_genotypes`), else counts them.
    """
    if variables.variant_n_haploid not in ds:
        ds = count_genotypes(ds)
    variables.validate(ds, variables.variant_allele_hom_count, variables.variant_allele_het_count)
    hom = ds[variables.variant_allele_hom_count].data
    het = ds[variables.variant_allele_het_count].data
    n_alleles = variant_n_alleles(ds).data.rechunk((hom.chunks[0],))
    p = da.map_blocks(
        _test,
        hom,
        het.rechunk(hom.chunks),
        n_alleles[:, None],
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )
    # no diploid call, only haploid or polyploid ones: not tested (all missing stays P = 1,
    # as plink2 prints it)
    n_diploid = (hom.sum(axis=1) + het.sum(axis=1) // 2).rechunk(hom.chunks[0])
    others = ds[variables.variant_n_haploid].data + ds[variables.variant_n_polyploid].data
    untested = (n_diploid == 0) & (others.rechunk(hom.chunks[0]) > 0)
    p = da.where(untested[:, None], np.nan, p)
    new = variables.create_dataset({variables.variant_hwe_p_value: (("variants", "alleles"), p)})
    return variables.conditional_merge(ds, new, merge)
