"""Numba kernels for allele and genotype counts, one Zarr chunk of call_genotype at a time.

No xarray or Dask here: plain arrays in, plain arrays out, so the kernels can be tested alone.
A call counts as called when none of its alleles is -1 (missing); -2 (fill, lower ploidy) is
skipped, so the ploidy of each call is its number of alleles, whatever the store's ploidy: a
haploid call adds one allele and no genotype class, a triploid call three alleles. Genotype
classes (homozygous, heterozygous) are counted for diploid calls only. This is plink2's rule
for hard calls: a half-missing call such as ``./1`` is missing.
"""

from __future__ import annotations

import sys

import numba
import numpy as np

#: Layout of the columns returned by :func:`genotype_counts` for ``A`` alleles:
#: [allele counts (A) | homozygous counts (A) | heterozygous counts (A) | n_called |
#: n_haploid | n_polyploid]: called calls, and those of them with one allele or more than two.
ALLELE, HOM, HET = 0, 1, 2
CALLED, HAPLOID, POLYPLOID = 0, 1, 2
N_TAIL = 3


def counts_width(n_alleles: int) -> int:
    """Number of columns :func:`genotype_counts` returns for ``n_alleles`` alleles."""
    return 3 * n_alleles + N_TAIL


@numba.njit(nogil=True, cache=True)
def _diploid_pair_table(g: np.ndarray, v: int, width: int, table: np.ndarray) -> None:
    """Histogram of (first, second) allele pairs of variant ``v``; index (a + 2) * width + b + 2.

    One increment per call and no branches: the hot loop of every diploid count. Four
    interleaved sub-histograms (``table`` is (4, width**2)) keep consecutive increments of the
    same bin (most calls are 0/0) from waiting on each other.
    """  # pragma: no cover
    table[:] = 0
    n = g.shape[1]
    s = 0
    while s + 4 <= n:
        for j in range(4):
            table[j, (np.intp(g[v, s + j, 0]) + 2) * width + np.intp(g[v, s + j, 1]) + 2] += 1
        s += 4
    while s < n:
        table[0, (np.intp(g[v, s, 0]) + 2) * width + np.intp(g[v, s, 1]) + 2] += 1
        s += 1
    for j in range(1, 4):
        table[0] += table[j]


#: A diploid call read as one little-endian uint16 (first allele in the low byte).
_REF_REF, _ALT_REF, _REF_ALT, _ALT_ALT = 0x0000, 0x0001, 0x0100, 0x0101


#: Lanes of the biallelic counters: 32 uint16 per class fill AVX2/AVX-512 registers.
_LANES = 32


