"""Numba kernels for PCA and LD pruning: ALT dosages, standardization, the r^2 window scan."""

from __future__ import annotations

import numba
import numpy as np


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
def biallelic_dosage(g: np.ndarray) -> np.ndarray:  # pragma: no cover
    """:func:`alt_dosage`, with every call missing (-1) in a row where an allele above 1
    occurs: such a row standardizes to zeros and takes no part in a PCA."""
    out = alt_dosage(g)
    for v in range(g.shape[0]):
        multi = False
        for s in range(g.shape[1]):
            if g[v, s, 0] > 1 or g[v, s, 1] > 1:
                multi = True
                break
        if multi:
            out[v, :] = -1
    return out


@numba.njit(nogil=True, cache=True)
def _standardize_row(dosage_row, called: int, total: int, out_row) -> bool:  # pragma: no cover
    """Write (d - 2p) / sqrt(2p(1 - p)) (0 where missing); False if monomorphic."""
    if called == 0:
        return False
    p = total / (2.0 * called)
    scale = np.sqrt(2.0 * p * (1.0 - p))
    if scale == 0.0:
        return False
    lookup = np.empty(3, dtype=np.float32)
    for d in range(3):
        lookup[d] = (d - 2.0 * p) / scale
    for s in range(dosage_row.shape[0]):
        d = dosage_row[s]
        out_row[s] = lookup[d] if d >= 0 else 0.0
    return True


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
        _standardize_row(dosage[v], called, total, z[v])
    return z


@numba.njit(nogil=True, cache=True)
def filtered_standardized(
    g: np.ndarray, biallelic: np.ndarray, min_maf: float, min_call_rate: float
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Rows of a (variants, samples, 2) block that are biallelic, polymorphic, with MAF and
    call rate at least the minimums, and their standardized dosages (float32), in one read."""
    n_variants, n_samples, _ = g.shape
    rows = np.empty(n_variants, dtype=np.int64)
    z = np.empty((n_variants, n_samples), dtype=np.float32)
    dosage = np.empty(n_samples, dtype=np.int8)
    n_rows = 0
    for v in range(n_variants):
        if not biallelic[v]:
            continue
        total = 0
        called = 0
        for s in range(n_samples):
            a = g[v, s, 0]
            b = g[v, s, 1]
            if a < 0 or b < 0:
                dosage[s] = -1
            else:
                d = (a > 0) + (b > 0)
                dosage[s] = d
                total += d
                called += 1
        if called == 0 or called < min_call_rate * n_samples:
            continue
        freq = total / (2.0 * called)
        if min(freq, 1.0 - freq) < min_maf:
            continue
        if _standardize_row(dosage, called, total, z[n_rows]):
            rows[n_rows] = v
            n_rows += 1
    return rows[:n_rows], z[:n_rows]


@numba.njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
def _mean_product(a: np.ndarray, b: np.ndarray) -> float:  # pragma: no cover
    acc = np.float32(0.0)
    for s in range(a.shape[0]):
        acc += a[s] * b[s]
    return acc / a.shape[0]


@numba.njit(nogil=True, cache=True)
def prune_windows(
    z: np.ndarray, keep: np.ndarray, size: int, step: int, threshold: float
) -> None:  # pragma: no cover
    """Sliding-window LD pruning in place, as scikit-allel's ``locate_unlinked``.

    ``z`` holds standardized dosages, so r is the mean product of two rows. For each window of
    ``size`` variants, moving ``step`` at a time, every kept variant removes the later kept
    variants it is in LD with (r^2 above ``threshold``). Each r^2 is computed once, when the
    scan first needs it.
    """
    n = keep.shape[0]
    r2 = np.zeros((n, size), dtype=np.float32)
    known = np.zeros((n, size), dtype=np.bool_)
    for start in range(0, n, step):
        stop = min(start + size, n)
        for i in range(start, stop):
            if not keep[i]:
                continue
            for j in range(i + 1, stop):
                if not keep[j]:
                    continue
                d = j - i
                if not known[i, d]:
                    r = _mean_product(z[i], z[j])
                    r2[i, d] = r * r
                    known[i, d] = True
                if r2[i, d] > threshold:
                    keep[j] = False
