"""plink2-format output tables (.afreq, .acount, .hardy, .glm.*, .smiss, .vmiss, .het, .eigen*).

Column names, order and number format are plink2's (6 significant digits, ``NA`` for missing),
so a researcher can ``diff`` our files against plink2's. Three deliberate differences, stated in
docs/stats.md: ``#CHROM`` is the contig name as stored (plink2 prints ``21`` for ``chr21``
unless given ``--output-chr chrM``), POS is included after ``#CHROM`` (plink2's
``cols=+pos``), and a variant without an ID in the VCF gets ``CHROM:POS:REF:ALT`` (plink2's
``--set-missing-var-ids @:#:$r:$a``), so that lists of variants (``.prune.in``) name them.

Per-variant tables are written block by block: each block of variants is computed, formatted
and appended, so memory does not grow with the number of variants, and a progress bar shows
how far it is. The text is made as bytes (:mod:`tresor.stats.text`), and the labels (CHROM,
POS, ID, alleles) of the rows written are read straight from the store's chunk files when the
Dataset's labels are the store's own (:class:`StoreLabels`), without a Python string per value.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tresor.stats import text, variables
from tresor.stats.text import Column

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

#: A computed block of variants: variable name -> NumPy array (variants first).
Block = Mapping[str, np.ndarray]

#: Target number of variants per computed block when streaming a table.
BLOCK_VARIANTS = 16_384


#: plink2 prints 6 significant digits; tests ask for more to compare unrounded values.
DIGITS = 6


def fmt(values: np.ndarray | Sequence[float], digits: int = DIGITS) -> list[str]:
    """plink2's number format: ``digits`` significant digits (%g), ``NA`` for NaN."""
    spec = f".{digits}g"
    return ["NA" if math.isnan(x) else format(x, spec) for x in np.asarray(values, float).tolist()]


def fmt_int(values: np.ndarray) -> list[str]:
    return [str(x) for x in np.asarray(values).tolist()]


class VariantLabels:
    """CHROM, POS, ID, REF, ALT and every allele of some variants, as text columns.

    ``alleles`` holds ``width`` values per variant (REF first, '' padding); a variant without
    an ID ('.' or empty in the VCF, or masked) is named ``CHROM:POS:REF:ALT``.
    """

    def __init__(
        self,
        contig: Column,
        pos: Column,
        ids: Column | None,
        id_mask: np.ndarray | None,
        alleles: Column,
        width: int,
    ):
        n = len(contig)
        self.contig, self.pos, self.alleles, self.width = contig, pos, alleles, width
        present = np.diff(alleles.offsets).reshape(n, width) > 0
        self.n_alleles = present.sum(axis=1)
        first = np.arange(n) * width
        self.ref = alleles.take(first)
        others = np.arange(1, width)[None, :] < self.n_alleles[:, None]
        flat = (first[:, None] + np.arange(1, width)[None, :])[others]
        self.alt = text.joined(alleles.take(flat), others.sum(axis=1), empty=".")
        if ids is None:
            absent = np.ones(n, dtype=bool)
            ids = text.repeat(".", n)
        else:
            size = np.diff(ids.offsets)
            starts = ids.offsets[:-1] - ids.offsets[0]
            dot = np.zeros(n, dtype=bool)
            one = size == 1
            dot[one] = ids.data[starts[one]] == ord(".")
            absent = (size == 0) | dot
            if id_mask is not None:
                absent |= id_mask
        if absent.any():
            named = text.fields([contig, pos, self.ref, self.alt], ":")
            ids = text.where(~absent, ids, named)
        self.id = ids

    @classmethod
    def from_block(cls, block: Block, contig_names: Sequence[str]) -> VariantLabels:
        """From a computed block holding the label variables (strings of any kind)."""
        names = np.asarray([str(c) for c in contig_names], dtype=object)
        alleles = np.asarray(block["variant_allele"]).astype(object)
        return cls(
            text.strings(names[np.asarray(block["variant_contig"], dtype=np.int64)]),
            text.ints(block["variant_position"]),
            text.strings(block["variant_id"]) if "variant_id" in block else None,
            np.asarray(block["variant_id_mask"]) if "variant_id_mask" in block else None,
            text.strings(alleles.ravel()),
            alleles.shape[1],
        )

    def __len__(self) -> int:
        return len(self.contig)

    def allele(self, variant: np.ndarray, allele: np.ndarray) -> Column:
        """Allele ``allele[i]`` of variant ``variant[i]``."""
        return self.alleles.take(np.asarray(variant) * self.width + np.asarray(allele))

    def prefix_columns(self, rows: np.ndarray | None = None) -> list[Column]:
        """[CHROM, POS, ID] of each (selected) variant."""
        columns = [self.contig, self.pos, self.id]
        return columns if rows is None else [c.take(rows) for c in columns]

    def row_prefix(self) -> list[Column]:
        """[CHROM, POS, ID, REF, ALT] of each variant: the first columns of .afreq's lines,
        and of .hardy's at a site with at most two alleles (A1 = REF, AX = ALT)."""
        return [self.contig, self.pos, self.id, self.ref, self.alt]

    def row_text(self) -> Column:
        """Per variant two values: 'CHROM<TAB>POS<TAB>ID' and '<TAB>REF<TAB>ALT', as
        :class:`RowLabels` holds them (the packed companion stores them, so the tables do not
        decode the store's strings)."""
        n = len(self)
        site = text.fields(self.prefix_columns(), "\t")
        alleles = text.fields([text.repeat("", n), self.ref, self.alt], "\t")
        both = Column(
            np.concatenate([site.data, alleles.data]),
            np.concatenate([site.offsets[:-1], alleles.offsets + len(site.data)]),
        )
        return both.take(np.stack([np.arange(n), n + np.arange(n)], axis=1).ravel())

    def prefix(self, rows: np.ndarray | None = None) -> list[str]:
        """'CHROM<TAB>POS<TAB>ID' for each (selected) variant, as Python strings."""
        return text.fields(self.prefix_columns(rows), "\t").strings()

    def ids(self) -> list[str]:
        return self.id.strings()


