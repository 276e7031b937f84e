"""Numba kernels for PCA and LD pruning: call codes, standardization, the r^2 window scan.

Every call is read through :func:`call_code`, which looks at each of its ploidy slots, so a
kernel never reads an allele index it has not checked against the block's ploidy. A call is
coded by its ploidy and ALT dosage: diploid calls 0, 1, 2 (the ALT dosage, as before), haploid
calls 3, 4 (``HAPLOID`` + dosage), and -1 for a missing call, a call with more than two
alleles (left out of PCA) or a call of a row that is not biallelic. Standardization is per
call ploidy k: (d - k p) / sqrt(k p (1 - p)), which for diploid calls is plink2's.
"""

from __future__ import annotations

import numba
import numpy as np

#: Code of a haploid call with ALT dosage 0; dosage 1 is ``HAPLOID + 1``.
HAPLOID = 3
#: Codes 0 .. N_CODES - 1 are called.
N_CODES = 5
#: :func:`call_code` of a called call with more than two alleles (PCA leaves it out).
POLYPLOID = -2


@numba.njit(nogil=True, cache=True)
def call_code(g: np.ndarray, v: int, s: int) -> int:  # pragma: no cover
    """Code of call (v, s) of a (variants, samples, ploidy) block for a biallelic row: diploid
    dosage 0-2, ``HAPLOID`` + dosage, -1 missing, ``POLYPLOID`` for three or more alleles.
    Alleles above 1 count as ALT (callers check the row is biallelic)."""
    if g.shape[2] == 2:  # the usual store: both slots at once
        a = g[v, s, 0]
        b = g[v, s, 1]
        if a == -1 or b == -1:
            return -1
        if b == -2:
            return HAPLOID + (a > 0) if a >= 0 else -1
        if a == -2:
            return HAPLOID + (b > 0)
        return (a > 0) + (b > 0)
    n_valid = 0
    dosage = 0
    for p in range(g.shape[2]):
        x = g[v, s, p]
        if x == -1:
            return -1
        if x >= 0:
            n_valid += 1
            if x > 0:
                dosage += 1
    if n_valid == 2:
        return dosage
    if n_valid == 1:
        return HAPLOID + dosage
    if n_valid == 0:
        return -1
    return POLYPLOID


@numba.njit(nogil=True, cache=True)
def _row_is_biallelic(g: np.ndarray, v: int) -> bool:  # pragma: no cover
    """False when an allele above 1 occurs in row ``v``."""
    for s in range(g.shape[1]):
        for p in range(g.shape[2]):
            if g[v, s, p] > 1:
                return False
    return True


@numba.njit(nogil=True, cache=True)
def biallelic_dosage(g: np.ndarray) -> np.ndarray:  # pragma: no cover
    """(variants, samples) int8 call codes of a (variants, samples, ploidy) block; every call
    -1 in a row where an allele above 1 occurs (such a row takes no part in a PCA), and -1 for
    calls with more than two alleles."""
    n_variants, n_samples, _ = g.shape
    out = np.full((n_variants, n_samples), -1, dtype=np.int8)
    for v in range(n_variants):
        if not _row_is_biallelic(g, v):
            continue
        for s in range(n_samples):
            code = call_code(g, v, s)
            out[v, s] = code if code >= 0 else -1
    return out


@numba.njit(nogil=True, cache=True)
def _code_alleles(code: int) -> int:  # pragma: no cover
    return 1 if code >= HAPLOID else 2


@numba.njit(nogil=True, cache=True)
def _code_dosage(code: int) -> int:  # pragma: no cover
    return code - HAPLOID if code >= HAPLOID else code


@numba.njit(nogil=True, cache=True)
def _standardize_row(codes, n_alleles: int, total: int, out_row) -> bool:  # pragma: no cover
    """Write (d - k p) / sqrt(k p (1 - p)) for each call of ploidy k (0 where missing), with p
    = ``total`` ALT alleles / ``n_alleles`` called alleles; False if monomorphic."""
    if n_alleles == 0:
        return False
    p = total / n_alleles
    if p <= 0.0 or p >= 1.0:
        return False
    lookup = np.empty(N_CODES, dtype=np.float32)
    for code in range(N_CODES):
        k = _code_alleles(code)
        lookup[code] = (_code_dosage(code) - k * p) / np.sqrt(k * p * (1.0 - p))
    for s in range(codes.shape[0]):
        c = codes[s]
        out_row[s] = lookup[c] if c >= 0 else 0.0
    return True


@numba.njit(nogil=True, cache=True)
def standardize(codes: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Standardized calls (float32) from :func:`biallelic_dosage` codes; p is the ALT
    frequency over the called alleles; 0 for missing calls and monomorphic variants."""
    n_variants, n_samples = codes.shape
    z = np.zeros((n_variants, n_samples), dtype=np.float32)
    for v in range(n_variants):
        total = 0
        alleles = 0
        for s in range(n_samples):
            c = codes[v, s]
            if c >= 0:
                total += _code_dosage(c)
                alleles += _code_alleles(c)
        _standardize_row(codes[v], alleles, total, z[v])
    return z


@numba.njit(nogil=True, cache=True)
def filtered_standardized(
    g: np.ndarray, biallelic: np.ndarray, min_maf: float, min_call_rate: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Rows of a (variants, samples, ploidy) block that are biallelic, polymorphic, with MAF
    and call rate at least the minimums, their standardized calls (float32), and per row of
    the block the number of calls with more than two alleles (left out), in one read."""
    n_variants, n_samples, _ = g.shape
    rows = np.empty(n_variants, dtype=np.int64)
    z = np.empty((n_variants, n_samples), dtype=np.float32)
    left_out = np.zeros(n_variants, dtype=np.int32)
    codes = np.empty(n_samples, dtype=np.int8)
    n_rows = 0
    for v in range(n_variants):
        if not biallelic[v]:
            continue
        total = 0
        alleles = 0
        called = 0
        for s in range(n_samples):
            c = call_code(g, v, s)
            if c == POLYPLOID:
                left_out[v] += 1
                called += 1
                c = -1
            codes[s] = c
            if c >= 0:
                total += _code_dosage(c)
                alleles += _code_alleles(c)
                called += 1
        if called == 0 or called < min_call_rate * n_samples or alleles == 0:
            continue
        freq = total / alleles
        if min(freq, 1.0 - freq) < min_maf:
            continue
        if _standardize_row(codes, alleles, total, z[n_rows]):
            rows[n_rows] = v
            n_rows += 1
    return rows[:n_rows], z[:n_rows], left_out


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
