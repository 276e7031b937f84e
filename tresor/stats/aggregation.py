"""Allele counts, allele frequencies, genotype counts and call rates; lazy, one pass per call.

Every function takes a Dataset in VCF Zarr naming and returns a Dataset (merged into the input
unless ``merge=False``), with Dask arrays: nothing is read until you ``compute()``. The counts
come from one numba kernel per Zarr chunk (:mod:`tresor.stats.aggregation_kernels`), so all of
``variant_stats`` costs one decompression of each chunk.

Multi-allelic sites are counted per allele, as plink2 does: ``variant_allele_count`` has one
column per allele (REF first) and ``.afreq`` lists every ALT frequency.

Ploidy is taken per call, from the alleles it holds: a haploid call (chrX of a man, chrM, chrY)
adds one allele, a diploid call two, a triploid call three, as bcftools counts them; genotype
classes (homozygous, heterozygous, for HWE and F) are diploid calls only.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from tresor.stats import variables
from tresor.stats.blocks import (
    map_packed_sample_blocks,
    map_packed_variant_blocks,
    map_sample_blocks,
    map_variant_blocks,
)
from tresor.stats.packed import packed_view


def _n_alleles(ds: xr.Dataset) -> int:
    return ds.sizes["alleles"]


def count_genotypes(ds: xr.Dataset, *, merge: bool = True) -> xr.Dataset:
    """Per-variant allele counts, homozygous and heterozygous counts per allele, called calls.

    Returns ``variant_allele_count``, ``variant_allele_total``, ``variant_allele_hom_count``,
    ``variant_allele_het_count``, ``variant_n_called``, ``variant_n_haploid`` and
    ``variant_n_polyploid`` (all int).
    """
    from tresor.stats.aggregation_kernels import CALLED, HAPLOID, POLYPLOID

    variables.validate(ds, variables.call_genotype)
    a = _n_alleles(ds)
    counts = _count_blocks(ds, a)
    allele_count = counts[:, 0:a]
    new = variables.create_dataset(
        {
            variables.variant_allele_count: (("variants", "alleles"), allele_count),
            variables.variant_allele_total: (("variants",), allele_count.sum(axis=1)),
            variables.variant_allele_hom_count: (("variants", "alleles"), counts[:, a : 2 * a]),
            variables.variant_allele_het_count: (
                ("variants", "alleles"),
                counts[:, 2 * a : 3 * a],
            ),
            variables.variant_n_called: (("variants",), counts[:, 3 * a + CALLED]),
            variables.variant_n_haploid: (("variants",), counts[:, 3 * a + HAPLOID]),
            variables.variant_n_polyploid: (("variants",), counts[:, 3 * a + POLYPLOID]),
        }
    )
    return variables.conditional_merge(ds, new, merge)


def _count_blocks(ds: xr.Dataset, n_alleles: int):
    """(variants, counts_width) counts per variant, from the packed companion when there is a
    current one (the same numbers), else from call_genotype."""
    from tresor.stats.aggregation_kernels import counts_width, genotype_counts

    width = counts_width(n_alleles)
    view = packed_view(ds)
    if view is None:
        return map_variant_blocks(
            ds[variables.call_genotype].data,
            lambda block: genotype_counts(block, n_alleles),
            width=width,
            dtype=np.int64,
        )
    from tresor.stats.direct import count_rows

    def kernel(rows, block):
        return count_rows(rows, block.mask, n_alleles)

    return map_packed_variant_blocks(view, kernel, width, np.int64)


def _sample_sums(ds: xr.Dataset, expected_hom: xr.DataArray):
    """(samples, 4) float: called, heterozygous, homozygous diploid calls and the sum of
    ``expected_hom`` over called diploid calls, per sample (one pass)."""
    from tresor.stats.aggregation_kernels import sample_counts

    view = packed_view(ds)
    if view is None:
        return map_sample_blocks(
            ds[variables.call_genotype].data, sample_counts, 4, np.float64, expected_hom.data
        )
    from tresor.stats import packed_kernels

    def kernel(rows, block, e):
        return packed_kernels.sample_counts(
            rows.codes,
            rows.haploid,
            rows.exception,
            packed_kernels.call_classes(rows.exception_calls),
            block.positions,
            e,
        )

    return map_packed_sample_blocks(view, kernel, 4, np.float64, expected_hom.data)


def sample_call_rate(ds: xr.Dataset, *, merge: bool = True) -> xr.Dataset:
    """Per-sample called and missing calls and call rate (plink2 --missing's .smiss), in one
    pass that needs no allele frequencies: ``sample_n_called``, ``sample_n_missing``,
    ``sample_call_rate``."""
    view = packed_view(ds)
    if view is None:
        zeros = xr.DataArray(np.zeros(ds.sizes["variants"]), dims="variants").chunk(
            {"variants": ds[variables.call_genotype].chunks[0]}
        )
        n_called = _sample_sums(ds, zeros)[:, 0].astype(np.int64)
    else:
        from tresor.stats.direct import missing_rows

        def kernel(rows, block):
            return missing_rows(rows, block.mask, block.positions)[1][:, None]

        n_missing = map_packed_sample_blocks(view, kernel, 1, np.int64)[:, 0]
        n_called = ds.sizes["variants"] - n_missing
    n_called = xr.DataArray(n_called, dims=("samples",))
    new = variables.create_dataset(
        {
            variables.sample_n_called: n_called,
            variables.sample_n_missing: ds.sizes["variants"] - n_called,
            variables.sample_call_rate: n_called / ds.sizes["variants"],
        }
    )
    return variables.conditional_merge(ds, new, merge)


def variant_n_alleles(ds: xr.Dataset) -> xr.DataArray:
    """Number of alleles at each site (REF included), from ``variant_allele`` padding.

    Read from the lengths in the store's chunks when the alleles are the store's own (no
    Python string per allele), else from the strings.
    """
    from tresor.stats.chunks import ChunkFiles
    from tresor.stats.lineage import VARIANT_INDEX, store_path, store_variables

    variables.validate(ds, variables.variant_allele)
    if store_variables(ds, VARIANT_INDEX, variables.variant_allele):
        alleles = ChunkFiles.open(store_path(ds), variables.variant_allele)
        if alleles is not None and alleles.strings and alleles.shape[1:] == (ds.sizes["alleles"],):
            counts = ds[VARIANT_INDEX].data.map_blocks(
                lambda rows: (alleles.string_sizes(rows) > 0).sum(axis=1).astype(np.int32),
                dtype=np.int32,
            )
            return xr.DataArray(counts, dims=("variants",))
    return (ds[variables.variant_allele] != "").sum("alleles").astype(np.int32)


def variant_stats(ds: xr.Dataset, *, merge: bool = True) -> xr.Dataset:
    """Counts (see :func:`count_genotypes`) plus frequencies, call rate, MAF and major allele.

    ``variant_allele_frequency`` is NaN where nothing is called; ``variant_major_allele`` is
    the first allele with the highest count, so REF wins ties.
    """
    counts = count_genotypes(ds, merge=False)
    total = counts[variables.variant_allele_total]
    freq = counts[variables.variant_allele_count] / total.where(total > 0)
    major = counts[variables.variant_allele_count].argmax("alleles").astype(np.int32)
    new = variables.create_dataset(
        {
            **counts.data_vars,
            variables.variant_n_alleles: variant_n_alleles(ds),
            variables.variant_allele_frequency: freq,
            variables.variant_call_rate: counts[variables.variant_n_called] / ds.sizes["samples"],
            variables.variant_minor_allele_frequency: 1.0 - freq.max("alleles"),
            variables.variant_major_allele: major,
            # each heterozygous diploid call counts once for each of its two alleles
            variables.variant_n_het: counts[variables.variant_allele_het_count].sum("alleles") // 2,
        }
    )
    return variables.conditional_merge(ds, new, merge)


def sample_stats(ds: xr.Dataset, *, merge: bool = True) -> xr.Dataset:
    """Per-sample call rate, heterozygosity and inbreeding coefficient (plink2 --missing, --het).

    Returns ``sample_n_called``, ``sample_n_missing``, ``sample_call_rate``, ``sample_n_het``,
    ``sample_heterozygosity`` (heterozygous / called), ``sample_n_hom``,
    ``sample_expected_hom`` (sum over called variants of the sum of squared allele
    frequencies, Nei without the n/(n-1) factor, as plink2 --het) and
    ``sample_inbreeding`` (F = (O - E) / (N - E)). Allele frequencies are over the samples
    of ``ds``. One pass over the genotypes.
    """
    counts = count_genotypes(ds, merge=False)
    total = counts[variables.variant_allele_total]
    freq = counts[variables.variant_allele_count] / total.where(total > 0)
    expected_hom = (freq**2).sum("alleles").fillna(0.0)
    sums = _sample_sums(ds, expected_hom)
    n_called = xr.DataArray(sums[:, 0], dims=("samples",)).astype(np.int64)
    n_het = xr.DataArray(sums[:, 1], dims=("samples",)).astype(np.int64)
    n_hom = xr.DataArray(sums[:, 2], dims=("samples",)).astype(np.int64)
    e_hom = xr.DataArray(sums[:, 3], dims=("samples",))
    n_diploid = n_het + n_hom
    new = variables.create_dataset(
        {
            variables.sample_n_called: n_called,
            variables.sample_n_missing: ds.sizes["variants"] - n_called,
            variables.sample_call_rate: n_called / ds.sizes["variants"],
            variables.sample_n_het: n_het,
            variables.sample_heterozygosity: n_het / n_called.where(n_called > 0),
            variables.sample_n_hom: n_hom,
            variables.sample_expected_hom: e_hom,
            # no diploid call (a man's chrY): no F, and no 0/0 warning
            variables.sample_inbreeding: (n_hom - e_hom) / (n_diploid - e_hom).where(n_diploid > 0),
        }
    )
    return variables.conditional_merge(ds, new, merge)