@numba.njit(nogil=True, cache=True)
def _count_pair_lanes(row: np.ndarray, acc: np.ndarray) -> None:
    """Per-lane counts of 0/0, 1/0, 0/1, 1/1 and calls with a -1 in ``row``'s whole lanes.

    Equality tests into uint16 lanes vectorize (SIMD), unlike a histogram; the caller keeps
    ``len(row) // _LANES`` at most 65535 so that no lane overflows.
    """  # pragma: no cover
    acc[:] = 0
    for b in range(row.shape[0] // _LANES):
        for j in range(_LANES):
            x = row[b * _LANES + j]
            acc[0, j] += x == _REF_REF
            acc[1, j] += x == _ALT_REF
            acc[2, j] += x == _REF_ALT
            acc[3, j] += x == _ALT_ALT
            acc[4, j] += ((x & 0xFF) == 0xFF) | ((x & 0xFF00) == 0xFF00)


@numba.njit(nogil=True, cache=True)
def _biallelic_pair_counts(row: np.ndarray, acc: np.ndarray, out: np.ndarray) -> bool:
    """Counts of one variant into ``out`` if its calls are only 0/0, 0/1, 1/0, 1/1 or contain
    -1; else False, ``out`` untouched, for the general path (allele 2+, haploid -2 fill).

    ``row`` is the variant's diploid calls as uint16 (first allele in the low byte); ``acc`` is
    scratch space of shape (5, _LANES) uint16.
    """  # pragma: no cover
    n = row.shape[0]
    n_blocks = n // _LANES
    if n_blocks > 65535:  # a uint16 lane could overflow
        return False
    _count_pair_lanes(row, acc)
    counts = np.zeros(5, dtype=np.int64)  # 0/0, 1/0, 0/1, 1/1, missing
    for k in range(5):
        counts[k] = acc[k].sum()
    for s in range(n_blocks * _LANES, n):
        x = row[s]
        counts[0] += x == _REF_REF
        counts[1] += x == _ALT_REF
        counts[2] += x == _REF_ALT
        counts[3] += x == _ALT_ALT
        counts[4] += ((x & 0xFF) == 0xFF) | ((x & 0xFF00) == 0xFF00)
    rr, ar, ra, aa, miss = counts[0], counts[1], counts[2], counts[3], counts[4]
    called = rr + ar + ra + aa
    if called + miss != n:
        return False
    n_alleles = (out.shape[0] - 1) // 3
    het = ar + ra
    out[0] = 2 * rr + het
    out[1] = 2 * aa + het
    out[n_alleles] = rr
    out[n_alleles + 1] = aa
    out[2 * n_alleles] = het
    out[2 * n_alleles + 1] = het
    out[3 * n_alleles] = called
    return True


def genotype_counts(g: np.ndarray, n_alleles: int) -> np.ndarray:
    """Per-variant counts of a (variants, samples, ploidy) int8 block; see the column layout."""
    fast = (
        g.ndim == 3
        and g.shape[2] == 2
        and n_alleles >= 2
        and g.flags.c_contiguous
        and sys.byteorder == "little"
    )
    # each diploid call as one uint16, for the vectorized biallelic path
    pairs = (
        g.reshape(g.shape[0], 2 * g.shape[1]).view(np.uint16)
        if fast
        else np.zeros((0, 0), np.uint16)
    )
    return _genotype_counts(g, pairs, n_alleles)


@numba.njit(nogil=True, cache=True)
def _genotype_counts(
    g: np.ndarray, pairs: np.ndarray, n_alleles: int
) -> np.ndarray:  # pragma: no cover
    """:func:`genotype_counts`; ``pairs`` is ``g`` as uint16 calls, or empty if not diploid."""
    n_variants, n_samples, ploidy = g.shape
    out = np.zeros((n_variants, 3 * n_alleles + N_TAIL), dtype=np.int32)
    tail = 3 * n_alleles
    if ploidy == 2:
        width = n_alleles + 2
        table = np.zeros((4, width * width), dtype=np.int32)
        fast = pairs.shape[0] == n_variants
        acc = np.zeros((5, _LANES), dtype=np.uint16)
        for v in range(n_variants):
            if fast and _biallelic_pair_counts(pairs[v], acc, out[v]):
                continue
            _diploid_pair_table(g, v, width, table)
            row = out[v]
            for a in range(-2, n_alleles):
                for b in range(-2, n_alleles):
                    k = table[0, (a + 2) * width + b + 2]
                    if k == 0 or a == -1 or b == -1:
                        continue
                    if a >= 0 and b >= 0:
                        row[a] += k
                        row[b] += k
                        if a == b:
                            row[n_alleles + a] += k
                        else:
                            row[2 * n_alleles + a] += k
                            row[2 * n_alleles + b] += k
                    elif a >= 0:  # haploid call: allele and fill
                        row[a] += k
                        row[tail + HAPLOID] += k
                    elif b >= 0:
                        row[b] += k
                        row[tail + HAPLOID] += k
                    else:
                        continue
                    row[tail + CALLED] += k
        return out
    for v in range(n_variants):
        row = out[v]
        for s in range(n_samples):
            missing = False
            n_valid = 0
            for p in range(ploidy):
                x = g[v, s, p]
                if x == -1:
                    missing = True
                elif x >= 0:
                    n_valid += 1
            if missing or n_valid == 0:
                continue
            first = -1
            hom = True
            for p in range(ploidy):
                x = g[v, s, p]
                if x >= 0:
                    row[x] += 1
                    if first < 0:
                        first = x
                    elif x != first:
                        hom = False
            if n_valid == 2:
                if hom:
                    row[n_alleles + first] += 1
                else:
                    for p in range(ploidy):
                        x = g[v, s, p]
                        if x >= 0:
                            row[2 * n_alleles + x] += 1
            elif n_valid == 1:
                row[tail + HAPLOID] += 1
            else:
                row[tail + POLYPLOID] += 1
            row[tail + CALLED] += 1
    return out


@numba.njit(nogil=True, cache=True)
def sample_counts(g: np.ndarray, expected_hom: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Per-sample sums over a (variants, samples, ploidy) block: called calls, heterozygous
    diploid calls, homozygous diploid calls, and ``expected_hom`` (per variant) summed over the
    sample's called diploid calls (for plink2 --het's E(HOM)). Haploid and polyploid calls
    count as called and nothing else.
    """
    n_variants, n_samples, _ = g.shape
    out = np.zeros((n_samples, 4), dtype=np.float64)
    for v in range(n_variants):
        e = expected_hom[v]
        for s in range(n_samples):
            c = call_class(g, v, s)
            if c < 0:
                continue
            out[s, 0] += 1.0
            if c == 0:
                continue
            out[s, c] += 1.0  # the class is the column: 1 heterozygous, 2 homozygous
            out[s, 3] += e
    return out


@numba.njit(nogil=True, cache=True)
def call_class(g: np.ndarray, v: int, s: int) -> int:  # pragma: no cover
    """Call (v, s) as :func:`sample_counts` counts it: -1 not called (a -1 allele, or none),
    0 called but not diploid, 1 heterozygous diploid, 2 homozygous diploid."""
    n_valid = 0
    first = -1
    het = False
    for p in range(g.shape[2]):
        x = g[v, s, p]
        if x == -1:
            return -1
        if x >= 0:
            n_valid += 1
            if first < 0:
                first = x
            elif x != first:
                het = True
    if n_valid != 2:
        return -1 if n_valid == 0 else 0
    return 1 if het else 2