class RowLabels:
    """The labels of some variants as the tables print them, made once when the genotypes are
    packed (:meth:`VariantLabels.row_text`): ``text`` holds per variant 'CHROM<TAB>POS<TAB>ID'
    then '<TAB>REF<TAB>ALT', so a variant's first five columns are one run of bytes."""

    def __init__(self, text: Column, n_alleles: np.ndarray):
        self.text, self.n_alleles = text, np.asarray(n_alleles, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.n_alleles)

    def row_prefix(self) -> list[Column]:
        """As :meth:`VariantLabels.row_prefix`: 'CHROM<TAB>POS<TAB>ID<TAB>REF<TAB>ALT'."""
        return [Column(self.text.data, np.ascontiguousarray(self.text.offsets[::2]))]

    def prefix_columns(self, rows: np.ndarray | None = None) -> list[Column]:
        """['CHROM<TAB>POS<TAB>ID'] of each (selected) variant."""
        rows = np.arange(len(self)) if rows is None else np.asarray(rows, dtype=np.int64)
        return [self.text.take(2 * rows)]

    def prefix(self, rows: np.ndarray | None = None) -> list[str]:
        return self.prefix_columns(rows)[0].strings()

    def take(self, rows: np.ndarray) -> RowLabels:
        rows = np.asarray(rows, dtype=np.int64)
        both = np.stack([2 * rows, 2 * rows + 1], axis=1).ravel()
        return RowLabels(self.text.take(both), self.n_alleles[rows])

    def variant_labels(self) -> VariantLabels:
        """The same labels as :class:`VariantLabels` (each allele apart), for the few lines
        that need them: .hardy's lines of a site with more than two alleles."""
        sites = [v.split("\t") for v in self.prefix()]
        rest = self.text.take(2 * np.arange(len(self)) + 1).strings()
        width = max(2, int(self.n_alleles.max(initial=0)))
        alleles = []
        for value, n in zip(rest, self.n_alleles.tolist(), strict=True):
            _, ref, alt = value.split("\t")
            row = [ref, *(alt.split(",") if n > 1 else [])]
            alleles += row + [""] * (width - len(row))
        return VariantLabels(
            text.strings([s[0] for s in sites]),
            text.strings([s[1] for s in sites]),
            text.strings([s[2] for s in sites]),
            None,
            text.strings(alleles),
            width,
        )


