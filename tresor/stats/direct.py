"""freq, hardy and missing straight from a store's packed companion, without xarray, Dask or Zarr.

What ``tresor freq``, ``tresor hardy`` and ``tresor missing`` run when the store has a current
companion (:mod:`tresor.stats.packed`). Importing xarray, pandas, Dask and Zarr takes more than
a second, longer than plink2 takes for the whole analysis; here a command imports NumPy, numba
and the kernels, reads the companion's words and the labels it holds as the tables print them
straight from their chunk files (:mod:`tresor.stats.chunks`; the store's own label arrays only
for ``--region``), counts chunks in a pool of threads, several chunks per task
so that scheduling costs little whatever the chunk size, and writes the tables as
:mod:`tresor.stats.reports` does, from the same kernels (``tests/integration/test_stats_cli.py``
compares the files byte for byte). Any other store, or a stale companion, goes the Dataset way.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from tresor.stats import tables, text, variables
from tresor.stats.chunks import ChunkFiles
from tresor.stats.packed import Companion, PackedRows, open_companion
from tresor.stats.selection import nothing_passed, region_rows, sample_positions

#: Store rows per task: a few chunks, so that a task costs far more than scheduling it.
TASK_VARIANTS = 8_192


class PackedStore:
    """A VCF Zarr store (Zarr v2, as bio2zarr writes it) with a current packed companion."""

    def __init__(self, path: Path, companion: Companion):
        self.path, self.companion = path, companion

    @functools.cached_property
    def labels(self) -> tables.StoreLabels:
        """The store's own label arrays (for ``--region``; the tables' labels are the
        companion's)."""
        return tables.StoreLabels.for_store(self.path)

    @classmethod
    def open(cls, path: str | os.PathLike) -> PackedStore | None:
        """The store at ``path``, or None when it is not read this way (then the Dataset way
        says what is wrong with it, or warns about a stale companion)."""
        path = Path(path)
        if not (path / ".zgroup").is_file():
            return None
        if ChunkFiles.open(path, variables.sample_id) is None:
            return None
        companion = open_companion(path, warn=False)  # its labels: the store's are readable
        if companion is None or not companion.has_labels:
            return None
        return cls(path.resolve(), companion)

    @property
    def n_variants(self) -> int:
        return self.companion.layout.n_variants

    def sample_ids(self) -> list[str]:
        ids = ChunkFiles.open(self.path, variables.sample_id)
        return ids.string_rows(np.arange(ids.shape[0])).strings()

    def samples(self, keep: Sequence[str] | None, *, source: str = "the list") -> np.ndarray:
        """Store samples with IDs in ``keep`` (all for None), as ``keep_samples`` chooses."""
        if keep is None:
            return np.arange(self.companion.layout.n_samples)
        return sample_positions(self.sample_ids(), keep, source=source)

    def rows(self, regions: Sequence[str]) -> np.ndarray:
        """Store rows inside any of ``regions`` (all for none), as ``select_regions``."""
        rows = np.arange(self.n_variants)
        if not regions:
            return rows
        a = self.labels.arrays
        return region_rows(
            self.labels.contig_names.strings(),
            a[variables.variant_contig].rows(rows),
            a[variables.variant_position].rows(rows),
            regions,
        )


class _Chunk:
    """The selected samples of one sample chunk of the companion, as the kernels want them."""

    def __init__(self, layout, index: int, positions: np.ndarray):
        from tresor.stats.packed_kernels import sample_mask

        s0, s1 = layout.samples(index)
        keep = np.zeros(s1 - s0, dtype=bool)
        keep[positions] = True
        self.index, self.positions, self.mask = index, positions, sample_mask(keep)


def _chunks(store: PackedStore, samples: np.ndarray) -> list[_Chunk]:
    layout = store.companion.layout
    which = samples // layout.sample_chunk
    return [
        _Chunk(layout, j, samples[which == j] - j * layout.sample_chunk)
        for j in np.unique(which).tolist()
    ]


