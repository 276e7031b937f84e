"""Map a kernel over the Zarr chunks of call_genotype and reduce across the other axis.

A per-variant kernel sees one (variants, samples, ploidy) block, plus the matching rows of any
per-sample arrays (phenotype, covariates), and returns (variants, width); blocks of the same
variants but different samples are summed. A per-sample kernel returns (samples, width),
summed over variant blocks with a tree reduction. Either way each chunk is decompressed once
and only a few chunks are in memory at a time, whatever the number of variants.
"""

from __future__ import annotations

import string
from collections.abc import Callable

import dask.array as da
import numpy as np


def genotype_blocks(gt: da.Array) -> da.Array:
    """``gt`` with the ploidy axis in one chunk (bio2zarr writes it so; other writers may not)."""
    if len(gt.chunks[2]) != 1:
        gt = gt.rechunk({2: -1})
    return gt


def _one_block(x):
    """The block itself from blockwise's list of blocks along a contracted, single-chunk axis.

    ``concatenate=True`` would copy each block (dask's concatenate3), 10 MB per genotype chunk.
    """
    while isinstance(x, list):
        (x,) = x
    return x


def _per_sample_args(gt: da.Array, arrays: tuple) -> list:
    """blockwise (array, index) pairs for per-sample arrays chunked like gt's samples axis."""
    pairs = []
    letters = iter(string.ascii_lowercase[10:])
    for arr in arrays:
        arr = da.asarray(arr)
        arr = arr.rechunk((gt.chunks[1], *((-1,) * (arr.ndim - 1))))
        pairs += [arr, "s" + "".join(next(letters) for _ in range(arr.ndim - 1))]
    return pairs


def _per_block(
    gt: da.Array, kernel: Callable[..., np.ndarray], width: int, dtype, args: list, axis: str
) -> da.Array:
    """(variants, samples, width) with one result per genotype block along ``axis`` ("s" for a
    per-variant kernel, whose result stands for the block's samples; "v" for a per-sample one),
    left for the caller to sum over that axis."""
    expand = (slice(None), None) if axis == "s" else (None, slice(None))

    def run(block, *rows):
        return kernel(_one_block(block), *map(_one_block, rows))[expand]

    return da.blockwise(
        run,
        "vsw",
        gt,
        "vsp",
        *args,
        new_axes={"w": width},
        adjust_chunks={axis: 1},
        concatenate=False,
        dtype=dtype,
        meta=np.empty((0, 0, 0), dtype=dtype),
    )


def map_variant_blocks(
    gt: da.Array,
    kernel: Callable[..., np.ndarray],
    width: int,
    dtype,
    *sample_arrays,
    sum_samples: bool = True,
) -> da.Array:
    """(variants, width): ``kernel(block, *sample_rows)`` per genotype block.

    Results of blocks that hold different samples of the same variants are summed, so the
    kernel must return something additive over samples (counts, sums of products). With
    ``sum_samples=False`` the samples axis must be a single chunk (for kernels that need every
    sample at once, such as logistic regression).
    """
    gt = genotype_blocks(gt)
    if not sum_samples and len(gt.chunks[1]) != 1:
        raise ValueError("this kernel needs all samples in one chunk; rechunk samples first")

    per_block = _per_block(gt, kernel, width, dtype, _per_sample_args(gt, sample_arrays), "s")
    if len(gt.chunks[1]) == 1:
        return per_block[:, 0, :]
    return per_block.sum(axis=1, dtype=dtype)


def map_sample_blocks(
    gt: da.Array, kernel: Callable[..., np.ndarray], width: int, dtype, *variant_arrays
) -> da.Array:
    """(samples, width): ``kernel(block, *variant_rows)`` per block, summed over variant blocks."""
    gt = genotype_blocks(gt)
    args = []
    for arr in variant_arrays:
        args += [da.asarray(arr).rechunk((gt.chunks[0],)), "v"]
    return _per_block(gt, kernel, width, dtype, args, "v").sum(axis=0, dtype=dtype)