LABEL_VARIABLES = ("variant_contig", "variant_position", "variant_allele")
OPTIONAL_LABELS = ("variant_id", "variant_id_mask")


def label_variables(ds: xr.Dataset) -> list[str]:
    """The variables VariantLabels reads that this dataset has."""
    return [*LABEL_VARIABLES, *(v for v in OPTIONAL_LABELS if v in ds)]


class StoreLabels:
    """Labels of any rows of a store, read from its chunk files (Zarr v2, as bio2zarr writes),
    decoding only those rows' strings. :meth:`for_store` and :meth:`for_dataset` say None when
    the store is not read this way (or the Dataset's labels are no longer the store's)."""

    def __init__(self, arrays: dict, contig_names: Sequence[str]):
        self.arrays = arrays
        self.contig_names = text.strings([str(c) for c in contig_names])

    @classmethod
    def for_store(cls, store: Path, names: Sequence[str] | None = None) -> StoreLabels | None:
        arrays = cls.arrays_of(store, names)
        if arrays is None:
            return None
        contigs = arrays.pop("contig_id")
        return cls(arrays, contigs.string_rows(np.arange(contigs.shape[0])).strings())

    @staticmethod
    def arrays_of(store: Path, names: Sequence[str] | None = None) -> dict | None:
        """The label arrays ``names`` (those the store has, by default) and ``contig_id`` as
        :class:`~tresor.stats.chunks.ChunkFiles` (their metadata only), or None when they
        are not read this way."""
        from tresor.stats.chunks import ChunkFiles

        if names is None:
            names = [*LABEL_VARIABLES, *(n for n in OPTIONAL_LABELS if (store / n).is_dir())]
        arrays = {name: ChunkFiles.open(store, name) for name in [*names, "contig_id"]}
        if any(a is None for a in arrays.values()):
            return None
        alleles, ids, contigs = (
            arrays["variant_allele"],
            arrays.get("variant_id"),
            arrays["contig_id"],
        )
        if not alleles.strings or len(alleles.shape) != 2 or alleles.chunks[1] != alleles.shape[1]:
            return None
        if (ids is not None and not ids.strings) or not contigs.strings:
            return None
        return arrays

    @classmethod
    def for_dataset(cls, ds: xr.Dataset) -> StoreLabels | None:
        from tresor.stats.lineage import VARIANT_INDEX, store_path, store_variables

        names = label_variables(ds)
        if not store_variables(ds, VARIANT_INDEX, *names):
            return None
        reader = cls.for_store(store_path(ds), names)
        if reader is None or reader.width != ds.sizes["alleles"]:
            return None
        return reader

    @property
    def width(self) -> int:
        return self.arrays["variant_allele"].shape[1]

    def labels(self, rows: np.ndarray) -> VariantLabels:
        """The labels of store rows ``rows``."""
        a = self.arrays
        contig = a["variant_contig"].rows(rows).astype(np.int64)
        return VariantLabels(
            self.contig_names.take(contig),
            text.ints(a["variant_position"].rows(rows)),
            a["variant_id"].string_rows(rows) if "variant_id" in a else None,
            a["variant_id_mask"].rows(rows).astype(bool) if "variant_id_mask" in a else None,
            a["variant_allele"].string_rows(rows),
            self.width,
        )


def variant_labels(ds: xr.Dataset) -> VariantLabels:
    """The labels of every variant of ``ds`` (for a selection: PCA's variants)."""
    from tresor.stats.lineage import VARIANT_INDEX

    reader = StoreLabels.for_dataset(ds)
    if reader is not None:
        return reader.labels(np.asarray(ds[VARIANT_INDEX].values))
    block = ds[label_variables(ds)].compute()
    values = {name: block[name].values for name in block.data_vars}
    return VariantLabels.from_block(values, [str(c) for c in ds["contig_id"].values])


