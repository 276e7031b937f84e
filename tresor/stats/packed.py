"""The packed genotype companion of a VCF Zarr store: 2 bits per call, beside the store.

bio2zarr stores ``call_genotype`` as int8 (two bytes per diploid call) compressed with zstd and
bit shuffling; decompressing it was most of the time of allele frequencies, HWE and missingness
(docs/stats.md). The companion holds the same calls as plink2's pgen does, 2 bits each (the
encoding is in :mod:`tresor.stats.packed_kernels`), uncompressed by default (mapped into
memory when read) or LZ4, so the kernels read an eighth of the bytes and count 32 calls with one
popcount; and every variant's labels as the tables print them.

On disk it is a Zarr (v2) group at ``STORE.packed`` (:func:`companion_path`), beside the store
and never inside it, made read-only with the store's own permissions (it is the same
individual-level data):

``genotypes``, ``haploid``
    (variants, sample chunks x words) uint64, chunked like the source: one chunk per source
    chunk of ``call_genotype``; ``haploid`` marks haploid calls (its chunks without one are not
    stored).
``variant_exception``
    (variants,) int32: -1 for a packed row, else its row of ``exceptions``.
``variant_haploid``
    (variants,) bool: the row has a haploid call.
``exceptions``
    (rows, samples, ploidy) int8: the calls of the rows 2 bits cannot hold (an allele above 1,
    a call with three alleles or none), read by the int8 kernels as before.
``source_stat``, ``source_digest``
    per source chunk (variant chunk, sample chunk): size and mtime of its file(s), and a
    BLAKE2b digest of their bytes when packed.
``label_text``, ``label_offsets``, ``variant_n_alleles``
    the labels of every variant as the tables print them (:class:`~tresor.stats.tables.RowLabels`:
    'CHROM<TAB>POS<TAB>ID' and '<TAB>REF<TAB>ALT', bytes one after the other, and where each
    starts), and its number of alleles; so freq, hardy and missing do not decode the store's
    strings. Only for stores whose labels are Zarr v2 chunk files, chunked as the genotypes.
``label_stat``, ``label_digest``
    as ``source_stat`` and ``source_digest``, per variant chunk of each label array of the
    store (attribute ``labels``: their names, and digests of their metadata and of
    ``contig_id``).

:func:`open_companion` compares every source chunk with what the companion was made from (the
file's size and mtime, and its digest when those differ); a companion made from other bytes is
stale (so is one whose labels' source changed, or one of an older format version): it is
ignored with a :class:`StalePackWarning` and the analyses read the store. Written
by :func:`pack_store` (``tresor datasets add`` and ``tresor datasets pack``).

:func:`attach` links an opened Dataset to its companion; :func:`packed_view` tells a
:mod:`tresor.stats` function whether the Dataset's genotypes may be read from it (they are the
store's, selected with ``isel``) and with which rows and samples.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import stat
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from tresor.core.catalogue import PACKED_SUFFIX, packed_companion_path
from tresor.stats.chunks import ChunkFiles, filled

if TYPE_CHECKING:  # pragma: no cover
    import dask.array as da
    import xarray as xr

    from tresor.stats.tables import RowLabels
    from tresor.stats.text import Column

FORMAT = "tresor packed genotypes"
#: 2: uncompressed words by default, and the labels (``label_*``); version 1 companions are
#: ignored (stale) until packed again.
VERSION = 2
SUFFIX = PACKED_SUFFIX
#: Codecs of the packed words (:func:`pack_store`); the first is the default.
CODECS = ("none", "lz4")
#: Bytes per chunk of ``label_text``.
LABEL_TEXT_CHUNK = 1 << 18
#: Rows per chunk of ``exceptions`` (a few per source chunk, read by neighbouring tasks).
EXCEPTION_ROWS = 16
#: Dataset attribute naming the companion of an opened store.
COMPANION_ATTR = "tresor_packed"


class StalePackWarning(UserWarning):
    """A packed companion that does not match its store; the store is read instead."""


def companion_path(store: str | os.PathLike) -> Path:
    """Where the companion of ``store`` lives: beside it (``STORE.packed``), never inside."""
    return packed_companion_path(Path(store))


@dataclasses.dataclass(frozen=True)
class Layout:
    """Shape and chunks of the source's ``call_genotype``, which the companion follows."""

    n_variants: int
    n_samples: int
    ploidy: int
    variant_chunk: int
    sample_chunk: int

    @property
    def words(self) -> int:
        """uint64 words per sample chunk."""
        from tresor.stats.packed_kernels import n_words

        return n_words(self.sample_chunk)

    @property
    def n_variant_chunks(self) -> int:
        return -(-self.n_variants // self.variant_chunk)

    @property
    def n_sample_chunks(self) -> int:
        return -(-self.n_samples // self.sample_chunk)

    def samples(self, j: int) -> tuple[int, int]:
        """First and one-past-last sample of sample chunk ``j``."""
        return j * self.sample_chunk, min((j + 1) * self.sample_chunk, self.n_samples)

    def variants(self, i: int) -> tuple[int, int]:
        return i * self.variant_chunk, min((i + 1) * self.variant_chunk, self.n_variants)


# --- the source ---------------------------------------------------------------------------
class _Source(NamedTuple):
    """The source's call_genotype: its shape, chunks, dtype and where its chunks are."""

    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dtype: np.dtype
    key: Callable[[tuple[int, ...]], str]  # chunk index -> file path within call_genotype


def _source_array(store: Path) -> _Source:
    """From the metadata file of a Zarr v2 array (no Zarr import: the CLI reads this before
    every analysis), else through Zarr."""
    meta_path = store / "call_genotype" / ".zarray"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        separator = meta.get("dimension_separator") or "."
        return _Source(
            tuple(meta["shape"]),
            tuple(meta["chunks"]),
            np.dtype(meta["dtype"]),
            lambda index: separator.join(map(str, index)),
        )
    import zarr

    array = zarr.open_array(zarr.storage.LocalStore(store, read_only=True), path="call_genotype")
    return _Source(array.shape, array.chunks, array.dtype, array.metadata.encode_chunk_key)


def _source_layout(array: _Source) -> Layout:
    if len(array.shape) != 3 or array.dtype != np.int8:
        raise ValueError(
            f"call_genotype is {array.dtype} with {len(array.shape)} dimensions; expected int8 "
            "(variants, samples, ploidy) as bio2zarr writes it"
        )
    n_variants, n_samples, ploidy = array.shape
    return Layout(n_variants, n_samples, ploidy, array.chunks[0], array.chunks[1])


def _source_files(store: Path, array: _Source, i: int, j: int) -> list[str]:
    """The chunk files of source chunk (i, j) (one per chunk of the ploidy axis), as strings
    (every open_store stats thousands: Path objects were half of that time)."""
    n_k = -(-array.shape[2] // array.chunks[2])
    return [f"{store}/call_genotype/{array.key((i, j, k))}" for k in range(n_k)]


def _stat(files: list[str]) -> tuple[int, int]:
    """(total size, latest mtime in ns) of chunk files; -1 where a file is absent."""
    size, mtime = 0, 0
    for path in files:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return -1, -1
        size += st.st_size
        mtime = max(mtime, st.st_mtime_ns)
    return size, mtime


def _digest(files: list[str] | list[Path]) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for path in files:
        try:
            h.update(Path(path).read_bytes())
        except FileNotFoundError:
            h.update(b"\0absent")
    return h.digest()


def _source_metadata_digest(store: Path) -> str:
    """Digest of call_genotype's metadata file (shape, chunks, codecs, fill value)."""
    for name in (".zarray", "zarr.json"):
        path = store / "call_genotype" / name
        if path.exists():
            return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    raise ValueError(f"{store} has no call_genotype array")


class _LabelSource(NamedTuple):
    """A label array of the store (Zarr v2): its name and how its chunk files are named."""

    name: str
    root: Path
    separator: str
    ndim: int

    def file(self, i: int) -> str:
        """The file of variant chunk ``i``."""
        return f"{self.root}/{self.separator.join(map(str, (i, *(0,) * (self.ndim - 1))))}"


def _label_sources(store: Path, layout: Layout) -> list[_LabelSource] | None:
    """The label arrays the tables read (:class:`~tresor.stats.tables.StoreLabels`), when
    they are chunk files chunked along variants as the genotypes are; else None."""
    from tresor.stats.tables import StoreLabels

    arrays = StoreLabels.arrays_of(store)
    if arrays is None:
        return None
    sources = []
    for name, array in arrays.items():
        if name == "contig_id":
            continue
        if array.chunks[0] != layout.variant_chunk or array.shape[0] != layout.n_variants:
            return None
        if any(c != s for c, s in zip(array.chunks[1:], array.shape[1:], strict=True)):
            return None
        sources.append(_LabelSource(name, array.root, array.separator, len(array.shape)))
    return sources


def _label_metadata(store: Path, sources: list[_LabelSource]) -> dict[str, str]:
    """Digests of the label arrays' metadata files and of ``contig_id`` (the contig names)."""
    found = {}
    for name in [*(s.name for s in sources), "contig_id"]:
        meta = (store / name / ".zarray").read_bytes()
        found[name] = hashlib.blake2b(meta, digest_size=16).hexdigest()
    contigs = sorted(p for p in (store / "contig_id").iterdir() if not p.name.startswith("."))
    found["contig_id chunks"] = _digest(contigs).hex()
    return found


# --- reading the companion ----------------------------------------------------------------
class PackedRows(NamedTuple):
    """Some rows of the companion, for one sample chunk."""

    codes: np.ndarray  # (variants, words) uint64
    haploid: np.ndarray  # (variants, words) uint64
    has_haploid: np.ndarray  # (variants,) bool
    exception: np.ndarray  # (variants,) int32: row of exception_calls, -1 when packed
    exception_calls: np.ndarray  # (exception rows, samples of the chunk, ploidy) int8


class Companion:
    """An opened companion; :meth:`rows` reads what a task needs. Picklable (paths only)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        attrs = json.loads((self.path / ".zattrs").read_text())
        if attrs.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} group")
        if attrs.get("version") != VERSION:
            raise ValueError(
                f"it is format version {attrs.get('version')}, this tresor reads version {VERSION}"
            )
        self.attrs = attrs
        self.layout = Layout(**attrs["layout"])
        self._arrays: dict[str, ChunkFiles] = {}

    def __getstate__(self):
        return {"path": self.path, "attrs": self.attrs, "layout": self.layout}

    def __setstate__(self, state):
        self.__dict__.update(state, _arrays={})

    def array(self, name: str) -> ChunkFiles:
        if name not in self._arrays:
            array = ChunkFiles.open(self.path, name)
            if array is None:
                raise ValueError(f"{self.path} has no readable array {name!r}")
            self._arrays[name] = array
        return self._arrays[name]

    def rows(self, rows: np.ndarray, j: int) -> PackedRows:
        """Store rows ``rows`` of sample chunk ``j``. The packed words may be a view of this
        thread's buffer: use them before the thread reads rows again."""
        rows = np.asarray(rows, dtype=np.int64)
        exception = self.array("variant_exception").rows(rows)
        has_haploid = self.array("variant_haploid").rows(rows)
        codes = self.array("genotypes").rows(rows, j, reuse=True)
        if has_haploid.any():
            haploid = self.array("haploid").rows(rows, j, reuse=True)
        else:
            haploid = filled(codes.shape, codes.dtype, 0)
        local = np.full(len(rows), -1, dtype=np.int32)
        found = exception >= 0
        start, stop = self.layout.samples(j)
        if found.any():
            exceptions = self.array("exceptions")
            wanted = exception[found].astype(np.int64)
            calls = np.empty((len(wanted), exceptions.chunks[1], self.layout.ploidy), dtype=np.int8)
            size = exceptions.chunks[0]
            for c in np.unique(wanted // size).tolist():
                here = wanted // size == c
                calls[here] = exceptions.read(c, j, 0, reuse=True)[wanted[here] - c * size]
            local[found] = np.arange(len(wanted), dtype=np.int32)
            calls = calls[:, : stop - start]
        else:
            calls = np.empty((0, stop - start, self.layout.ploidy), dtype=np.int8)
        return PackedRows(codes, haploid, has_haploid, local, calls)

    @property
    def has_labels(self) -> bool:
        return "labels" in self.attrs

    @property
    def width(self) -> int:
        """Alleles per variant in the store (its ``alleles`` dimension)."""
        return self.attrs["labels"]["width"]

    def row_labels(self, rows: np.ndarray) -> RowLabels:
        """The labels of store rows ``rows`` as the tables print them (needs
        :attr:`has_labels`)."""
        from tresor.stats.tables import RowLabels
        from tresor.stats.text import Column

        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return RowLabels(Column(np.zeros(0, np.uint8), np.zeros(1, np.int64)), rows)
        lo, hi = int(rows.min()), int(rows.max()) + 1
        offsets = self.array("label_offsets").span(2 * lo, 2 * hi + 1)
        data = self.array("label_text").span(int(offsets[0]), int(offsets[-1]))
        labels = RowLabels(
            Column(data, offsets - offsets[0]), self.array("variant_n_alleles").span(lo, hi)
        )
        if hi - lo != len(rows) or np.any(np.diff(rows) != 1):
            labels = labels.take(rows - lo)
        return labels

    def stale_reason(self, store: Path) -> str | None:
        """Why the companion does not hold ``store``'s genotypes, or None when it does."""
        try:
            array = _source_array(store)
            layout = _source_layout(array)
        except Exception as e:  # any unreadable source is a reason
            return f"its store's call_genotype cannot be read ({e})"
        if layout != self.layout:
            return f"the store's call_genotype is now {layout}, the companion was {self.layout}"
        if _source_metadata_digest(store) != self.attrs["source_metadata"]:
            return "the store's call_genotype metadata (codecs, fill value) changed"
        changed = self._changed(
            "source",
            lambda i, j: _source_files(store, array, i, j),
            (layout.n_variant_chunks, layout.n_sample_chunks),
        )
        if changed:
            return f"{changed} chunks of the store's call_genotype changed since it was packed"
        if self.has_labels:
            return self._stale_labels(store)
        return None

    def _changed(
        self, name: str, files: Callable[[int, int], list[str]], grid: tuple[int, int]
    ) -> int:
        """How many source chunks (i, j) of ``grid`` hold other bytes than when packed, by
        ``NAME_stat`` (size, mtime) and, where that differs, ``NAME_digest``."""
        stats = np.asarray(self.array(f"{name}_stat").read(0, 0, 0))
        digests = np.asarray(self.array(f"{name}_digest").read(0, 0, 0))
        changed = 0
        for i in range(grid[0]):
            for j in range(grid[1]):
                here = files(i, j)
                if _stat(here) != tuple(stats[i, j].tolist()):
                    changed += _digest(here) != digests[i, j].tobytes()
        return changed

    def _stale_labels(self, store: Path) -> str | None:
        """Why the labels are not the store's labels now, or None when they are."""
        sources = _label_sources(store, self.layout)
        packed = self.attrs["labels"]
        if sources is None or [s.name for s in sources] != packed["arrays"]:
            return "the store's variant label arrays (IDs, alleles, positions) are not as packed"
        if _label_metadata(store, sources) != packed["metadata"]:
            return "the store's variant label arrays (codecs, contig names) changed"
        changed = self._changed(
            "label", lambda i, k: [sources[k].file(i)], (self.layout.n_variant_chunks, len(sources))
        )
        if changed:
            return f"{changed} chunks of the store's variant labels changed since it was packed"
        return None


_OPENED: dict[str, Companion] = {}


def open_companion(store: str | os.PathLike, *, warn: bool = True) -> Companion | None:
    """The companion of ``store`` if there is one and it holds the store's genotypes as they
    are now; None otherwise (with a :class:`StalePackWarning`, if ``warn``, when it exists but
    does not)."""
    store = Path(store).resolve()
    path = companion_path(store)
    if not path.is_dir():
        return None
    try:
        companion = Companion(path)
        reason = companion.stale_reason(store)
    except (OSError, ValueError, KeyError, TypeError) as e:
        reason = f"it cannot be read ({e})"
    if reason is not None:
        if not warn:
            return None
        warnings.warn(
            f"the packed genotypes {path} are not used: {reason}. The analyses read the store "
            "instead (slower); a node admin refreshes them with: tresor datasets pack ID",
            StalePackWarning,
            stacklevel=3,
        )
        return None
    _OPENED[str(path)] = companion
    return companion


# --- writing ------------------------------------------------------------------------------
class _PackedChunk(NamedTuple):
    codes: np.ndarray
    haploid: np.ndarray
    has_haploid: np.ndarray
    exception_rows: np.ndarray  # rows of the chunk that are exceptions
    exceptions: np.ndarray  # their int8 calls, all samples
    stats: np.ndarray  # (sample chunks, 2)
    digests: np.ndarray  # (sample chunks, 16)


class _PackedLabels(NamedTuple):
    text: Column  # two values per variant (VariantLabels.row_text)
    n_alleles: np.ndarray
    stats: np.ndarray  # (label arrays, 2)
    digests: np.ndarray  # (label arrays, 16)


def _pack_labels(store: Path, sources: list[_LabelSource], layout: Layout, i: int) -> _PackedLabels:
    """The labels of variant chunk ``i`` as the tables print them, with their sources'
    fingerprints (taken before reading, as the genotypes')."""
    from tresor.stats.tables import StoreLabels

    stats = np.zeros((len(sources), 2), dtype=np.int64)
    digests = np.zeros((len(sources), 16), dtype=np.uint8)
    for k, source in enumerate(sources):
        stats[k] = _stat([source.file(i)])
        digests[k] = np.frombuffer(_digest([source.file(i)]), dtype=np.uint8)
    labels = StoreLabels.for_store(store, [s.name for s in sources]).labels(
        np.arange(*layout.variants(i))
    )
    return _PackedLabels(labels.row_text(), labels.n_alleles, stats, digests)


def _pack_variant_chunk(
    store: Path, source: _Source, array, layout: Layout, i: int
) -> _PackedChunk:
    """Pack source variant chunk ``i`` (every sample chunk), with its fingerprints."""
    from tresor.stats.packed_kernels import decode_calls, pack_block

    v0, v1 = layout.variants(i)
    n = v1 - v0
    codes = np.zeros((n, layout.n_sample_chunks * layout.words), dtype=np.uint64)
    haploid = np.zeros_like(codes)
    fits = np.ones(n, dtype=bool)
    has_haploid = np.zeros(n, dtype=bool)
    misfits = []  # per sample chunk: (fits there, the int8 rows that did not fit there)
    stats = np.zeros((layout.n_sample_chunks, 2), dtype=np.int64)
    digests = np.zeros((layout.n_sample_chunks, 16), dtype=np.uint8)
    for j in range(layout.n_sample_chunks):
        files = _source_files(store, source, i, j)
        stats[j] = _stat(files)
        digests[j] = np.frombuffer(_digest(files), dtype=np.uint8)
        s0, s1 = layout.samples(j)
        block = np.ascontiguousarray(array[v0:v1, s0:s1, :])
        c, h, f, hh = pack_block(block)
        columns = slice(j * layout.words, j * layout.words + c.shape[1])
        codes[:, columns], haploid[:, columns] = c, h
        fits &= f
        has_haploid |= hh
        misfits.append((f, block[~f]))
    rows = np.flatnonzero(~fits)
    exceptions = np.empty((len(rows), layout.n_samples, layout.ploidy), dtype=np.int8)
    for j, (f, bad) in enumerate(misfits):
        s0, s1 = layout.samples(j)
        raw = ~f[rows]  # did not fit in this sample chunk: its own calls
        exceptions[raw, s0:s1] = bad[np.searchsorted(np.flatnonzero(~f), rows[raw])]
        fitted = rows[~raw]  # fit here, not elsewhere: the same calls decoded from 2 bits
        columns = slice(j * layout.words, (j + 1) * layout.words)
        exceptions[~raw, s0:s1] = decode_calls(
            codes[fitted, columns],
            haploid[fitted, columns],
            np.full(len(fitted), -1, dtype=np.int32),
            np.empty((0, s1 - s0, layout.ploidy), dtype=np.int8),
            np.arange(s1 - s0),
            layout.ploidy,
        )
    codes[rows] = 0
    haploid[rows] = 0
    has_haploid[rows] = False
    return _PackedChunk(codes, haploid, has_haploid, rows, exceptions, stats, digests)


def _copy_permissions(store: Path, root: Path) -> None:
    """Give ``root`` (the companion) the store's read permissions and group, without write."""
    write = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    dir_stat = store.stat()
    file_stat = next((p.stat() for p in store.rglob("*") if p.is_file()), dir_stat)
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            _set_mode(Path(dirpath, name), file_stat.st_mode & 0o7777 & ~write, file_stat.st_gid)
    for dirpath, _, _ in sorted(os.walk(root), key=lambda t: -len(t[0])):
        _set_mode(Path(dirpath), dir_stat.st_mode & 0o7777 & ~write, dir_stat.st_gid)


def _set_mode(path: Path, mode: int, gid: int) -> None:
    if path.stat().st_gid != gid:
        os.chown(path, -1, gid)
    path.chmod(mode)


def _remove(root: Path) -> None:
    """Remove a (read-only) companion or an unfinished one."""
    if not root.exists():
        return
    for dirpath, _, _ in os.walk(root):
        Path(dirpath).chmod(0o700)
    shutil.rmtree(root)


def pack_store(
    store: str | os.PathLike,
    *,
    workers: int = 1,
    codec: str = CODECS[0],
    progress: bool = False,
    say: Callable[[str], None] = lambda message: None,
) -> Path:
    """Write (or rewrite) the companion of ``store``; returns its path.

    ``codec`` compresses the packed words and the rest: ``none`` (the default: the analyses
    map the files into memory and count the words where they lie, no copy; a quarter of the
    int8 calls' size before compression) or ``lz4`` (about a fifth of that for a cohort's
    mostly rare variants, decoded at a few GB/s: decoding was half of freq's time,
    docs/stats.md).

    Reads each source chunk of ``call_genotype`` once, in ``workers`` threads, writes the
    companion under a temporary name beside the store, gives it the store's read permissions
    and renames it into place, so it appears whole or not at all.
    """
    import zarr
    from numcodecs import LZ4
    from tqdm.auto import tqdm

    store = Path(store).resolve()
    source = _source_array(store)
    layout = _source_layout(source)
    array = zarr.open_array(zarr.storage.LocalStore(store, read_only=True), path="call_genotype")
    target = companion_path(store)
    partial = target.with_name(target.name + ".partial")
    _remove(partial)
    group = zarr.open_group(zarr.storage.LocalStore(partial), mode="w", zarr_format=2)
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {', '.join(CODECS)}, not {codec!r}")
    words_codec = LZ4() if codec == "lz4" else None
    sources = _label_sources(store, layout)
    config = {"write_empty_chunks": False}
    words = layout.n_sample_chunks * layout.words
    common = {"compressors": words_codec, "config": config}
    codes = group.create_array(
        "genotypes",
        shape=(layout.n_variants, words),
        chunks=(layout.variant_chunk, layout.words),
        dtype="<u8",
        fill_value=0,
        **common,
    )
    haploid = group.create_array(
        "haploid",
        shape=codes.shape,
        chunks=codes.chunks,
        dtype="<u8",
        fill_value=0,
        **common,
    )
    exception_index = group.create_array(
        "variant_exception",
        shape=(layout.n_variants,),
        chunks=(layout.variant_chunk,),
        dtype="<i4",
        fill_value=-1,
        **common,
    )
    variant_haploid = group.create_array(
        "variant_haploid",
        shape=(layout.n_variants,),
        chunks=(layout.variant_chunk,),
        dtype="|b1",
        fill_value=False,
        **common,
    )
    exceptions = group.create_array(
        "exceptions",
        shape=(0, layout.n_samples, layout.ploidy),
        chunks=(EXCEPTION_ROWS, layout.sample_chunk, layout.ploidy),
        dtype="|i1",
        fill_value=-1,
        **common,
    )
    grid = (layout.n_variant_chunks, layout.n_sample_chunks)
    stats = np.zeros((*grid, 2), dtype=np.int64)
    digests = np.zeros((*grid, 16), dtype=np.uint8)
    n_exceptions = 0

    if sources is not None:
        label_text = group.create_array(
            "label_text",
            shape=(0,),
            chunks=(LABEL_TEXT_CHUNK,),
            dtype="|u1",
            fill_value=0,
            **common,
        )
        label_offsets = group.create_array(
            "label_offsets",
            shape=(2 * layout.n_variants + 1,),
            chunks=(2 * layout.variant_chunk,),
            dtype="<i8",
            fill_value=0,
            **common,
        )
        n_alleles = group.create_array(
            "variant_n_alleles",
            shape=(layout.n_variants,),
            chunks=(layout.variant_chunk,),
            dtype="|u1",
            fill_value=0,
            **common,
        )
        label_stats = np.zeros((layout.n_variant_chunks, len(sources), 2), dtype=np.int64)
        label_digests = np.zeros((layout.n_variant_chunks, len(sources), 16), dtype=np.uint8)
    text_size = 0

    def one(i: int) -> tuple[_PackedChunk, _PackedLabels | None]:
        labels = None if sources is None else _pack_labels(store, sources, layout, i)
        return _pack_variant_chunk(store, source, array, layout, i), labels

    from concurrent.futures import ThreadPoolExecutor

    say(f"packing the genotypes of {store.name} into {target.name} (2 bits per call)")
    with (
        ThreadPoolExecutor(max(1, workers), thread_name_prefix="tresor-pack") as pool,
        tqdm(total=layout.n_variant_chunks, desc="pack", unit=" chunks", disable=not progress)
        as bar,
    ):  # fmt: skip
        for i, (chunk, labels) in enumerate(pool.map(one, range(layout.n_variant_chunks))):
            v0, v1 = layout.variants(i)
            if labels is not None:
                end = text_size + len(labels.text.data)
                label_text.resize((end,))
                label_text[text_size:end] = labels.text.data
                label_offsets[2 * v0 : 2 * v1] = labels.text.offsets[:-1] + text_size
                n_alleles[v0:v1] = labels.n_alleles.astype(np.uint8)
                label_stats[i], label_digests[i] = labels.stats, labels.digests
                text_size = end
            codes[v0:v1] = chunk.codes
            if chunk.has_haploid.any():
                haploid[v0:v1] = chunk.haploid
                variant_haploid[v0:v1] = chunk.has_haploid
            if len(chunk.exception_rows):
                index = np.full(v1 - v0, -1, dtype=np.int32)
                index[chunk.exception_rows] = np.arange(len(chunk.exception_rows)) + n_exceptions
                exception_index[v0:v1] = index
                end = n_exceptions + len(chunk.exception_rows)
                exceptions.resize((end, layout.n_samples, layout.ploidy))
                exceptions[n_exceptions:end] = chunk.exceptions
                n_exceptions = end
            stats[i], digests[i] = chunk.stats, chunk.digests
            bar.update(1)
    fingerprints = {"source_stat": stats, "source_digest": digests}
    if sources is not None:
        label_offsets[2 * layout.n_variants] = text_size
        fingerprints.update(label_stat=label_stats, label_digest=label_digests)
    for name, data in fingerprints.items():
        group.create_array(name, data=data, chunks=data.shape, **common)
    from tresor.core.version import __version__

    group.attrs.update(
        {
            "format": FORMAT,
            "version": VERSION,
            "encoding": "2 bits per call, 32 calls per little-endian uint64, call t in bits 2t "
            "(low) and 2t+1: 0 no ALT copy, 1 one, 2 two, 3 missing; a haploid call a is "
            "stored as a/a and marked in 'haploid'; rows 2 bits cannot hold are in "
            "'exceptions' (int8)",
            "layout": dataclasses.asdict(layout),
            "source": store.name,
            "source_metadata": _source_metadata_digest(store),
            "exceptions": n_exceptions,
            "tresor_version": __version__,
        }
    )
    if sources is not None:
        group.attrs["labels"] = {
            "width": ChunkFiles.open(store, "variant_allele").shape[1],
            "arrays": [s.name for s in sources],
            "metadata": _label_metadata(store, sources),
        }
    _copy_permissions(store, partial)
    old = target.with_name(target.name + ".old")
    _remove(old)
    if target.exists():
        target.rename(old)
    partial.rename(target)
    _remove(old)
    _OPENED.pop(str(target), None)
    say(
        f"packed {layout.n_variants} variants x {layout.n_samples} samples "
        f"({n_exceptions} rows kept as int8: multi-allelic or not diploid/haploid)"
    )
    return target


# --- a Dataset and its companion ----------------------------------------------------------
def attach(ds: xr.Dataset, companion: Companion) -> xr.Dataset:
    """Link ``ds``, opened from the companion's store by :func:`tresor.io.open_store`, to it."""
    ds.attrs[COMPANION_ATTR] = str(companion.path)
    return ds


@dataclasses.dataclass(frozen=True)
class SampleBlock:
    """One chunk of the Dataset's samples (of its call_genotype), as the companion holds them:
    the selected samples of one or more of its sample chunks, their words side by side.

    The kernels see a block as one chunk: ``positions`` index the words of all parts, in the
    Dataset's order, so floating-point sums run over the block's samples in the order the
    int8 kernels take them from the Dataset's chunk.
    """

    start: int  # first sample of the block among the Dataset's
    stop: int
    parts: tuple[tuple[int, np.ndarray], ...]  # (companion sample chunk, positions in it)
    words: int  # words per part

    @functools.cached_property
    def positions(self) -> np.ndarray:
        from tresor.stats.packed_kernels import CALLS_PER_WORD

        span = self.words * CALLS_PER_WORD
        return np.concatenate([k * span + p for k, (_, p) in enumerate(self.parts)])

    @functools.cached_property
    def mask(self) -> np.ndarray:
        """Mask words: the low bit of each selected call."""
        return words_mask(self.positions, len(self.parts) * self.words)

    def rank(self) -> np.ndarray:
        """Position in the words -> index among the block's samples (-1 if not selected)."""
        from tresor.stats.packed_kernels import CALLS_PER_WORD

        out = np.full(len(self.parts) * self.words * CALLS_PER_WORD, -1, dtype=np.int64)
        out[self.positions] = np.arange(self.stop - self.start)
        return out


def words_mask(positions: np.ndarray, n_words: int) -> np.ndarray:
    """Mask words with the low bit of the calls at ``positions`` set."""
    from tresor.stats.packed_kernels import CALLS_PER_WORD, sample_mask

    keep = np.zeros(n_words * CALLS_PER_WORD, dtype=bool)
    keep[positions] = True
    return sample_mask(keep)


@dataclasses.dataclass(frozen=True)
class PackedView:
    """How a Dataset's genotypes are read from its companion."""

    companion: Companion
    variants: da.Array  # store row of each variant, chunked like the Dataset's call_genotype
    sample_blocks: tuple[SampleBlock, ...]  # as the Dataset's call_genotype chunks its samples
    n_samples: int  # selected

    @property
    def layout(self) -> Layout:
        return self.companion.layout


def packed_view(ds: xr.Dataset) -> PackedView | None:
    """How to read ``ds``'s genotypes from its companion, or None to read them from the store
    (no companion, or ``call_genotype`` is no longer the store's own calls)."""
    import dask.array as da

    from tresor.stats.lineage import SAMPLE_INDEX, VARIANT_INDEX, store_variables

    path = ds.attrs.get(COMPANION_ATTR)
    if path is None or not store_variables(ds, "call_genotype", VARIANT_INDEX):
        return None
    gt = ds["call_genotype"].data
    companion = _OPENED.get(path)
    if companion is None:  # a Dataset from another process: check the companion again
        companion = open_companion(Path(path).with_name(Path(path).name[: -len(SUFFIX)]))
        if companion is None:
            return None
    samples = np.asarray(ds[SAMPLE_INDEX].values, dtype=np.int64)
    if len(samples) != gt.shape[1] or (len(samples) > 1 and np.any(np.diff(samples) <= 0)):
        return None  # reordered or repeated samples: the store's order is what is packed
    variants = ds[VARIANT_INDEX].data
    if not isinstance(variants, da.Array):
        variants = da.from_array(np.asarray(variants), chunks=(gt.chunks[0],))
    if variants.shape[0] != gt.shape[0]:
        return None
    if variants.chunks[0] != gt.chunks[0]:
        variants = variants.rechunk((gt.chunks[0],))
    layout = companion.layout
    blocks = []
    bounds = np.cumsum((0, *gt.chunks[1]))
    for start, stop in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        here = samples[start:stop]
        which = here // layout.sample_chunk
        parts = tuple(
            (j, here[which == j] - j * layout.sample_chunk) for j in np.unique(which).tolist()
        )
        blocks.append(SampleBlock(start, stop, parts, layout.words))
    return PackedView(companion, variants, tuple(blocks), len(samples))


def read_rows(view: PackedView, rows: np.ndarray, block: SampleBlock) -> PackedRows:
    """The companion's rows ``rows`` for the samples of ``block``: the words of its parts side
    by side (a view of this thread's buffer when there is one part: use them at once), and the
    exception calls of its samples."""
    parts = []
    for j, positions in block.parts:
        packed = view.companion.rows(rows, j)
        calls = packed.exception_calls
        if len(positions) != calls.shape[1]:
            calls = np.ascontiguousarray(calls[:, positions])
        packed = packed._replace(exception_calls=calls)
        if len(block.parts) > 1:  # the next part's read reuses the buffer: copy this one
            packed = packed._replace(codes=packed.codes.copy(), haploid=packed.haploid.copy())
        parts.append(packed)
    if len(parts) == 1:
        return parts[0]
    return parts[0]._replace(
        codes=np.hstack([p.codes for p in parts]),
        haploid=np.hstack([p.haploid for p in parts]),
        exception_calls=np.concatenate([p.exception_calls for p in parts], axis=1),
    )
