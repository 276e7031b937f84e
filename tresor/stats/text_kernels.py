"""Numba kernels that write table text as bytes: numbers, strings of the store, whole lines.

A column of text is ``(data, offsets)``: the UTF-8 bytes of every value one after the other,
and ``offsets`` (n + 1) where each value starts. Writing a table's lines is then copying bytes,
about 100 times faster than formatting Python strings, which was most of the time of writing a
large ``.afreq`` (docs/stats.md).

Floating-point numbers are written as Python's ``format(x, f".{digits}g")`` writes them (a
correctly rounded decimal of ``digits`` significant digits, then %g's choice of fixed or
exponent notation). The kernel scales by a power of ten in binary floating point and rounds;
where that could round differently from the exact value (within a few units in the last place
of half-way), it says so and :mod:`tresor.stats.text` asks Python for those few values.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: Values whose rounding the kernel leaves to Python (:func:`float_digits`).
UNCERTAIN = -100_000
NAN, POS_INF, NEG_INF = -100_001, -100_002, -100_003


@numba.njit(nogil=True, cache=True)
def _pow10(k: int) -> float:  # pragma: no cover
    return 10.0**k


@numba.njit(nogil=True, cache=True)
def _scaled(x: float, k: int) -> float:  # pragma: no cover
    """x * 10^k with one rounding for |k| <= 22 (the powers of ten exact in binary)."""
    if k >= 0:
        if k <= 22:
            return x * _pow10(k)
        return x * _pow10(22) * _pow10(k - 22)
    if k >= -22:
        return x / _pow10(-k)
    return x / _pow10(22) / _pow10(-k - 22)


@numba.njit(nogil=True, cache=True)
def float_digits(
    values: np.ndarray, digits: int
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """(significand, exponent) per value: |x| rounded to ``digits`` significant digits is
    significand * 10^(exponent - digits + 1), the significand having exactly ``digits``
    digits (0 for zero). The exponent is ``UNCERTAIN`` where binary scaling cannot decide the
    rounding, or NAN / POS_INF / NEG_INF; the sign is the value's own."""
    n = values.shape[0]
    significand = np.zeros(n, dtype=np.int64)
    exponent = np.zeros(n, dtype=np.int64)
    low = 10 ** (digits - 1)
    high = 10**digits
    for i in range(n):
        x = values[i]
        if x != x:
            exponent[i] = NAN
            continue
        if math.isinf(x):
            exponent[i] = POS_INF if x > 0 else NEG_INF
            continue
        x = abs(x)
        if x == 0.0:
            continue
        e = math.floor(math.log10(x))
        if e < -290 or e > 290:
            exponent[i] = UNCERTAIN
            continue
        s = _scaled(x, digits - 1 - e)
        if s < low:
            e -= 1
            s = _scaled(x, digits - 1 - e)
        elif s >= high:
            e += 1
            s = _scaled(x, digits - 1 - e)
        floor = math.floor(s)
        frac = s - floor
        # a few units in the last place of s from half-way: let Python decide
        if abs(frac - 0.5) <= max(1e-9, s * 4.5e-15):
            exponent[i] = UNCERTAIN
            continue
        m = int(floor) + (1 if frac > 0.5 else 0)
        if m >= high:
            m //= 10
            e += 1
        significand[i] = m
        exponent[i] = e
    return significand, exponent


@numba.njit(nogil=True, cache=True)
def _write_int(out: np.ndarray, at: int, value: int) -> int:  # pragma: no cover
    """Decimal digits of ``value`` at ``out[at:]``; returns the end."""
    if value < 0:
        out[at] = 45  # '-'
        at += 1
        value = -value
    if value == 0:
        out[at] = 48
        return at + 1
    n = 0
    v = value
    while v > 0:
        n += 1
        v //= 10
    for j in range(n - 1, -1, -1):
        out[at + j] = 48 + value % 10
        value //= 10
    return at + n