def iter_blocks(
    ds: xr.Dataset, names: Sequence[str], *, progress: bool = True, desc: str = "variants"
) -> Iterator[xr.Dataset]:
    """Computed blocks of ``ds[names]`` along variants, aligned to the genotype chunks.

    The next block is computed in the background while the caller formats the current one, so
    the Dask workers stay busy; at most two blocks are in memory.
    """
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    n = ds.sizes["variants"]
    chunk = n
    if "call_genotype" in ds and ds["call_genotype"].chunks:
        chunk = ds["call_genotype"].chunks[0][0]
    step = max(chunk, (BLOCK_VARIANTS // max(chunk, 1)) * chunk)
    sub = ds[list(names)]
    starts = list(range(0, n, step))

    def load(start: int) -> xr.Dataset:
        return sub.isel(variants=slice(start, start + step)).compute()

    with (
        tqdm(total=n, desc=desc, unit=" variants", disable=not progress, leave=False) as bar,
        ThreadPoolExecutor(1, thread_name_prefix="tresor-block") as pool,
    ):
        future = pool.submit(load, starts[0]) if starts else None
        for i in range(len(starts)):
            block = future.result()
            if i + 1 < len(starts):
                future = pool.submit(load, starts[i + 1])
            yield block
            bar.update(block.sizes["variants"])


NOTES_HEADER = ("#CHROM", "POS", "ID", "NOTE")


def notes_path(path: str | os.PathLike) -> Path:
    """Where the per-variant notes of the table at ``path`` go: ``path`` + ``.notes``."""
    path = Path(path)
    return path.with_name(path.name + ".notes")


def formatted(
    blocks: Iterable[tuple[Block, VariantLabels]],
    rows: Callable[[Block, VariantLabels, int], bytes],
    notes: Callable[[Block, VariantLabels], list[str]] | None = None,
    digits: int = DIGITS,
) -> Iterator[tuple[bytes, list[str]]]:
    """The lines of each block and its notes, as :func:`write_text` takes them."""
    for block, labels in blocks:
        yield rows(block, labels, digits), (notes(block, labels) if notes is not None else [])


def write_table(
    path: str | os.PathLike,
    header: Sequence[str],
    blocks: Iterable[tuple[Block, VariantLabels]],
    rows: Callable[[Block, VariantLabels, int], bytes],
    *,
    notes: Callable[[Block, VariantLabels], list[str]] | None = None,
    digits: int = DIGITS,
) -> int:
    """Write a per-variant table from computed blocks and their labels; returns the number of
    data lines written.

    ``rows(block, labels, digits)`` turns a block into the bytes of its lines; ``notes(block,
    labels)`` gives lines (``CHROM, POS, ID, NOTE``) for variants that need a word of
    explanation (calls left out of a test), written to :func:`notes_path` when there is at
    least one. Files appear complete or not at all.
    """
    return write_text(path, header, formatted(blocks, rows, notes, digits))


def write_text(
    path: str | os.PathLike, header: Sequence[str], parts: Iterable[tuple[bytes, list[str]]]
) -> int:
    """:func:`write_table` from blocks already formatted: (lines, notes) each (so that
    threads can format them while this writes)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    side = notes_path(path)
    side_tmp = side.with_name(side.name + ".part")
    written = noted = 0
    try:
        with open(tmp, "wb") as f, open(side_tmp, "w") as g:
            f.write(("\t".join(header) + "\n").encode())
            g.write("\t".join(NOTES_HEADER) + "\n")
            for data, extra in parts:
                f.write(data)
                written += data.count(b"\n")
                if extra:
                    g.write("\n".join(extra) + "\n")
                    noted += len(extra)
        tmp.replace(path)
        if noted:
            side_tmp.replace(side)
        else:
            side.unlink(missing_ok=True)
    finally:
        tmp.unlink(missing_ok=True)
        side_tmp.unlink(missing_ok=True)
    return written


def write_variant_table(
    path: str | os.PathLike,
    ds: xr.Dataset,
    names: Sequence[str],
    header: Sequence[str],
    rows: Callable[[Block, VariantLabels, int], bytes],
    *,
    keep: str | None = None,
    notes: Callable[[Block, VariantLabels], list[str]] | None = None,
    progress: bool = True,
    digits: int = DIGITS,
) -> int:
    """Stream a per-variant table of ``ds``'s variables ``names`` to ``path`` (see
    :func:`write_table`); ``keep`` names a boolean variable that selects the variants to
    write (only their labels are read)."""
    from tresor.stats.lineage import VARIANT_INDEX

    contig_names = [str(c) for c in ds["contig_id"].values]
    reader = StoreLabels.for_dataset(ds)
    labels_from = [VARIANT_INDEX] if reader is not None else label_variables(ds)
    needed = [*labels_from, *names, *([keep] if keep else [])]

    def blocks() -> Iterator[tuple[Block, VariantLabels]]:
        for computed in iter_blocks(ds, needed, progress=progress, desc=Path(path).name):
            block = {name: computed[name].values for name in needed}
            if keep and not block[keep].all():
                chosen = np.flatnonzero(block[keep])
                if len(chosen) == 0:
                    continue
                block = {name: values[chosen] for name, values in block.items()}
            if reader is not None:
                yield block, reader.labels(block[VARIANT_INDEX])
            else:
                yield block, VariantLabels.from_block(block, contig_names)

    return write_table(path, header, blocks(), rows, notes=notes, digits=digits)


# --- .afreq / .acount ----------------------------------------------------------------------
AFREQ_HEADER = ("#CHROM", "POS", "ID", "REF", "ALT", "ALT_FREQS", "OBS_CT")
ACOUNT_HEADER = ("#CHROM", "POS", "ID", "REF", "ALT", "ALT_CTS", "OBS_CT")
AFREQ_VARIABLES = (variables.variant_allele_count, variables.variant_allele_total)


def _alt_values(values: np.ndarray, n_alleles: np.ndarray, digits: int | None) -> Column:
    """Per variant, its ALT columns (1 .. n_alleles - 1 of ``values``' rows, which start at
    ALT1) formatted and comma-joined; ``0`` where it has no ALT. ``digits=None``: integers."""
    k = np.maximum(n_alleles - 1, 0)
    chosen = values[np.arange(values.shape[1])[None, :] < k[:, None]]
    column = text.ints(chosen) if digits is None else text.floats(chosen, digits)
    return text.joined(column, k, empty="0")


def afreq_rows(counts: bool = False) -> Callable[[Block, VariantLabels, int], bytes]:
    """Rows of .afreq (``counts=False``: ALT frequencies) or .acount (ALT counts)."""

    def rows(block: Block, lab: VariantLabels, digits: int) -> bytes:
        ac = block[variables.variant_allele_count]
        total = block[variables.variant_allele_total]
        if counts:
            values = _alt_values(ac[:, 1:], lab.n_alleles, None)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                freq = ac[:, 1:] / np.where(total > 0, total, np.nan)[:, None]
            values = _alt_values(freq, lab.n_alleles, digits)
        return text.lines([*lab.row_prefix(), values, text.ints(total)])

    return rows


# --- .hardy ----------------------------------------------------------------------------------
HARDY_HEADER = (
    "#CHROM",
    "POS",
    "ID",
    "A1",
    "AX",
    "HOM_A1_CT",
    "HET_A1_CT",
    "TWO_AX_CT",
    "O(HET_A1)",
    "E(HET_A1)",
    "P",
)
HARDY_VARIABLES = (
    variables.variant_allele_hom_count,
    variables.variant_allele_het_count,
    variables.variant_hwe_p_value,
    variables.variant_n_haploid,
    variables.variant_n_polyploid,
)


def hardy_rows(block: Block, lab: VariantLabels | RowLabels, digits: int) -> bytes:
    """One line per biallelic site (A1 = REF) and one per allele of a multi-allelic site."""
    multi = lab.n_alleles > 2
    if not multi.any():
        return _hardy_biallelic(block, lab, digits)
    if isinstance(lab, VariantLabels):
        return _hardy_lines(block, lab, digits)
    # packed labels: every row as a biallelic site, then the few multi-allelic sites' lines
    # (their alleles one by one, back from the text) put in place of theirs
    lines = _hardy_biallelic(block, lab, digits)
    many = np.flatnonzero(multi)
    sub = {name: values[many] for name, values in block.items()}
    extra = _hardy_lines(sub, lab.take(many).variant_labels(), digits)
    return text.replace_lines(lines, many, extra, lab.n_alleles[many])


def _hardy_counts(hom_a, het_a, n_v, p, digits: int) -> list[Column]:
    """.hardy's columns after AX."""
    with np.errstate(invalid="ignore", divide="ignore"):
        nv = np.where(n_v > 0, n_v, np.nan)
        freq = (2 * hom_a + het_a) / (2 * nv)
        observed, expected = het_a / nv, 2 * freq * (1 - freq)
    return [
        text.ints(hom_a),
        text.ints(het_a),
        text.ints(n_v - hom_a - het_a),
        text.floats(observed, digits),
        text.floats(expected, digits),
        text.floats(p, digits),
    ]


def _hardy_biallelic(block: Block, lab: VariantLabels | RowLabels, digits: int) -> bytes:
    """.hardy's lines of sites with at most two alleles: one each, A1 = REF and AX = ALT."""
    hom = block[variables.variant_allele_hom_count]
    het = block[variables.variant_allele_het_count]
    n = (2 * hom.sum(axis=1) + het.sum(axis=1)) // 2  # diploid calls
    p = block[variables.variant_hwe_p_value][:, 0]
    return text.lines([*lab.row_prefix(), *_hardy_counts(hom[:, 0], het[:, 0], n, p, digits)])


def _hardy_lines(block: Block, lab: VariantLabels, digits: int) -> bytes:
    """:func:`hardy_rows` of any sites."""
    hom = block[variables.variant_allele_hom_count]
    het = block[variables.variant_allele_het_count]
    p = block[variables.variant_hwe_p_value]
    n = (2 * hom.sum(axis=1) + het.sum(axis=1)) // 2  # diploid calls
    # (variant, allele) pairs in file order: allele 0 only for biallelic sites
    lines_per_variant = np.where(lab.n_alleles <= 2, 1, lab.n_alleles)
    v = np.repeat(np.arange(len(n)), lines_per_variant)
    a = np.arange(len(v)) - np.repeat(
        np.cumsum(lines_per_variant) - lines_per_variant, lines_per_variant
    )
    # AX: the variant's other alleles (ALT at a biallelic site, '.' at a site without ALT)
    others = np.arange(lab.width)[None, :]
    others = (others < lab.n_alleles[v][:, None]) & (others != a[:, None])
    flat = (v[:, None] * lab.width + np.arange(lab.width)[None, :])[others]
    ax = text.joined(lab.alleles.take(flat), others.sum(axis=1), empty=".")
    counts = _hardy_counts(hom[v, a], het[v, a], n[v], p[v, a], digits)
    return text.lines([*lab.prefix_columns(v), lab.allele(v, a), ax, *counts])


def hardy_notes(block: Block, lab: VariantLabels) -> list[str]:
    """A note for each variant whose haploid or polyploid calls the test left out."""
    haploid = block[variables.variant_n_haploid]
    polyploid = block[variables.variant_n_polyploid]
    untested = np.isnan(block[variables.variant_hwe_p_value][:, 0])
    rows = np.flatnonzero((haploid > 0) | (polyploid > 0))
    out = []
    for i, prefix in zip(rows.tolist(), lab.prefix(rows), strict=True):
        left = [f"{haploid[i]} haploid calls"] if haploid[i] else []
        if polyploid[i]:
            left.append(f"{polyploid[i]} calls with more than two alleles")
        note = f"{' and '.join(left)} left out: the HWE test is defined on diploid calls"
        out.append(f"{prefix}\t{note}" + ("; no diploid call, so P is NA" if untested[i] else ""))
    return out


# --- sample tables ---------------------------------------------------------------------------
def write_lines(path: str | os.PathLike, header: Sequence[str], lines: Sequence[str]) -> None:
    """Write a small table (header, then ``lines``) atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_text("\t".join(header) + "\n" + "".join(f"{line}\n" for line in lines))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_sample_table(
    path: str | os.PathLike, sample_ids: Sequence[str], header: Sequence[str], columns: list
) -> None:
    """Write a per-sample table (first column #IID) atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "w") as f:
            f.write("\t".join(header) + "\n")
            for row in zip(sample_ids, *columns, strict=True):
                f.write("\t".join(row) + "\n")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


# --- .glm.linear / .glm.logistic.hybrid ------------------------------------------------------
GLM_LINEAR_HEADER = (
    "#CHROM",
    "POS",
    "ID",
    "REF",
    "ALT",
    "A1",
    "TEST",
    "OBS_CT",
    "BETA",
    "SE",
    "T_STAT",
    "P",
    "ERRCODE",
)
GLM_LOGISTIC_HEADER = (
    "#CHROM",
    "POS",
    "ID",
    "REF",
    "ALT",
    "A1",
    "FIRTH?",
    "TEST",
    "OBS_CT",
    "OR",
    "LOG(OR)_SE",
    "Z_STAT",
    "P",
    "ERRCODE",
)
GLM_VARIABLES = (
    variables.variant_glm_a1,
    variables.variant_glm_n,
    variables.variant_glm_beta,
    variables.variant_glm_se,
    variables.variant_glm_stat,
    variables.variant_glm_p_value,
    variables.variant_glm_error,
)


def glm_rows(logistic: bool) -> Callable[[Block, VariantLabels, int], bytes]:
    """Rows of .glm.linear or .glm.logistic.hybrid: one ADD row per tested allele (A1)."""
    from tresor.stats.association_kernels import ERRCODES, UNFINISHED

    def rows(block: Block, lab: VariantLabels, digits: int) -> bytes:
        v, a = np.nonzero(block[variables.variant_glm_a1])
        err = block[variables.variant_glm_error][v, a].astype(int)
        shown = (err == 0) | (err == UNFINISHED)
        beta = block[variables.variant_glm_beta][v, a]
        effect = np.exp(beta) if logistic else beta
        values = [
            text.floats(np.where(shown, x, np.nan), digits)
            for x in (
                effect,
                block[variables.variant_glm_se][v, a],
                block[variables.variant_glm_stat][v, a],
                block[variables.variant_glm_p_value][v, a],
            )
        ]
        firth = []
        if logistic:
            firth = [text.choose(("N", "Y"), block[variables.variant_glm_firth][v])]
        return text.lines(
            [
                *lab.prefix_columns(v),
                lab.ref.take(v),
                lab.alt.take(v),
                lab.allele(v, a),
                *firth,
                text.repeat("ADD", len(v)),
                text.ints(block[variables.variant_glm_n][v]),
                *values,
                text.choose(ERRCODES, err),
            ]
        )

    return rows


# --- .vmiss ------------------------------------------------------------------------------------
VMISS_HEADER = ("#CHROM", "POS", "ID", "MISSING_CT", "OBS_CT", "F_MISS")


def vmiss_rows(n_samples: int) -> Callable[[Block, VariantLabels, int], bytes]:
    """Rows of plink2's .vmiss (with POS) for ``n_samples`` samples."""

    def rows(block: Block, lab: VariantLabels, digits: int) -> bytes:
        missing = n_samples - block[variables.variant_n_called]
        return text.lines(
            [
                *lab.prefix_columns(),
                text.ints(missing),
                text.repeat(str(n_samples), len(missing)),
                text.floats(missing / n_samples, digits),
            ]
        )

    return rows


SMISS_HEADER = ("#IID", "MISSING_CT", "OBS_CT", "F_MISS")
HET_HEADER = ("#IID", "O(HOM)", "E(HOM)", "OBS_CT", "F")
EIGENVEC_HEADER_PREFIX = ("#IID",)


def progress_bar(enabled: bool, description: str):
    """A Dask progress bar (stderr) for one local computation, or a no-op."""
    import contextlib

    if not enabled:
        return contextlib.nullcontext()
    from dask.diagnostics import ProgressBar

    print(description, file=__import__("sys").stderr)
    return ProgressBar(minimum=1.0, dt=0.5)