# --- the packed companion -----------------------------------------------------------------
# The same maps over a Dataset whose genotypes come from its packed companion
# (tresor.stats.packed): one task per block of the Dataset's variants (its call_genotype
# chunks) and sample chunk of the companion, with the same reductions as above, so that sums of
# floating-point numbers are added in the same order on either path.


def map_packed_variant_blocks(
    view, kernel: Callable[..., np.ndarray], width: int, dtype, *sample_arrays
) -> da.Array:
    """(variants, width): ``kernel(rows, block, *sample_rows)`` per block of variants and of
    samples (the Dataset's chunks).

    ``rows`` is a :class:`~tresor.stats.packed.PackedRows`, ``block`` its
    :class:`~tresor.stats.packed.SampleBlock` and ``sample_rows`` the rows of each per-sample
    array (in the Dataset's sample order) for the block's samples. Summed over sample blocks,
    as :func:`map_variant_blocks` sums them.
    """
    from tresor.stats.packed import read_rows

    arrays = [np.asarray(a) for a in sample_arrays]
    parts = []
    for block in view.sample_blocks:
        rows_of = [a[block.start : block.stop] for a in arrays]

        def run(index, block=block, rows_of=rows_of):
            return kernel(read_rows(view, index, block), block, *rows_of)

        parts.append(
            da.map_blocks(
                run,
                view.variants,
                new_axis=1,
                chunks=(view.variants.chunks[0], (width,)),
                dtype=dtype,
                meta=np.empty((0, 0), dtype=dtype),
            )
        )
    if len(parts) == 1:
        return parts[0]
    return da.stack(parts, axis=1).sum(axis=1, dtype=dtype)


def map_packed_sample_blocks(
    view, kernel: Callable[..., np.ndarray], width: int, dtype, *variant_arrays
) -> da.Array:
    """(samples, width): ``kernel(rows, block, *variant_rows)`` per block of variants and of
    samples, returning (samples of the block, width); summed over variant blocks as
    :func:`map_sample_blocks` sums them."""
    from tresor.stats.packed import read_rows

    args = []
    for arr in variant_arrays:
        args.append(da.asarray(arr).rechunk((view.variants.chunks[0],)))
    parts = []
    n_blocks = len(view.variants.chunks[0])
    for block in view.sample_blocks:

        def run(index, *rows, block=block):
            return kernel(read_rows(view, index, block), block, *rows)[None]

        parts.append(
            da.map_blocks(
                run,
                view.variants,
                *args,
                new_axis=(1, 2),
                chunks=((1,) * n_blocks, (block.stop - block.start,), (width,)),
                dtype=dtype,
                meta=np.empty((0, 0, 0), dtype=dtype),
            )
        )
    per_block = parts[0] if len(parts) == 1 else da.concatenate(parts, axis=1)
    return per_block.sum(axis=0, dtype=dtype)


def packed_genotypes(view) -> da.Array:
    """The Dataset's calls decoded from the companion: int8 (variants, samples, ploidy),
    chunked like its call_genotype along variants, every sample in one chunk. Reads an eighth
    of the bytes of the store and no zstd; every int8 kernel reads these as the store's."""
    from tresor.stats.packed import read_rows
    from tresor.stats.packed_kernels import decode_calls

    ploidy = view.layout.ploidy

    def run(index):
        parts = []
        for block in view.sample_blocks:
            rows = read_rows(view, index, block)
            parts.append(
                decode_calls(
                    rows.codes,
                    rows.haploid,
                    rows.exception,
                    rows.exception_calls,
                    block.positions,
                    ploidy,
                )
            )
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    return da.map_blocks(
        run,
        view.variants,
        new_axis=(1, 2),
        chunks=(view.variants.chunks[0], (view.n_samples,), (ploidy,)),
        dtype=np.int8,
        meta=np.empty((0, 0, 0), dtype=np.int8),
    )
