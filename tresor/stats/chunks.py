"""Whole chunks of a Zarr v2 array, read straight from their files.

Zarr-Python's reader runs each call through its asynchronous codec pipeline, about a
millisecond per call, as long as counting a chunk of packed genotypes; and it turns strings
into Python objects, which the tables then turn back into bytes. Here a chunk is a file read, a
numcodecs decode and, for ``vlen-utf8`` strings, a byte scan into a
:class:`~tresor.stats.text.Column`. Only Zarr v2 arrays (what bio2zarr writes, and the packed
companion) are read this way; :meth:`ChunkFiles.open` says None for anything else, and the
caller reads through Zarr.
"""

from __future__ import annotations

import functools
import json
import mmap
import os
import threading
from pathlib import Path

import numpy as np

from tresor.stats.text import Column


class ChunkFiles:
    """One Zarr v2 array's chunks (edge chunks are stored whole, as Zarr v2 does)."""

    def __init__(self, root: Path, meta: dict):
        self.root = root
        self.shape = tuple(meta["shape"])
        self.chunks = tuple(meta["chunks"])
        self.dtype = np.dtype(meta["dtype"])
        # Zarr v2 fill_value null: chunks never written read as zeros, as Zarr-Python reads them
        self.fill = meta["fill_value"] if meta["fill_value"] is not None else 0
        self.separator = meta.get("dimension_separator") or "."
        self.compressor = meta["compressor"]
        filters = [f["id"] for f in meta.get("filters") or []]
        self.strings = filters == ["vlen-utf8"]
        if (filters and not self.strings) or meta.get("order", "C") != "C":
            raise ValueError(f"{root}: filters {filters} / order {meta.get('order')} not read here")

    @functools.cached_property
    def codec(self):
        """The numcodecs codec of compressed chunks, or None (numcodecs is imported only for
        them: 0.1 s of a command's start)."""
        if not self.compressor:
            return None
        import numcodecs

        return numcodecs.get_codec(self.compressor)

    @classmethod
    def open(cls, store: Path, name: str) -> ChunkFiles | None:
        """The array ``name`` of ``store``, or None when it is not a Zarr v2 array read here."""
        try:
            meta = json.loads((Path(store) / name / ".zarray").read_text())
            return cls(Path(store) / name, meta)
        except (OSError, ValueError, KeyError):
            return None

    def _raw(self, index: tuple[int, ...]) -> bytes | None:
        try:
            raw = (self.root / self.separator.join(map(str, index))).read_bytes()
        except FileNotFoundError:
            return None
        return self.codec.decode(raw) if self.codec is not None else raw

    def read(self, *index: int, reuse: bool = False) -> np.ndarray:
        """Chunk ``index`` of a numeric array, whole.

        ``reuse``: into this thread's buffer for this array, which the next such read of the
        array in the thread overwrites. Memory fresh from the system costs a page fault per
        4 KiB on first touch, as much as decoding a chunk of packed words; a buffer touched
        before costs nothing. An uncompressed chunk is instead the file mapped into memory
        (read-only): no copy at all, the pages shared with the page cache.
        """
        if reuse and self.codec is None:
            return self._mapped(index)
        if not reuse:
            raw = self._raw(index)
            if raw is None:
                return np.full(self.chunks, self.fill, dtype=self.dtype)
            return np.frombuffer(raw, dtype=self.dtype).reshape(self.chunks)
        path = self.root / self.separator.join(map(str, index))
        out = _buffer(("chunk", str(self.root)), int(np.prod(self.chunks)) * self.dtype.itemsize)
        try:
            with open(path, "rb", buffering=0) as f:
                size = os.fstat(f.fileno()).st_size
                raw = _buffer(("file", str(self.root)), size) if self.codec else out
                if f.readinto(memoryview(raw)[:size]) != size:
                    raise OSError(f"{path}: short read")
        except FileNotFoundError:
            out.view(self.dtype)[:] = self.fill
        else:
            if self.codec is not None:
                self.codec.decode(raw[:size], out=out)
        return out.view(self.dtype).reshape(self.chunks)

    def _mapped(self, index: tuple[int, ...]) -> np.ndarray:
        """An uncompressed chunk as a read-only view of its file (fill where it is absent)."""
        path = self.root / self.separator.join(map(str, index))
        try:
            with open(path, "rb", buffering=0) as f:
                mapped = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
        except FileNotFoundError:
            return filled(self.chunks, self.dtype, self.fill)
        except ValueError:  # an empty file cannot be mapped
            mapped = b""
        size = int(np.prod(self.chunks)) * self.dtype.itemsize
        if len(mapped) != size:
            raise OSError(f"{path}: {len(mapped)} bytes, expected {size}")
        return np.frombuffer(mapped, dtype=self.dtype).reshape(self.chunks)

    def read_strings(self, i: int) -> Column:
        """Chunk ``i`` (first axis; one chunk along the others) of a string array, flat in C
        order."""
        from tresor.stats.text_kernels import vlen_utf8

        raw = self._raw((i, *(0,) * (len(self.chunks) - 1)))
        if raw is None:
            size = int(np.prod(self.chunks))
            return Column(np.zeros(0, np.uint8), np.zeros(size + 1, np.int64))
        return Column(*vlen_utf8(np.frombuffer(raw, dtype=np.uint8)))

    def string_sizes(self, rows: np.ndarray) -> np.ndarray:
        """(rows, values per row) byte lengths of a string array's values, without the text."""
        from tresor.stats.text_kernels import vlen_sizes

        size = self.chunks[0]
        width = int(np.prod(self.chunks[1:])) if len(self.chunks) > 1 else 1
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros((len(rows), width), dtype=np.int64)
        which = rows // size
        for c in np.unique(which).tolist():
            here = which == c
            raw = self._raw((c, *(0,) * (len(self.chunks) - 1)))
            if raw is not None:
                sizes = vlen_sizes(np.frombuffer(raw, dtype=np.uint8)).reshape(size, width)
                out[here] = sizes[rows[here] - c * size]
        return out

    def rows(
        self, rows: np.ndarray, column_chunk: int | None = None, *, reuse: bool = False
    ) -> np.ndarray:
        """Rows ``rows`` of a numeric array (of one chunk of the second axis when given);
        a run of rows within one chunk is a view of it (of this thread's buffer with
        ``reuse``, see :meth:`read`; a run over several chunks is a copy)."""
        size = self.chunks[0]
        rest = () if column_chunk is None else (column_chunk,)
        rest = rest + (0,) * (len(self.chunks) - 1 - len(rest))
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.empty((0, *self.chunks[1:]), dtype=self.dtype)
        if (run := _run(rows, size)) is not None:
            if len(run) == 1:
                c, a, b = run[0]
                return self.read(c, *rest, reuse=reuse)[a:b]
            return np.concatenate([self.read(c, *rest)[a:b] for c, a, b in run])
        out = np.empty((len(rows), *self.chunks[1:]), dtype=self.dtype)
        which = rows // size
        for c in np.unique(which).tolist():
            here = which == c
            out[here] = self.read(c, *rest)[rows[here] - c * size]
        return out

    def span(self, start: int, stop: int) -> np.ndarray:
        """Elements ``start`` to ``stop`` of a 1-D array: a view of one chunk, else a copy."""
        size = self.chunks[0]
        parts = [
            self.read(c)[max(start, c * size) - c * size : min(stop, (c + 1) * size) - c * size]
            for c in range(start // size, (stop - 1) // size + 1)
        ]
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts) if parts else np.empty(0, dtype=self.dtype)

    def string_rows(self, rows: np.ndarray) -> Column:
        """Rows ``rows`` of a string array, flat (row by row, every value of each row)."""
        from tresor.stats import text

        size = self.chunks[0]
        width = int(np.prod(self.chunks[1:])) if len(self.chunks) > 1 else 1
        rows = np.asarray(rows, dtype=np.int64)
        if (run := _run(rows, size)) is not None:  # a run of rows (the usual case): slices
            return _concatenated(
                [_slice(self.read_strings(c), a * width, b * width) for c, a, b in run]
            )
        which = rows // size
        parts, order = [], []
        for c in np.unique(which).tolist():
            here = np.flatnonzero(which == c)
            local = (rows[here] - c * size)[:, None] * width + np.arange(width)
            parts.append(self.read_strings(c).take(local.ravel()))
            order.append(here)
        if not parts:
            return text.strings([])
        merged = _concatenated(parts)
        # back into the order asked for: value k of request position i
        position = np.concatenate(order)
        index = np.empty(len(rows) * width, dtype=np.int64)
        index.reshape(len(rows), width)[position] = np.arange(len(rows) * width).reshape(
            len(rows), width
        )
        return merged.take(index)


