"""Numba kernel: the exact Hardy-Weinberg test of Wigginton, Cutler and Abecasis (2005).

The heterozygote count, given the allele counts, has a known distribution; the p-value is the
total probability of every het count no more likely than the one observed. Probabilities are
built by the recurrence relative to the most likely het count (so nothing overflows) and the
walk in each direction stops once terms underflow, so the cost is about the width of the
distribution, not the sample size.
"""

from __future__ import annotations

import numba
import numpy as np

#: Relative tolerance for "no more likely than observed": ties count as at least as extreme.
TIE_TOLERANCE = 1e-12


@numba.njit(nogil=True, cache=True)
def hwe_exact(n_het: int, n_hom_1: int, n_hom_2: int) -> float:  # pragma: no cover
    """P-value of the exact HWE test for one biallelic genotype count (1 when nothing called)."""
    n = n_het + n_hom_1 + n_hom_2
    if n == 0:
        return 1.0
    n_hom_rare = min(n_hom_1, n_hom_2)
    rare = 2 * n_hom_rare + n_het  # copies of the rarer allele
    common = 2 * n - rare
    if rare == 0:
        return 1.0
    # the most likely het count has the parity of `rare`, near rare * common / (2n)
    mid = int(rare * common / (2.0 * n))
    if (mid % 2) != (rare % 2):
        mid += 1
    if mid > rare:
        mid -= 2
    # relative probabilities: first pass finds P(observed) relative to P(mid)
    p_obs = 1.0
    if n_het < mid:
        h = mid
        p = 1.0
        while h > n_het:
            hom_r = (rare - h) // 2
            hom_c = n - h - hom_r
            p *= h * (h - 1.0) / (4.0 * (hom_r + 1.0) * (hom_c + 1.0))
            h -= 2
        p_obs = p
    elif n_het > mid:
        h = mid
        p = 1.0
        while h < n_het:
            hom_r = (rare - h) // 2
            hom_c = n - h - hom_r
            p *= 4.0 * hom_r * hom_c / ((h + 2.0) * (h + 1.0))
            h += 2
        p_obs = p
    threshold = p_obs * (1.0 + TIE_TOLERANCE)
    total = 1.0
    tail = 1.0 if threshold >= 1.0 else 0.0
    # walk down from mid
    h = mid
    p = 1.0
    while h >= 2:
        hom_r = (rare - h) // 2
        hom_c = n - h - hom_r
        p *= h * (h - 1.0) / (4.0 * (hom_r + 1.0) * (hom_c + 1.0))
        h -= 2
        if p == 0.0:
            break
        total += p
        if p <= threshold:
            tail += p
    # walk up from mid
    h = mid
    p = 1.0
    while h + 2 <= rare:
        hom_r = (rare - h) // 2
        hom_c = n - h - hom_r
        p *= 4.0 * hom_r * hom_c / ((h + 2.0) * (h + 1.0))
        h += 2
        if p == 0.0:
            break
        total += p
        if p <= threshold:
            tail += p
    return min(1.0, tail / total)


#: Counts below this fit a cache key (three 21-bit fields).
_KEY_LIMIT = 1 << 21


def new_cache():
    """An empty cache of p-values by genotype counts, for :func:`hwe_exact_cached` (one per
    thread: a numba typed dict is not safe to change from two threads)."""
    return numba.typed.Dict.empty(key_type=numba.types.int64, value_type=numba.types.float64)


@numba.njit(nogil=True, cache=True)
def _cached(cache, n_het: int, n_hom_1: int, n_hom_2: int) -> float:  # pragma: no cover
    """:func:`hwe_exact` through ``cache``: most sites of a cohort share their counts with
    another (rare variants above all), so most tests are a lookup."""
    if n_het >= _KEY_LIMIT or n_hom_1 >= _KEY_LIMIT or n_hom_2 >= _KEY_LIMIT:
        return hwe_exact(n_het, n_hom_1, n_hom_2)
    key = (np.int64(n_het) << 42) | (np.int64(n_hom_1) << 21) | np.int64(n_hom_2)
    p = cache.get(key, -1.0)
    if p < 0.0:
        p = hwe_exact(n_het, n_hom_1, n_hom_2)
        cache[key] = p
    return p


@numba.njit(nogil=True, cache=True)
def hwe_exact_cached(
    hom: np.ndarray, het: np.ndarray, n_alleles: np.ndarray, cache
) -> np.ndarray:  # pragma: no cover
    """:func:`hwe_exact_per_allele` with the p-values of counts already seen taken from
    ``cache`` (:func:`new_cache`) and new ones added to it."""
    n_variants, width = hom.shape
    out = np.full((n_variants, width), np.nan)
    for v in range(n_variants):
        n_diploid = 0
        for a in range(width):
            n_diploid += 2 * hom[v, a] + het[v, a]
        n_diploid //= 2
        k = min(width, n_alleles[v])
        if k == 2:  # REF against ALT is ALT against REF: one test
            out[v, 0] = out[v, 1] = _cached(cache, het[v, 0], hom[v, 0], hom[v, 1])
            continue
        for a in range(k):
            out[v, a] = _cached(cache, het[v, a], hom[v, a], n_diploid - hom[v, a] - het[v, a])
    return out


def hwe_exact_per_allele(hom: np.ndarray, het: np.ndarray, n_alleles: np.ndarray) -> np.ndarray:
    """(variants, alleles) p-values: each allele against the rest, NaN beyond ``n_alleles``.

    ``hom`` and ``het`` are (variants, alleles) homozygous and one-copy counts per allele.
    """
    return hwe_exact_cached(hom, het, n_alleles, new_cache())
