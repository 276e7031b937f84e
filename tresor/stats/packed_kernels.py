"""Numba kernels over 2-bit packed genotypes: pack, count, regress, decode, 64-bit words at a time.

The encoding (plink2's): 32 calls per little-endian uint64 word, call ``t`` of a word in bits
``2t`` (low) and ``2t + 1`` (high), codes

    0  no ALT copy (0/0; a haploid 0)      2  two ALT copies (1/1; a haploid 1)
    1  one ALT copy (0/1 or 1/0)           3  missing (any allele -1)

A haploid call is stored as the homozygous diploid call (plink2's rule for haploid calls) and
marked in a second plane of words of the same layout, ``haploid``, with the call's low bit set.
Padding calls at the end of a sample chunk are 0 and outside every sample mask.

Only rows whose every call is one of those fit: a row with an allele above 1 (a multi-allelic
site), a call with more than two alleles or a call with no allele at all (all fill) is an
*exception*; its int8 calls are kept as they are and go through the int8 kernels. A kernel
here gets the packed words of a block of rows, the exception rows' int8 calls and, per row, the
index of its exception row (-1 when packed), and returns exactly what the int8 kernel of
:mod:`tresor.stats.aggregation_kernels` or :mod:`tresor.stats.association_kernels` returns for
the same calls: the integer counts are the same numbers, and the floating-point sums are made of
the same additions in the same order, so the results are the same bits.

Sample masks (``--keep``, strata) are words with the low bit of each kept call set; popcounts of
masked words count the calls of each class, as plink2 does.
"""

from __future__ import annotations

import sys

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from tresor.stats.aggregation_kernels import HAPLOID, N_TAIL, call_class
from tresor.stats.association_kernels import add_copy, write_stats_row

#: Calls per uint64 word.
CALLS_PER_WORD = 32
#: The low bit of every call of a word.
LOW = np.uint64(0x5555555555555555)
#: Codes.
HOM_REF, HET, HOM_ALT, MISSING = 0, 1, 2, 3


@intrinsic
def popcount(typingctx, x):  # pragma: no cover - compiled
    """Set bits of a uint64 (LLVM ctpop: POPCNT, or VPOPCNTQ when vectorized)."""
    if x != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        (value,) = args
        fn = builder.module.declare_intrinsic("llvm.ctpop", [value.type])
        return builder.call(fn, [value])

    return types.uint64(types.uint64), codegen


@intrinsic
def trailing_zeros(typingctx, x):  # pragma: no cover - compiled
    """Index of the lowest set bit of a non-zero uint64 (LLVM cttz: TZCNT)."""
    if x != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        (value,) = args
        fn = builder.module.declare_intrinsic("llvm.cttz", [value.type, ir.IntType(1)])
        return builder.call(fn, [value, ir.Constant(ir.IntType(1), 1)])

    return types.uint64(types.uint64), codegen