@numba.njit(nogil=True, cache=True)
def format_ints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Decimal text of integers as a column (data, offsets)."""
    n = values.shape[0]
    out = np.empty(n * 21, dtype=np.uint8)
    offsets = np.empty(n + 1, dtype=np.int64)
    at = 0
    for i in range(n):
        offsets[i] = at
        at = _write_int(out, at, np.int64(values[i]))
    offsets[n] = at
    return out[:at], offsets


@numba.njit(nogil=True, cache=True)
def format_floats(
    values: np.ndarray, significand: np.ndarray, exponent: np.ndarray, digits: int
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """%g text (Python's ``format(x, f".{digits}g")``) from :func:`float_digits`'s output,
    with every UNCERTAIN value resolved; NaN is written ``NA`` (plink2's missing)."""
    n = values.shape[0]
    out = np.empty(n * (digits + 12), dtype=np.uint8)
    offsets = np.empty(n + 1, dtype=np.int64)
    buf = np.empty(digits, dtype=np.uint8)
    at = 0
    for i in range(n):
        offsets[i] = at
        e = exponent[i]
        x = values[i]
        if e == NAN:
            out[at] = 78  # NA
            out[at + 1] = 65
            at += 2
            continue
        if e in (POS_INF, NEG_INF):
            if e == NEG_INF:
                out[at] = 45
                at += 1
            out[at] = 105  # inf
            out[at + 1] = 110
            out[at + 2] = 102
            at += 3
            continue
        if np.signbit(x):
            out[at] = 45
            at += 1
        m = significand[i]
        if m == 0:
            out[at] = 48
            at += 1
            continue
        for j in range(digits - 1, -1, -1):
            buf[j] = 48 + m % 10
            m //= 10
        last = digits  # significant digits left once trailing zeros go
        while last > 1 and buf[last - 1] == 48:
            last -= 1
        if -4 <= e < digits:
            if e >= 0:
                for j in range(e + 1):
                    out[at] = buf[j] if j < last else 48
                    at += 1
                if last > e + 1:
                    out[at] = 46  # '.'
                    at += 1
                    for j in range(e + 1, last):
                        out[at] = buf[j]
                        at += 1
            else:
                out[at] = 48
                out[at + 1] = 46
                at += 2
                for _ in range(-e - 1):
                    out[at] = 48
                    at += 1
                for j in range(last):
                    out[at] = buf[j]
                    at += 1
        else:
            out[at] = buf[0]
            at += 1
            if last > 1:
                out[at] = 46
                at += 1
                for j in range(1, last):
                    out[at] = buf[j]
                    at += 1
            out[at] = 101  # e
            out[at + 1] = 45 if e < 0 else 43
            at += 2
            a = -e if e < 0 else e
            if a < 10:
                out[at] = 48
                at += 1
            at = _write_int(out, at, a)
    offsets[n] = at
    return out[:at], offsets


@numba.njit(nogil=True, cache=True, inline="always")
def _copy(out: np.ndarray, at: int, data: np.ndarray, a: int, b: int) -> int:  # pragma: no cover
    """``data[a:b]`` to ``out[at:]``; returns the end. Byte by byte: values are a few bytes,
    where a slice assignment costs more than the copy (a quarter of a table's lines)."""
    for k in range(a, b):
        out[at] = data[k]
        at += 1
    return at


@numba.njit(nogil=True, cache=True)
def vlen_utf8(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """(data, offsets) of numcodecs' VLenUTF8 encoding (a uint32 count, then per value its
    uint32 length and bytes), without making a Python string."""
    n = np.int64(raw[0]) | (np.int64(raw[1]) << 8) | (np.int64(raw[2]) << 16)
    n |= np.int64(raw[3]) << 24
    starts = np.empty(n + 1, dtype=np.int64)
    at = 4
    for i in range(n):
        size = np.int64(raw[at]) | (np.int64(raw[at + 1]) << 8) | (np.int64(raw[at + 2]) << 16)
        size |= np.int64(raw[at + 3]) << 24
        starts[i] = at + 4
        at += 4 + size
    starts[n] = at
    # values are separated by their length prefixes: copy them together
    offsets = np.empty(n + 1, dtype=np.int64)
    data = np.empty(at - 4 - 4 * n, dtype=np.uint8)
    pos = 0
    for i in range(n):
        offsets[i] = pos
        end = starts[i + 1] - 4 if i + 1 < n else starts[n]
        pos = _copy(data, pos, raw, starts[i], end)
    offsets[n] = pos
    return data, offsets


@numba.njit(nogil=True, cache=True)
def take(
    data: np.ndarray, offsets: np.ndarray, index: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """The values ``index`` of a column."""
    n = index.shape[0]
    size = 0
    for i in range(n):
        size += offsets[index[i] + 1] - offsets[index[i]]
    out = np.empty(size, dtype=np.uint8)
    new = np.empty(n + 1, dtype=np.int64)
    at = 0
    for i in range(n):
        new[i] = at
        a = offsets[index[i]]
        b = offsets[index[i] + 1]
        at = _copy(out, at, data, a, b)
    new[n] = at
    return out, new


@numba.njit(nogil=True, cache=True)
def join_lines(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Lines of a table: ``offsets`` is (columns, rows + 1) into ``data`` (all columns' bytes);
    each row's values joined by tabs, each line ended by a newline."""
    n_columns = offsets.shape[0]
    n = offsets.shape[1] - 1
    size = 0
    for c in range(n_columns):
        size += offsets[c, n] - offsets[c, 0]
    out = np.empty(size + n * n_columns, dtype=np.uint8)
    at = 0
    for i in range(n):
        for c in range(n_columns):
            a = offsets[c, i]
            b = offsets[c, i + 1]
            at = _copy(out, at, data, a, b)
            out[at] = 9 if c + 1 < n_columns else 10
            at += 1
    return out[:at]


@numba.njit(nogil=True, cache=True)
def join_values(
    data: np.ndarray, offsets: np.ndarray, counts: np.ndarray, separator: int, empty: int
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Per row, its ``counts[row]`` consecutive values of a flat column joined by
    ``separator`` (``empty`` alone where the count is 0): the ALT column from the alleles."""
    n = counts.shape[0]
    out = np.empty(offsets[-1] - offsets[0] + 2 * (offsets.shape[0] + n), dtype=np.uint8)
    new = np.empty(n + 1, dtype=np.int64)
    at = 0
    v = 0
    for i in range(n):
        new[i] = at
        if counts[i] == 0:
            out[at] = empty
            at += 1
        for k in range(counts[i]):
            if k:
                out[at] = separator
                at += 1
            a = offsets[v]
            b = offsets[v + 1]
            at = _copy(out, at, data, a, b)
            v += 1
    new[n] = at
    return out[:at], new


@numba.njit(nogil=True, cache=True)
def join_fields(
    data: np.ndarray, offsets: np.ndarray, separator: int
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Row by row, the values of several columns (``offsets`` is (columns, rows + 1) into
    ``data``) joined by ``separator``, as one column."""
    n_columns = offsets.shape[0]
    n = offsets.shape[1] - 1
    size = 0
    for c in range(n_columns):
        size += offsets[c, n] - offsets[c, 0]
    out = np.empty(size + n * n_columns, dtype=np.uint8)
    new = np.empty(n + 1, dtype=np.int64)
    at = 0
    for i in range(n):
        new[i] = at
        for c in range(n_columns):
            if c:
                out[at] = separator
                at += 1
            a = offsets[c, i]
            b = offsets[c, i + 1]
            at = _copy(out, at, data, a, b)
    new[n] = at
    return out[:at], new


@numba.njit(nogil=True, cache=True)
def vlen_sizes(raw: np.ndarray) -> np.ndarray:  # pragma: no cover
    """The byte length of each value of numcodecs' VLenUTF8 encoding (no copy of the text)."""
    n = np.int64(raw[0]) | (np.int64(raw[1]) << 8) | (np.int64(raw[2]) << 16)
    n |= np.int64(raw[3]) << 24
    sizes = np.empty(n, dtype=np.int64)
    at = 4
    for i in range(n):
        size = np.int64(raw[at]) | (np.int64(raw[at + 1]) << 8) | (np.int64(raw[at + 2]) << 16)
        size |= np.int64(raw[at + 3]) << 24
        sizes[i] = size
        at += 4 + size
    return sizes
