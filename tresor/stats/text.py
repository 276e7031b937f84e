"""Columns of table text as bytes (:mod:`tresor.stats.text_kernels`), for plink2-format tables.

A :class:`Column` is the UTF-8 text of n values; :func:`lines` joins columns into tab-separated
lines. Numbers are written as Python writes them (``str(int)``, ``format(x, ".6g")``, NaN as
``NA``), so a table comes out byte for byte as it did from Python strings, only faster.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np


class Column(NamedTuple):
    """n values: their bytes one after the other, and where each starts (n + 1 offsets)."""

    data: np.ndarray  # uint8
    offsets: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def take(self, index: np.ndarray) -> Column:
        from tresor.stats.text_kernels import take

        return Column(*take(self.data, self.offsets, np.asarray(index, dtype=np.int64)))

    def strings(self) -> list[str]:
        """The values as Python strings (for the few places that need them)."""
        text = self.data.tobytes()
        bounds = (self.offsets - self.offsets[0]).tolist()
        return [text[a:b].decode() for a, b in itertools.pairwise(bounds)]


def strings(values: Sequence[str] | np.ndarray) -> Column:
    """A column of Python (or NumPy) strings; they must not contain NUL."""
    values = [str(v) for v in np.asarray(values, dtype=object).tolist()]
    if not values:
        return Column(np.zeros(0, np.uint8), np.zeros(1, np.int64))
    data = np.frombuffer("\0".join(values).encode(), dtype=np.uint8)
    ends = np.flatnonzero(data == 0)
    offsets = np.empty(len(values) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:-1] = ends + 1
    offsets[-1] = len(data) + 1
    # drop the separators: value i spans offsets[i] .. offsets[i + 1] - 1 before compaction
    keep = np.ones(len(data), dtype=bool)
    keep[ends] = False
    sizes = np.diff(offsets) - 1
    compact = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(sizes, out=compact[1:])
    return Column(data[keep], compact)


def choose(table: Sequence[str], index: np.ndarray) -> Column:
    """``table[index[i]]`` for each i (codes such as ERRCODE, Y/N)."""
    return strings(table).take(np.asarray(index, dtype=np.int64))


def repeat(text: str, n: int) -> Column:
    return choose([text], np.zeros(n, dtype=np.int64))


def ints(values: np.ndarray) -> Column:
    from tresor.stats.text_kernels import format_ints

    return Column(*format_ints(np.ascontiguousarray(values, dtype=np.int64)))


def floats(values: np.ndarray, digits: int) -> Column:
    """%g with ``digits`` significant digits, as ``format(x, f".{digits}g")``; NaN is NA."""
    from tresor.stats.text_kernels import UNCERTAIN, float_digits, format_floats

    values = np.ascontiguousarray(values, dtype=np.float64).ravel()
    significand, exponent = float_digits(values, digits)
    for i in np.flatnonzero(exponent == UNCERTAIN).tolist():  # a few ties: Python rounds
        mantissa, power = format(abs(values[i]), f".{digits - 1}e").split("e")
        significand[i], exponent[i] = int(mantissa.replace(".", "")), int(power)
    return Column(*format_floats(values, significand, exponent, digits))


def joined(values: Column, counts: np.ndarray, *, separator: str = ",", empty: str = "0") -> Column:
    """Per row, its ``counts[row]`` next values joined by ``separator`` (``empty`` if none)."""
    from tresor.stats.text_kernels import join_values

    return Column(
        *join_values(
            values.data,
            values.offsets,
            np.asarray(counts, dtype=np.int64),
            ord(separator),
            ord(empty),
        )
    )


def fields(columns: Sequence[Column], separator: str) -> Column:
    """Row by row, the values of ``columns`` joined by ``separator`` (one column)."""
    data, offsets = _stacked(columns)
    from tresor.stats.text_kernels import join_fields

    return Column(*join_fields(data, offsets, ord(separator)))


def where(condition: np.ndarray, a: Column, b: Column) -> Column:
    """``a``'s value where ``condition``, else ``b``'s."""
    index = np.arange(len(a)) + np.where(condition, 0, len(a))
    both = Column(
        np.concatenate([a.data, b.data]),
        np.concatenate([a.offsets[:-1] - a.offsets[0], b.offsets - b.offsets[0] + len(a.data)]),
    )
    return both.take(index)


def replace_lines(lines: bytes, rows: np.ndarray, new: bytes, per_row: np.ndarray) -> bytes:
    """``lines`` (one per row) with the lines of ``rows`` (in order) replaced by ``new``'s,
    ``per_row[k]`` lines for ``rows[k]``: slices around a few rows, no copy line by line."""
    ends = np.flatnonzero(np.frombuffer(lines, dtype=np.uint8) == ord("\n")) + 1
    starts = np.concatenate([[0], ends[:-1]])
    new_ends = np.flatnonzero(np.frombuffer(new, dtype=np.uint8) == ord("\n")) + 1
    new_ends = np.concatenate([[0], new_ends[np.cumsum(per_row).astype(np.int64) - 1]])
    old, fresh = memoryview(lines), memoryview(new)
    pieces, at = [], 0
    for k, row in enumerate(rows.tolist()):
        pieces += [old[at : starts[row]], fresh[new_ends[k] : new_ends[k + 1]]]
        at = ends[row]
    pieces.append(old[at:])
    return b"".join(pieces)


def _stacked(columns: Sequence[Column]) -> tuple[np.ndarray, np.ndarray]:
    """All columns' bytes in one array and a (columns, n + 1) offsets array into it."""
    n = {len(c) for c in columns}
    if len(n) != 1:
        raise ValueError(f"columns of different lengths: {sorted(n)}")
    data = np.concatenate([c.data for c in columns])
    base = np.cumsum([0] + [len(c.data) for c in columns[:-1]])
    offsets = np.stack([c.offsets - c.offsets[0] + b for c, b in zip(columns, base, strict=True)])
    return data, offsets


def lines(columns: Sequence[Column]) -> bytes:
    """Tab-separated lines, one per row, each ending with a newline."""
    from tresor.stats.text_kernels import join_lines

    if not columns or len(columns[0]) == 0:
        return b""
    data, offsets = _stacked(columns)
    return join_lines(data, offsets).tobytes()