def _run(rows: np.ndarray, size: int) -> list[tuple[int, int, int]] | None:
    """(chunk, first, end) within each chunk of ``rows`` when they are consecutive, else
    None."""
    if len(rows) == 0:
        return None
    lo, hi = int(rows[0]), int(rows[-1]) + 1
    if hi - lo != len(rows) or not np.all(np.diff(rows) == 1):
        return None
    return [
        (c, max(lo, c * size) - c * size, min(hi, (c + 1) * size) - c * size)
        for c in range(lo // size, (hi - 1) // size + 1)
    ]


def _concatenated(parts: list[Column]) -> Column:
    if len(parts) == 1:
        return parts[0]
    return Column(
        np.concatenate([p.data for p in parts]),
        np.concatenate(
            [
                *(
                    p.offsets[:-1] - p.offsets[0] + s
                    for p, s in zip(parts, _starts(parts), strict=True)
                ),
                [sum(len(p.data) for p in parts)],
            ]
        ),
    )


def _slice(column: Column, lo: int, hi: int) -> Column:
    """Values ``lo`` to ``hi`` of a column (its bytes a view)."""
    a, b = column.offsets[lo], column.offsets[hi]
    return Column(column.data[a:b], column.offsets[lo : hi + 1] - a)


def _starts(parts: list[Column]) -> list[int]:
    starts, at = [], 0
    for p in parts:
        starts.append(at)
        at += len(p.data)
    return starts


def filled(shape: tuple[int, ...], dtype: np.dtype, fill) -> np.ndarray:
    """A read-only array of ``fill``, made once per shape, dtype and value (fresh memory
    costs page faults, as much as decoding a chunk of packed words)."""
    key = (shape, dtype.str, fill)
    found = _FILLED.get(key)
    if found is None:
        found = _FILLED[key] = np.full(shape, fill, dtype=dtype)
        found.flags.writeable = False
    return found


_FILLED: dict[tuple, np.ndarray] = {}
_BUFFERS = threading.local()


def _buffer(key: tuple[str, str], size: int) -> np.ndarray:
    """This thread's byte buffer ``key`` of at least ``size`` bytes (grown, never shrunk)."""
    buffers = getattr(_BUFFERS, "buffers", None)
    if buffers is None:
        buffers = _BUFFERS.buffers = {}
    buffer = buffers.get(key)
    if buffer is None or len(buffer) < size:
        buffer = buffers[key] = np.empty(size, dtype=np.uint8)
    return buffer[:size]
