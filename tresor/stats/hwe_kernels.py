"""Numba kernel: the exact Hardy-Weinberg test of Wigginton, Cutler and Abecasis (2005).

The heterozygote count, given the allele counts, has a known distribution; the p-value is the
total probability of every het count no more likely than the one observed. Probabilities are
built by the recurrence relative to the most likely het count (so nothing overflows) and the
walk in each direction stops once terms are negligible beside the observed one (or
underflow), so the cost is about the width of the distribution, not the sample size.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numba
import numpy as np

#: Relative tolerance for "no more likely than observed": ties count as at least as extreme.
TIE_TOLERANCE = 1e-12
#: Terms this much smaller than the observed one's end a walk.
NEGLIGIBLE = 1e-20


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
    # past the mode terms only fall: once below NEGLIGIBLE of the observed one, the rest
    # (all in the tail) cannot change the p-value's leading 15 digits
    cutoff = threshold * NEGLIGIBLE
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
        if p <= cutoff:
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
        if p <= cutoff:
            break
        total += p
        if p <= threshold:
            tail += p
    return min(1.0, tail / total)


#: Counts below this fit a cache key (three 21-bit fields).
_KEY_LIMIT = 1 << 21
_EMPTY = -1
_HASH = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the key times 2^64 / golden ratio


class PValueCache:
    """P-values by genotype counts, for :func:`hwe_exact_cached`: an open-addressing hash
    table in two arrays (one per thread). A numba typed dict did the same, but making one
    compiles its methods, 0.1 s in every process: more than ``tresor hardy`` then computes."""

    def __init__(self, capacity: int = 1 << 12):
        self.keys = np.full(capacity, _EMPTY, dtype=np.int64)
        self.values = np.empty(capacity, dtype=np.float64)
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def reserve(self, more: int) -> None:
        """Room for ``more`` new keys at most half full, so that a lookup ends soon."""
        need = 2 * (self.size + more)
        capacity = len(self.keys)
        if need <= capacity:
            return
        while capacity < need:
            capacity *= 2
        keys = np.full(capacity, _EMPTY, dtype=np.int64)
        values = np.empty(capacity, dtype=np.float64)
        _rehash(self.keys, self.values, keys, values)
        self.keys, self.values = keys, values


def new_cache() -> PValueCache:
    """An empty cache of p-values by genotype counts, for :func:`hwe_exact_cached` (one per
    thread: two threads must not add to the same one)."""
    return PValueCache()


#: Caches not in use, kept for the process's next tests (list.pop and append are atomic).
_FREE: list[PValueCache] = []
#: A cache with more p-values than this (128 MiB of table) is dropped after use.
KEEP_LIMIT = 1 << 22


@contextlib.contextmanager
def borrowed_cache() -> Iterator[PValueCache]:
    """A cache no other thread is using, kept afterwards for later tests in this process (a
    notebook's next hardy, or the next tasks of this one, look up what earlier ones
    computed)."""
    try:
        cache = _FREE.pop()
    except IndexError:
        cache = new_cache()
    try:
        yield cache
    finally:
        if len(cache) <= KEEP_LIMIT:
            _FREE.append(cache)


@numba.njit(nogil=True, cache=True)
def _slot(keys: np.ndarray, key: int) -> int:  # pragma: no cover
    """Where ``key`` is in ``keys``, or the empty slot where it goes."""
    mask = len(keys) - 1
    i = np.int64((np.uint64(key) * _HASH) >> np.uint64(24)) & mask
    while keys[i] != _EMPTY and keys[i] != key:
        i = (i + 1) & mask
    return i


@numba.njit(nogil=True, cache=True)
def _rehash(keys, values, new_keys, new_values) -> None:  # pragma: no cover
    for i in range(len(keys)):
        if keys[i] != _EMPTY:
            j = _slot(new_keys, keys[i])
            new_keys[j] = keys[i]
            new_values[j] = values[i]


@numba.njit(nogil=True, cache=True)
def _cached(
    keys, values, n_het: int, n_hom_1: int, n_hom_2: int
) -> tuple[float, int]:  # pragma: no cover
    """:func:`hwe_exact` through the table ``keys``/``values`` (and 1 if it was added): most
    sites of a cohort share their counts with another (rare variants above all), so most
    tests are a lookup."""
    if n_het >= _KEY_LIMIT or n_hom_1 >= _KEY_LIMIT or n_hom_2 >= _KEY_LIMIT:
        return hwe_exact(n_het, n_hom_1, n_hom_2), 0
    key = (np.int64(n_het) << 42) | (np.int64(n_hom_1) << 21) | np.int64(n_hom_2)
    i = _slot(keys, key)
    if keys[i] == key:
        return values[i], 0
    keys[i] = key
    values[i] = hwe_exact(n_het, n_hom_1, n_hom_2)
    return values[i], 1


@numba.njit(nogil=True, cache=True)
def _exact_cached(hom, het, n_alleles, keys, values) -> tuple[np.ndarray, int]:  # pragma: no cover
    n_variants, width = hom.shape
    out = np.full((n_variants, width), np.nan)
    added = 0
    for v in range(n_variants):
        n_diploid = 0
        for a in range(width):
            n_diploid += 2 * hom[v, a] + het[v, a]
        n_diploid //= 2
        k = min(width, n_alleles[v])
        if k == 2:  # REF against ALT is ALT against REF: one test
            p, new = _cached(keys, values, het[v, 0], hom[v, 0], hom[v, 1])
            out[v, 0] = out[v, 1] = p
            added += new
            continue
        for a in range(k):
            p, new = _cached(keys, values, het[v, a], hom[v, a], n_diploid - hom[v, a] - het[v, a])
            out[v, a] = p
            added += new
    return out, added


def hwe_exact_cached(
    hom: np.ndarray, het: np.ndarray, n_alleles: np.ndarray, cache: PValueCache
) -> np.ndarray:
    """:func:`hwe_exact_per_allele` with the p-values of counts already seen taken from
    ``cache`` (:func:`new_cache`) and new ones added to it."""
    cache.reserve(hom.shape[0] * hom.shape[1])
    out, added = _exact_cached(hom, het, n_alleles, cache.keys, cache.values)
    cache.size += added
    return out


def hwe_exact_per_allele(hom: np.ndarray, het: np.ndarray, n_alleles: np.ndarray) -> np.ndarray:
    """(variants, alleles) p-values: each allele against the rest, NaN beyond ``n_alleles``.

    ``hom`` and ``het`` are (variants, alleles) homozygous and one-copy counts per allele.
    """
    return hwe_exact_cached(hom, het, n_alleles, new_cache())