def n_words(n_samples: int) -> int:
    """Words that hold ``n_samples`` calls."""
    return -(-n_samples // CALLS_PER_WORD)


# --- packing ------------------------------------------------------------------------------
@numba.njit(nogil=True, cache=True)
def _call_code(g: np.ndarray, v: int, s: int) -> tuple[int, bool, bool]:  # pragma: no cover
    """(code, haploid, fits) of call (v, s) of an int8 (variants, samples, ploidy) block."""
    n_valid = 0
    dosage = 0
    other = False
    missing = False
    for p in range(g.shape[2]):
        x = g[v, s, p]
        if x == -1:
            missing = True
        elif x >= 0:
            n_valid += 1
            dosage += x
            other |= x > 1
    if other:  # an allele above 1, even in a missing call: PCA's row check reads it
        return 0, False, False
    if missing:
        return MISSING, False, True
    if n_valid == 2:
        return dosage, False, True
    if n_valid == 1:
        return 2 * dosage, True, True
    return 0, False, False  # no allele at all, or more than two


def pack_block(g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pack an int8 (variants, samples, ploidy) block: (codes, haploid plane, fits, has_haploid).

    ``codes`` and ``haploid`` are (variants, words) uint64; a row that does not fit is all 0 in
    both, and ``fits`` is False for it (its int8 calls must be kept as an exception). Diploid
    stores read each call as one 16-bit word through a table of all 65,536 pairs, made by the
    same rule as every other call.
    """
    if g.ndim == 3 and g.shape[2] == 2 and g.flags.c_contiguous and sys.byteorder == "little":
        return _pack_pairs(g.reshape(g.shape[0], 2 * g.shape[1]).view(np.uint16), _pair_table())
    return _pack_calls(g)


_PAIRS: list[np.ndarray] = []


def _pair_table() -> np.ndarray:
    """uint8 per diploid call read as a little-endian uint16: code | haploid << 2, 8 if the
    call does not fit."""
    if not _PAIRS:
        pairs = np.arange(65536, dtype=np.uint16).view(np.int8).reshape(1, 65536, 2)
        codes, haploid, fits = _each_call(pairs)
        _PAIRS.append(np.where(fits, codes | (haploid << 2), 8).astype(np.uint8)[0])
    return _PAIRS[0]


@numba.njit(nogil=True, cache=True)
def _each_call(g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """(code, haploid, fits) of every call of a block, as uint8 / bool arrays."""
    n_variants, n_samples, _ = g.shape
    codes = np.zeros((n_variants, n_samples), dtype=np.uint8)
    haploid = np.zeros((n_variants, n_samples), dtype=np.uint8)
    fits = np.zeros((n_variants, n_samples), dtype=np.bool_)
    for v in range(n_variants):
        for s in range(n_samples):
            code, is_haploid, ok = _call_code(g, v, s)
            codes[v, s] = code
            haploid[v, s] = is_haploid
            fits[v, s] = ok
    return codes, haploid, fits


@numba.njit(nogil=True, cache=True)
def _pack_pairs(
    pairs: np.ndarray, table: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """:func:`pack_block` of diploid calls read as uint16, through ``table``."""
    n_variants, n_samples = pairs.shape
    width = (n_samples + CALLS_PER_WORD - 1) // CALLS_PER_WORD
    codes = np.zeros((n_variants, width), dtype=np.uint64)
    haploid = np.zeros((n_variants, width), dtype=np.uint64)
    fits = np.ones(n_variants, dtype=np.bool_)
    has_haploid = np.zeros(n_variants, dtype=np.bool_)
    for v in range(n_variants):
        bad = 0
        for w in range(width):
            word = np.uint64(0)
            hap = np.uint64(0)
            for t in range(min(CALLS_PER_WORD, n_samples - w * CALLS_PER_WORD)):
                x = table[pairs[v, w * CALLS_PER_WORD + t]]
                bad |= x
                word |= np.uint64(x & 3) << np.uint64(2 * t)
                hap |= np.uint64((x >> 2) & 1) << np.uint64(2 * t)
            codes[v, w] = word
            haploid[v, w] = hap
            if hap != 0:
                has_haploid[v] = True
        if bad & 8:
            fits[v] = False
            codes[v] = 0
            haploid[v] = 0
            has_haploid[v] = False
    return codes, haploid, fits, has_haploid


@numba.njit(nogil=True, cache=True)
def _pack_calls(
    g: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """:func:`pack_block` of calls of any ploidy, call by call."""
    n_variants, n_samples, _ = g.shape
    width = (n_samples + CALLS_PER_WORD - 1) // CALLS_PER_WORD
    codes = np.zeros((n_variants, width), dtype=np.uint64)
    haploid = np.zeros((n_variants, width), dtype=np.uint64)
    fits = np.ones(n_variants, dtype=np.bool_)
    has_haploid = np.zeros(n_variants, dtype=np.bool_)
    for v in range(n_variants):
        for w in range(width):
            word = np.uint64(0)
            hap = np.uint64(0)
            for t in range(min(CALLS_PER_WORD, n_samples - w * CALLS_PER_WORD)):
                code, is_haploid, ok = _call_code(g, v, w * CALLS_PER_WORD + t)
                if not ok:
                    fits[v] = False
                    break
                word |= np.uint64(code) << np.uint64(2 * t)
                if is_haploid:
                    hap |= np.uint64(1) << np.uint64(2 * t)
            if not fits[v]:
                break
            codes[v, w] = word
            haploid[v, w] = hap
        if not fits[v]:
            codes[v] = 0
            haploid[v] = 0
        else:
            for w in range(width):
                if haploid[v, w] != 0:
                    has_haploid[v] = True
                    break
    return codes, haploid, fits, has_haploid


# --- sample masks -------------------------------------------------------------------------
def sample_mask(keep: np.ndarray) -> np.ndarray:
    """Mask words (low bit of each kept call set) of a boolean per sample of a chunk."""
    width = n_words(len(keep))
    bits = np.zeros(width * CALLS_PER_WORD * 2, dtype=np.uint8)
    bits[0 : 2 * len(keep) : 2] = keep
    return np.packbits(bits, bitorder="little").view("<u8").astype(np.uint64)


# --- counts -------------------------------------------------------------------------------
@numba.njit(nogil=True, cache=True)
def _row_classes(codes, haploid, r: int, mask, with_haploid: bool):  # pragma: no cover
    """(het, two ALT copies, missing, haploid, haploid ALT) calls of packed row ``r``."""
    het = np.uint64(0)
    alt = np.uint64(0)
    miss = np.uint64(0)
    for w in range(codes.shape[1]):
        x = codes[r, w]
        m = mask[w]
        lo = x & LOW
        hi = (x >> np.uint64(1)) & LOW
        het += popcount(lo & ~hi & m)
        alt += popcount(hi & ~lo & m)
        miss += popcount(lo & hi & m)
    n_hap = np.uint64(0)
    hap_alt = np.uint64(0)
    if with_haploid:
        for w in range(codes.shape[1]):
            h = haploid[r, w] & mask[w]
            n_hap += popcount(h)
            hap_alt += popcount(h & (codes[r, w] >> np.uint64(1)))
    return int(het), int(alt), int(miss), int(n_hap), int(hap_alt)


@numba.njit(nogil=True, cache=True)
def genotype_counts(
    codes: np.ndarray,
    haploid: np.ndarray,
    has_haploid: np.ndarray,
    exception: np.ndarray,
    exception_counts: np.ndarray,
    mask: np.ndarray,
    n_alleles: int,
) -> np.ndarray:  # pragma: no cover
    """:func:`tresor.stats.aggregation_kernels.genotype_counts` of a packed block.

    ``exception_counts`` holds that function's rows for the exception rows (``exception[v]``
    is the row of variant ``v`` there, -1 when packed); ``mask`` selects the samples.
    """
    n_variants = codes.shape[0]
    out = np.zeros((n_variants, 3 * n_alleles + N_TAIL), dtype=np.int32)
    tail = 3 * n_alleles
    n = 0
    for w in range(mask.shape[0]):
        n += int(popcount(mask[w]))
    for v in range(n_variants):
        if exception[v] >= 0:
            out[v] = exception_counts[exception[v]]
            continue
        het, alt, miss, n_hap, hap_alt = _row_classes(codes, haploid, v, mask, has_haploid[v])
        called = n - miss
        hom_alt = alt - hap_alt  # diploid 1/1
        hom_ref = called - n_hap - het - hom_alt  # diploid 0/0
        row = out[v]
        row[0] = 2 * hom_ref + het + (n_hap - hap_alt)
        row[1] = 2 * hom_alt + het + hap_alt
        row[n_alleles] = hom_ref
        row[n_alleles + 1] = hom_alt
        row[2 * n_alleles] = het
        row[2 * n_alleles + 1] = het
        row[tail] = called
        row[tail + HAPLOID] = n_hap
    return out


@numba.njit(nogil=True, cache=True)
def missing_counts(
    codes: np.ndarray,
    exception_missing: np.ndarray,
    exception: np.ndarray,
    mask: np.ndarray,
    positions: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """(missing calls per variant, per selected sample) of a packed block.

    The missing calls of a row are the set bits of ``lo & hi`` in the mask, visited with
    trailing zeros (a few per row). ``exception_missing`` is the (exception rows, selected
    samples) missingness of the exception rows (a -1 allele, or none); ``positions`` are the
    selected samples' positions in the chunk.
    """
    n_variants, width = codes.shape
    per_variant = np.zeros(n_variants, dtype=np.int64)
    per_position = np.zeros(width * CALLS_PER_WORD, dtype=np.int64)
    for v in range(n_variants):
        e = exception[v]
        if e >= 0:
            for i in range(exception_missing.shape[1]):
                if exception_missing[e, i]:
                    per_variant[v] += 1
                    per_position[positions[i]] += 1
            continue
        total = 0
        for w in range(width):
            x = codes[v, w]
            mm = x & (x >> np.uint64(1)) & LOW & mask[w]
            total += int(popcount(mm))
            while mm != 0:
                per_position[w * CALLS_PER_WORD + int(trailing_zeros(mm)) // 2] += 1
                mm &= mm - np.uint64(1)
        per_variant[v] = total
    per_sample = np.empty(positions.shape[0], dtype=np.int64)
    for i in range(positions.shape[0]):
        per_sample[i] = per_position[positions[i]]
    return per_variant, per_sample


# --- decoding -----------------------------------------------------------------------------
@numba.njit(nogil=True, cache=True)
def _decode_code(codes, haploid, v: int, s: int) -> tuple[int, bool]:  # pragma: no cover
    w = s // CALLS_PER_WORD
    shift = np.uint64(2 * (s % CALLS_PER_WORD))
    code = int((codes[v, w] >> shift) & np.uint64(3))
    return code, ((haploid[v, w] >> shift) & np.uint64(1)) != 0


@numba.njit(nogil=True, cache=True)
def decode_calls(
    codes: np.ndarray,
    haploid: np.ndarray,
    exception: np.ndarray,
    exception_calls: np.ndarray,
    positions: np.ndarray,
    ploidy: int,
) -> np.ndarray:  # pragma: no cover
    """int8 (variants, samples, ploidy) calls of the samples at ``positions`` of the chunk:
    0/0, 0/1, 1/1, ./. (-1, -1) and haploid a (a, -2), padded with -2 to ``ploidy``; the
    exception rows' own calls (``exception_calls`` is (rows, positions, ploidy)). Every int8
    kernel reads these as it reads the source's calls."""
    n_variants = codes.shape[0]
    n = positions.shape[0]
    out = np.full((n_variants, n, ploidy), -2, dtype=np.int8)
    for v in range(n_variants):
        e = exception[v]
        if e >= 0:
            out[v] = exception_calls[e]
            continue
        for i in range(n):
            code, is_haploid = _decode_code(codes, haploid, v, positions[i])
            if code == MISSING:
                out[v, i, 0] = -1
                if ploidy > 1:
                    out[v, i, 1] = -1
            elif is_haploid:
                out[v, i, 0] = code // 2
            else:
                out[v, i, 0] = 1 if code == HOM_ALT else 0
                out[v, i, 1] = 0 if code == HOM_REF else 1
    return out


# --- per-sample sums ----------------------------------------------------------------------
@numba.njit(nogil=True, cache=True)
def sample_counts(
    codes: np.ndarray,
    haploid: np.ndarray,
    exception: np.ndarray,
    exception_classes: np.ndarray,
    positions: np.ndarray,
    expected_hom: np.ndarray,
) -> np.ndarray:  # pragma: no cover
    """:func:`tresor.stats.aggregation_kernels.sample_counts` of a packed block, for the
    samples at ``positions``: per sample [called, het, hom, sum of ``expected_hom`` over its
    called diploid calls], added variant by variant in the order of the int8 kernel.

    ``exception_classes`` is (exception rows, positions) int8: -1 not called, 0 called and not
    diploid, 1 heterozygous diploid, 2 homozygous diploid.
    """
    n_variants = codes.shape[0]
    n = positions.shape[0]
    out = np.zeros((n, 4), dtype=np.float64)
    for v in range(n_variants):
        e = expected_hom[v]
        x = exception[v]
        for i in range(n):
            if x >= 0:
                c = exception_classes[x, i]
                if c < 0:
                    continue
                het = c == 1
                diploid = c > 0
            else:
                code, is_haploid = _decode_code(codes, haploid, v, positions[i])
                if code == MISSING:
                    continue
                diploid = not is_haploid
                het = code == HET
            out[i, 0] += 1.0
            if not diploid:
                continue
            if het:
                out[i, 1] += 1.0
            else:
                out[i, 2] += 1.0
            out[i, 3] += e
    return out


# --- linear regression sufficient statistics ----------------------------------------------
@numba.njit(nogil=True, cache=True)
def linreg_stats(
    codes: np.ndarray,
    haploid: np.ndarray,
    exception: np.ndarray,
    exception_stats: np.ndarray,
    rank: np.ndarray,
    include_mask: np.ndarray,
    covariates: np.ndarray,
    y: np.ndarray,
    include: np.ndarray,
    n_alleles: int,
    pairwise: bool,
) -> np.ndarray:  # pragma: no cover
    """:func:`tresor.stats.association_kernels.linreg_stats` of a packed block.

    ``covariates``, ``y`` and ``include`` are per kept sample (the block's samples, in order);
    ``rank`` maps a position of the chunk to its kept sample (-1 if not kept) and
    ``include_mask`` has the low bit of each kept, included call. Only calls that are not 0/0
    diploid cost work: the set bits of ``codes | haploid`` in the mask, visited in sample order
    (trailing zeros), with the additions of the int8 kernel in its order: ``pairwise`` as its
    diploid-store path (one copy at a time), else as its general path (dosage times value).
    """
    n_variants, width = codes.shape
    k = covariates.shape[1]
    r = k
    p = k + n_alleles
    out = np.zeros((n_variants, 1 + p * p + p + 1))
    ctc = np.zeros((k, k))
    cty = np.zeros(k)
    yty = 0.0
    n_inc = 0
    for s in range(y.shape[0]):
        if include[s]:
            n_inc += 1
            yty += y[s] * y[s]
            for i in range(k):
                cty[i] += covariates[s, i] * y[s]
                for j in range(k):
                    ctc[i, j] += covariates[s, i] * covariates[s, j]
    xtx = np.zeros((p, p))
    xty = np.zeros(p)
    other_c = np.zeros(k)
    for v in range(n_variants):
        if exception[v] >= 0:
            out[v] = exception_stats[exception[v]]
            continue
        xtx[:] = 0.0
        xty[:] = 0.0
        other_c[:] = 0.0
        other_y = 0.0
        xtx[:k, :k] = ctc
        xty[:k] = cty
        yy = yty
        n = n_inc
        for w in range(width):
            x = codes[v, w]
            todo = ((x | (x >> np.uint64(1))) & LOW | haploid[v, w]) & include_mask[w]
            while todo != 0:
                t = int(trailing_zeros(todo))
                todo &= todo - np.uint64(1)
                shift = np.uint64(t)
                code = int((x >> shift) & np.uint64(3))
                is_haploid = ((haploid[v, w] >> shift) & np.uint64(1)) != 0
                s = rank[w * CALLS_PER_WORD + t // 2]
                ys = y[s]
                for i in range(k):
                    other_c[i] += 1.0 * covariates[s, i]
                other_y += 1.0 * ys
                if code == MISSING:
                    n -= 1
                    yy -= ys * ys
                    for i in range(k):
                        ci = covariates[s, i]
                        xty[i] -= ci * ys
                        for j in range(k):
                            xtx[i, j] -= ci * covariates[s, j]
                    continue
                if is_haploid:  # one allele: dosage 1 of REF or ALT, either path
                    a = r + code // 2
                    if pairwise:
                        add_copy(xtx, xty, covariates, s, a, ys)
                    else:
                        xty[a] += 1.0 * ys
                        for i in range(k):
                            xtx[i, a] += 1.0 * covariates[s, i]
                        xtx[a, a] += 1.0
                elif code == HET:
                    if pairwise:  # 0/1: a copy of REF, a copy of ALT, their product twice
                        add_copy(xtx, xty, covariates, s, r, ys)
                        add_copy(xtx, xty, covariates, s, r + 1, ys)
                        xtx[r, r + 1] += 1.0
                        xtx[r + 1, r] += 1.0
                    else:
                        for a in range(r, r + 2):
                            xty[a] += 1.0 * ys
                            for i in range(k):
                                xtx[i, a] += 1.0 * covariates[s, i]
                            xtx[a, r] += 1.0
                            xtx[a, r + 1] += 1.0
                else:  # 1/1
                    a = r + 1
                    if pairwise:
                        add_copy(xtx, xty, covariates, s, a, ys)
                        add_copy(xtx, xty, covariates, s, a, ys)
                        xtx[a, a] += 1.0
                        xtx[a, a] += 1.0
                    else:
                        xty[a] += 2.0 * ys
                        for i in range(k):
                            xtx[i, a] += 2.0 * covariates[s, i]
                        xtx[a, a] += 4.0
        write_stats_row(out[v], xtx, xty, ctc, cty, other_c, other_y, n, yy)
    return out


@numba.njit(nogil=True, cache=True)
def call_classes(g: np.ndarray) -> np.ndarray:  # pragma: no cover
    """(variants, samples) int8 of an int8 block, as :func:`sample_counts` reads exception
    rows: :func:`tresor.stats.aggregation_kernels.call_class` of each call."""
    n_variants, n_samples, _ = g.shape
    out = np.empty((n_variants, n_samples), dtype=np.int8)
    for v in range(n_variants):
        for s in range(n_samples):
            out[v, s] = call_class(g, v, s)
    return out