def _pieces(store: PackedStore, rows: np.ndarray) -> list[np.ndarray]:
    """``rows`` cut at the companion's chunk boundaries: rows within one chunk are read as a
    view of the thread's buffer (:meth:`~tresor.stats.chunks.ChunkFiles.read`), not copied."""
    size = store.companion.layout.variant_chunk
    return np.split(rows, np.flatnonzero(np.diff(rows // size)) + 1)


def _rows(store: PackedStore, rows: np.ndarray, chunk: _Chunk) -> PackedRows:
    packed = store.companion.rows(rows, chunk.index)
    calls = packed.exception_calls
    if len(chunk.positions) != calls.shape[1]:
        calls = np.ascontiguousarray(calls[:, chunk.positions])
    return packed._replace(exception_calls=calls)


def _tasks(rows: np.ndarray, variant_chunk: int) -> list[np.ndarray]:
    """``rows`` cut at chunk boundaries into tasks of about TASK_VARIANTS rows."""
    per_task = max(1, TASK_VARIANTS // variant_chunk) * variant_chunk
    bounds = np.flatnonzero(np.diff(rows // per_task)) + 1
    return np.split(rows, bounds)


def _blocks(
    store: PackedStore,
    rows: np.ndarray,
    compute: Callable[[np.ndarray], dict[str, np.ndarray]],
    *,
    threads: int | None,
    progress: bool,
    desc: str,
) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """(rows, ``compute(rows)``) task by task, in order, computed by a pool of threads a few
    tasks ahead of the caller (who formats and writes)."""
    tasks = _tasks(rows, store.companion.layout.variant_chunk)
    threads = threads or os.cpu_count() or 1
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(rows), desc=desc, unit=" variants", leave=False)
    with ThreadPoolExecutor(threads, thread_name_prefix="tresor-direct") as pool:
        ahead = 2 * threads
        futures = [pool.submit(compute, t) for t in tasks[:ahead]]
        for i, task in enumerate(tasks):
            result = futures[i].result()
            futures[i] = None
            if i + ahead < len(tasks):
                futures.append(pool.submit(compute, tasks[i + ahead]))
            if bar is not None:
                bar.update(len(task))
            yield task, result
    if bar is not None:
        bar.close()


def count_rows(packed: PackedRows, mask: np.ndarray, n_alleles: int) -> np.ndarray:
    """:func:`tresor.stats.aggregation_kernels.genotype_counts` of packed rows (the int8
    kernel's for their exception rows), for the samples of ``mask``."""
    from tresor.stats import packed_kernels
    from tresor.stats.aggregation_kernels import counts_width, genotype_counts

    exceptions = np.zeros((0, counts_width(n_alleles)), dtype=np.int32)
    if len(packed.exception_calls):
        exceptions = genotype_counts(packed.exception_calls, n_alleles)
    return packed_kernels.genotype_counts(
        packed.codes,
        packed.haploid,
        packed.has_haploid,
        packed.exception,
        exceptions,
        mask,
        n_alleles,
    )


def missing_rows(
    packed: PackedRows, mask: np.ndarray, positions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Missing calls of packed rows per variant and per selected sample (``positions``)."""
    from tresor.stats import packed_kernels

    missing = packed_kernels.call_classes(packed.exception_calls) < 0
    return packed_kernels.missing_counts(packed.codes, missing, packed.exception, mask, positions)


def _counts(
    store: PackedStore, rows: np.ndarray, chunks: list[_Chunk], n_alleles: int
) -> np.ndarray:
    """:func:`tresor.stats.aggregation.count_genotypes`'s columns for store rows ``rows``."""
    pieces = []
    for piece in _pieces(store, rows):
        parts = [count_rows(_rows(store, piece, chunk), chunk.mask, n_alleles) for chunk in chunks]
        pieces.append(parts[0] if len(parts) == 1 else np.sum(parts, axis=0, dtype=np.int64))
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def _variant_stats(counts: np.ndarray, n_alleles: int, n_samples: int) -> dict[str, np.ndarray]:
    """The variables of :func:`~tresor.stats.aggregation.variant_stats` the tables and filters
    read, computed as it computes them."""
    from tresor.stats.aggregation_kernels import CALLED, HAPLOID, POLYPLOID

    a = n_alleles
    allele_count = counts[:, :a]
    total = allele_count.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        freq = allele_count / np.where(total > 0, total, np.nan)[:, None]
    called = counts[:, 3 * a + CALLED]
    return {
        variables.variant_allele_count: allele_count,
        variables.variant_allele_total: total,
        variables.variant_allele_hom_count: counts[:, a : 2 * a],
        variables.variant_allele_het_count: counts[:, 2 * a : 3 * a],
        variables.variant_n_called: called,
        variables.variant_n_haploid: counts[:, 3 * a + HAPLOID],
        variables.variant_n_polyploid: counts[:, 3 * a + POLYPLOID],
        variables.variant_call_rate: called / n_samples,
        variables.variant_minor_allele_frequency: 1.0 - np.fmax.reduce(freq, axis=1),
    }


def _keep(stats: dict[str, np.ndarray], min_maf: float, min_call_rate: float) -> np.ndarray:
    """:func:`~tresor.stats.selection.variant_filter` on computed statistics."""
    keep = stats[variables.variant_call_rate] >= min_call_rate
    if min_maf > 0:
        with np.errstate(invalid="ignore"):
            keep &= stats[variables.variant_minor_allele_frequency] >= min_maf
    return keep


def _hwe(stats: dict[str, np.ndarray], n_alleles: np.ndarray) -> np.ndarray:
    """:func:`~tresor.stats.hwe.hardy_weinberg_test`'s p-values, from the counts."""
    from tresor.stats.hwe_kernels import borrowed_cache, hwe_exact_cached

    hom = stats[variables.variant_allele_hom_count]
    het = stats[variables.variant_allele_het_count]
    with borrowed_cache() as cache:
        p = hwe_exact_cached(hom, het, n_alleles.astype(np.int32), cache)
    n_diploid = hom.sum(axis=1) + het.sum(axis=1) // 2
    others = stats[variables.variant_n_haploid] + stats[variables.variant_n_polyploid]
    p[(n_diploid == 0) & (others > 0)] = np.nan
    return p


def _table(
    store: PackedStore,
    path: Path,
    header: Sequence[str],
    row_text,
    *,
    rows: np.ndarray,
    samples: np.ndarray,
    hardy: bool = False,
    min_maf: float = 0.0,
    min_call_rate: float = 0.0,
    threads: int | None = None,
    progress: bool = True,
    digits: int = tables.DIGITS,
) -> Path:
    """freq's or hardy's table: counts, filters, p-values, labels and text of the rows
    written, all in the pool's threads (the kernels let go of the GIL), so that this thread
    only writes."""
    chunks = _chunks(store, samples)
    width = store.companion.width
    rates, mafs = [], []
    notes = tables.hardy_notes if hardy else None

    def compute(task: np.ndarray) -> dict:
        stats = _variant_stats(_counts(store, task, chunks, width), width, len(samples))
        rate = stats[variables.variant_call_rate]
        maf = stats[variables.variant_minor_allele_frequency]
        chosen = np.flatnonzero(_keep(stats, min_maf, min_call_rate))
        lines = None
        if len(chosen):
            if len(chosen) < len(task):
                stats = {name: values[chosen] for name, values in stats.items()}
            labels = store.companion.row_labels(task[chosen])
            if hardy:  # the rows written only, their alleles counted from their labels
                stats[variables.variant_hwe_p_value] = _hwe(stats, labels.n_alleles)
            lines = next(tables.formatted([(stats, labels)], row_text, notes, digits))
        return {"rate": rate, "maf": maf, "lines": lines}

    def parts() -> Iterator[tuple[bytes, list[str]]]:
        for _, result in _blocks(
            store, rows, compute, threads=threads, progress=progress, desc=path.name
        ):
            rates.append(result["rate"])
            mafs.append(result["maf"])
            if result["lines"] is not None:
                yield result["lines"]

    if tables.write_text(path, header, parts()) == 0:
        path.unlink(missing_ok=True)
        tables.notes_path(path).unlink(missing_ok=True)
        raise nothing_passed(np.concatenate(rates), np.concatenate(mafs), min_maf, min_call_rate)
    return path


def _path(prefix: str | os.PathLike, suffix: str) -> Path:
    prefix = Path(prefix)
    return prefix.with_name(prefix.name + suffix)


def write_freq(store: PackedStore, out: str | os.PathLike, *, counts: bool = False, **options):
    """:func:`tresor.stats.reports.write_freq` of the store's ``rows`` and ``samples``
    (keywords: ``rows``, ``samples``, ``min_maf``, ``min_call_rate``, ``threads``,
    ``progress``, ``digits``)."""
    path = _path(out, ".acount" if counts else ".afreq")
    header = tables.ACOUNT_HEADER if counts else tables.AFREQ_HEADER
    return _table(store, path, header, tables.afreq_rows(counts), **options)


def write_hardy(store: PackedStore, out: str | os.PathLike, **options) -> Path:
    """:func:`tresor.stats.reports.write_hardy` of the store's ``rows`` and ``samples`` (the
    keywords of :func:`write_freq`)."""
    path = _path(out, ".hardy")
    return _table(store, path, tables.HARDY_HEADER, tables.hardy_rows, hardy=True, **options)


def write_missing(
    store: PackedStore,
    out: str | os.PathLike,
    *,
    rows: np.ndarray,
    samples: np.ndarray,
    threads: int | None = None,
    progress: bool = True,
    digits: int = tables.DIGITS,
) -> list[Path]:
    """:func:`tresor.stats.reports.write_missing` of the store's ``rows`` and ``samples``: both
    tables from one pass (per variant and per sample at once), the lines of ``.vmiss`` made in
    the counting threads."""
    chunks = _chunks(store, samples)
    per_sample = np.zeros(len(samples), dtype=np.int64)
    starts = np.cumsum([0] + [len(c.positions) for c in chunks])

    def compute(task: np.ndarray) -> dict:
        missing = np.zeros(len(task), dtype=np.int64)
        by_sample = [np.zeros(len(chunk.positions), dtype=np.int64) for chunk in chunks]
        at = 0
        for piece in _pieces(store, task):
            for k, chunk in enumerate(chunks):
                variant, sample = missing_rows(
                    _rows(store, piece, chunk), chunk.mask, chunk.positions
                )
                missing[at : at + len(piece)] += variant
                by_sample[k] += sample
            at += len(piece)
        stats = {variables.variant_n_called: len(samples) - missing}
        labels = store.companion.row_labels(task)
        lines = next(tables.formatted([(stats, labels)], row_text, None, digits))
        return {"by_sample": by_sample, "lines": lines}

    def parts() -> Iterator[tuple[bytes, list[str]]]:
        for _, result in _blocks(
            store, rows, compute, threads=threads, progress=progress, desc="missing calls"
        ):
            for chunk_missing, start, stop in zip(
                result["by_sample"], starts[:-1], starts[1:], strict=True
            ):
                per_sample[start:stop] += chunk_missing
            yield result["lines"]

    row_text = tables.vmiss_rows(len(samples))
    vmiss = _path(out, ".vmiss")
    tables.write_text(vmiss, tables.VMISS_HEADER, parts())
    ids = store.sample_ids()
    smiss = _path(out, ".smiss")
    n_variants = len(rows)
    tables.write_sample_table(
        smiss,
        [ids[s] for s in samples.tolist()],
        tables.SMISS_HEADER,
        [
            tables.fmt_int(per_sample),
            [str(n_variants)] * len(samples),
            text.floats(per_sample / n_variants, digits).strings(),
        ],
    )
    return [smiss, vmiss]
