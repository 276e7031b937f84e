"""Numba kernel for LD pruning: the greedy window scan over precomputed r^2 values."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def prune_windows(
    r2: np.ndarray, keep: np.ndarray, size: int, step: int, threshold: float
) -> None:  # pragma: no cover
    """Sliding-window pruning in place, as scikit-allel's ``locate_unlinked``.

    ``r2[i, d]`` is r^2 between variants i and i + d (d < size). For each window of ``size``
    variants, moving ``step`` at a time, every kept variant removes the later kept variants
    it is in LD with (r^2 above ``threshold``; NaN never is).
    """
    n = keep.shape[0]
    for start in range(0, n, step):
        stop = min(start + size, n)
        for i in range(start, stop):
            if not keep[i]:
                continue
            for j in range(i + 1, stop):
                if keep[j] and r2[i, j - i] > threshold:
                    keep[j] = False


@numba.njit(nogil=True, cache=True)
def alt_dosage(g: np.ndarray) -> np.ndarray:  # pragma: no cover
    """(variants, samples) int8 ALT dosage of diploid calls (alleles > 0), -1 if missing."""
    n_variants, n_samples, _ = g.shape
    out = np.empty((n_variants, n_samples), dtype=np.int8)
    for v in range(n_variants):
        for s in range(n_samples):
            a = g[v, s, 0]
            b = g[v, s, 1]
            out[v, s] = -1 if (a < 0 or b < 0) else (a > 0) + (b > 0)
    return out


@numba.njit(nogil=True, cache=True)
def standardize(dosage: np.ndarray) -> np.ndarray:  # pragma: no cover
    """(dosage - 2p) / sqrt(2p(1 - p)) as float32, p the ALT frequency over called samples;
    0 for missing calls and for monomorphic variants."""
    n_variants, n_samples = dosage.shape
    z = np.zeros((n_variants, n_samples), dtype=np.float32)
    for v in range(n_variants):
        total = 0
        called = 0
        for s in range(n_samples):
            d = dosage[v, s]
            if d >= 0:
                total += d
                called += 1
        if called == 0:
            continue
        p = total / (2.0 * called)
        scale = np.sqrt(2.0 * p * (1.0 - p))
        if scale == 0.0:
            continue
        lookup = np.empty(3, dtype=np.float32)
        for d in range(3):
            lookup[d] = (d - 2.0 * p) / scale
        for s in range(n_samples):
            d = dosage[v, s]
            if d >= 0:
                z[v, s] = lookup[d]
    return z


@numba.njit(nogil=True, cache=True, fastmath=True)
def band_r2(z: np.ndarray, size: int) -> np.ndarray:  # pragma: no cover
    """``out[i, d]`` = r^2 of rows i and i + d of standardized ``z`` for d < ``size`` (NaN past
    the last row): mean of products, squared."""
    n_variants, n_samples = z.shape
    out = np.full((n_variants, size), np.nan, dtype=np.float32)
    for i in range(n_variants):
        out[i, 0] = 1.0
        for d in range(1, min(size, n_variants - i)):
            acc = np.float32(0.0)
            for s in range(n_samples):
                acc += z[i, s] * z[i + d, s]
            r = acc / n_samples
            out[i, d] = r * r
    return out
