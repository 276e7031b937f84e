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
