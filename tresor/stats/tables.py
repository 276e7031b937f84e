"""plink2-format output tables (.afreq, .acount, .hardy, .glm.*, .smiss, .vmiss, .het, .eigen*).

Column names, order and number format are plink2's (6 significant digits, ``NA`` for missing),
so a researcher can ``diff`` our files against plink2's. Three deliberate differences, stated in
docs/stats.md: ``#CHROM`` is the contig name as stored (plink2 prints ``21`` for ``chr21``
unless given ``--output-chr chrM``), POS is included after ``#CHROM`` (plink2's
``cols=+pos``), and a variant without an ID in the VCF gets ``CHROM:POS:REF:ALT`` (plink2's
``--set-missing-var-ids @:#:$r:$a``), so that lists of variants (``.prune.in``) name them.

Per-variant tables are written block by block: each block of variants is computed, formatted
and appended, so memory does not grow with the number of variants, and a progress bar shows
how far it is.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from tresor.stats import variables

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


def _strings(values) -> np.ndarray:
    """Object array of Python str from any string dtype (NumPy StringDType included; its
    2-D ``tolist`` is very slow, ``astype(object)`` is not)."""
    return np.asarray(values).astype(object)


class _AlleleRows:
    """``rows[i]``: the alleles of variant i as a list (REF first), built on demand."""

    def __init__(self, alleles: np.ndarray, n_alleles: np.ndarray):
        self._alleles, self._n = alleles, n_alleles

    def __getitem__(self, i: int) -> list[str]:
        return list(self._alleles[i, : self._n[i]])

    def __len__(self) -> int:
        return len(self._n)


class VariantLabels:
    """CHROM, POS, ID and alleles of a computed block, as Python strings."""

    def __init__(self, block: xr.Dataset, contig_names: Sequence[str]):
        self.contig = np.asarray(contig_names, dtype=object)[block["variant_contig"].values]
        self.pos = fmt_int(block["variant_position"].values)
        alleles = _strings(block["variant_allele"].values)
        self.n_alleles = (alleles != "").sum(axis=1)
        self.alleles = _AlleleRows(alleles, self.n_alleles)
        self.ref = alleles[:, 0].tolist()
        # biallelic sites (nearly all) straight from the ALT column; the rest joined
        self.alt = (alleles[:, 1] if alleles.shape[1] > 1 else alleles[:, 0]).tolist()
        for i in np.flatnonzero(self.n_alleles != 2).tolist():
            self.alt[i] = ",".join(self.alleles[i][1:]) or "."
        self.id = self._ids(block)

    def _ids(self, block: xr.Dataset) -> list[str]:
        """Variant IDs as in the VCF; ``CHROM:POS:REF:ALT`` where the VCF has none ('.')."""
        n = block.sizes["variants"]
        if "variant_id" in block:
            ids = _strings(block["variant_id"].values)
            absent = (ids == ".") | (ids == "")
            if "variant_id_mask" in block:
                absent |= block["variant_id_mask"].values
        else:
            ids, absent = np.full(n, ".", dtype=object), np.ones(n, dtype=bool)
        out = ids.tolist()
        for i in np.flatnonzero(absent).tolist():
            out[i] = f"{self.contig[i]}:{self.pos[i]}:{self.ref[i]}:{self.alt[i]}"
        return out

    def prefix(self, rows: np.ndarray | None = None) -> list[str]:
        """'CHROM<TAB>POS<TAB>ID' for each (selected) variant."""
        idx = range(len(self.id)) if rows is None else rows.tolist()
        return [f"{self.contig[i]}\t{self.pos[i]}\t{self.id[i]}" for i in idx]


LABEL_VARIABLES = ("variant_contig", "variant_position", "variant_allele")


def label_variables(ds: xr.Dataset) -> list[str]:
    """The variables VariantLabels reads that this dataset has."""
    return [*LABEL_VARIABLES, *(v for v in ("variant_id", "variant_id_mask") if v in ds)]


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


def write_variant_table(
    path: str | os.PathLike,
    ds: xr.Dataset,
    names: Sequence[str],
    header: Sequence[str],
    rows: Callable[[xr.Dataset, VariantLabels, int], list[str]],
    *,
    keep: str | None = None,
    notes: Callable[[xr.Dataset, VariantLabels], list[str]] | None = None,
    progress: bool = True,
    digits: int = DIGITS,
) -> int:
    """Stream a per-variant table to ``path``; returns the number of data lines written.

    ``rows(block, labels, digits)`` turns a computed block into lines; ``keep`` names a boolean
    variable that selects the variants to write. ``notes(block, labels)`` gives lines
    (``CHROM, POS, ID, NOTE``) for variants that need a word of explanation (calls left out of
    a test), written to :func:`notes_path` when there is at least one. Files appear complete
    or not at all.
    """
    path = Path(path)
    contig_names = [str(c) for c in ds["contig_id"].values]
    needed = [*label_variables(ds), *names, *([keep] if keep else [])]
    tmp = path.with_name(path.name + ".part")
    side = notes_path(path)
    side_tmp = side.with_name(side.name + ".part")
    written = noted = 0
    try:
        with open(tmp, "w") as f, open(side_tmp, "w") as g:
            f.write("\t".join(header) + "\n")
            g.write("\t".join(NOTES_HEADER) + "\n")
            for block in iter_blocks(ds, needed, progress=progress, desc=path.name):
                if keep and not block[keep].values.all():
                    block = block.isel(variants=np.flatnonzero(block[keep].values))
                    if block.sizes["variants"] == 0:
                        continue
                labels = VariantLabels(block, contig_names)
                lines = rows(block, labels, digits)
                if lines:
                    f.write("\n".join(lines) + "\n")
                    written += len(lines)
                if notes is not None and (extra := notes(block, labels)):
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


# --- .afreq / .acount ----------------------------------------------------------------------
AFREQ_HEADER = ("#CHROM", "POS", "ID", "REF", "ALT", "ALT_FREQS", "OBS_CT")
ACOUNT_HEADER = ("#CHROM", "POS", "ID", "REF", "ALT", "ALT_CTS", "OBS_CT")
AFREQ_VARIABLES = (variables.variant_allele_count, variables.variant_allele_total)


def _joined(values: np.ndarray, n_alleles: np.ndarray, digits: int | None) -> list[str]:
    """Per variant, its ALT columns (1 .. n_alleles-1) formatted and comma-joined.

    ``digits=None`` formats integers. Biallelic rows take the fast path.
    """

    def text(x: np.ndarray) -> list[str]:
        return fmt_int(x) if digits is None else fmt(x, digits)

    if values.shape[1] == 0:
        return []
    out = text(values[:, 0])
    for i in np.flatnonzero(n_alleles != 2).tolist():
        k = max(int(n_alleles[i]) - 1, 0)
        out[i] = ",".join(text(values[i, :k])) if k else "0"
    return out


def afreq_rows(counts: bool = False) -> Callable[[xr.Dataset, VariantLabels, int], list[str]]:
    """Rows of .afreq (``counts=False``: ALT frequencies) or .acount (ALT counts)."""

    def rows(block: xr.Dataset, lab: VariantLabels, digits: int) -> list[str]:
        ac = block[variables.variant_allele_count].values
        total = block[variables.variant_allele_total].values
        if counts:
            values = _joined(ac[:, 1:], lab.n_alleles, None)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                freq = ac[:, 1:] / np.where(total > 0, total, np.nan)[:, None]
            values = _joined(freq, lab.n_alleles, digits)
        return [
            f"{pre}\t{ref}\t{alt}\t{v}\t{t}"
            for pre, ref, alt, v, t in zip(
                lab.prefix(), lab.ref, lab.alt, values, fmt_int(total), strict=True
            )
        ]

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


def hardy_rows(block: xr.Dataset, lab: VariantLabels, digits: int) -> list[str]:
    """One line per biallelic site (A1 = REF) and one per allele of a multi-allelic site."""
    hom = block[variables.variant_allele_hom_count].values
    het = block[variables.variant_allele_het_count].values
    p = block[variables.variant_hwe_p_value].values
    n = (2 * hom.sum(axis=1) + het.sum(axis=1)) // 2  # diploid calls
    # (variant, allele) pairs in file order: allele 0 only for biallelic sites
    lines_per_variant = np.where(lab.n_alleles <= 2, 1, lab.n_alleles)
    v = np.repeat(np.arange(len(n)), lines_per_variant)
    a = np.arange(len(v)) - np.repeat(
        np.cumsum(lines_per_variant) - lines_per_variant, lines_per_variant
    )
    hom_a, het_a, n_v = hom[v, a], het[v, a], n[v]
    with np.errstate(invalid="ignore", divide="ignore"):
        nv = np.where(n_v > 0, n_v, np.nan)
        freq = (2 * hom_a + het_a) / (2 * nv)
        observed, expected = het_a / nv, 2 * freq * (1 - freq)
    o, e, pv = fmt(observed, digits), fmt(expected, digits), fmt(p[v, a], digits)
    prefix = lab.prefix(v)
    out = []
    multi = (lab.n_alleles > 2).tolist()
    for j, (vi, ai) in enumerate(zip(v.tolist(), a.tolist(), strict=True)):
        if multi[vi]:
            alleles = lab.alleles[vi]
            a1, ax = alleles[ai], ",".join(alleles[:ai] + alleles[ai + 1 :])
        else:  # one line, A1 = REF
            a1, ax = lab.ref[vi], lab.alt[vi]
        out.append(
            f"{prefix[j]}\t{a1}\t{ax}\t{hom_a[j]}\t{het_a[j]}\t"
            f"{n_v[j] - hom_a[j] - het_a[j]}\t{o[j]}\t{e[j]}\t{pv[j]}"
        )
    return out


def hardy_notes(block: xr.Dataset, lab: VariantLabels) -> list[str]:
    """A note for each variant whose haploid or polyploid calls the test left out."""
    haploid = block[variables.variant_n_haploid].values
    polyploid = block[variables.variant_n_polyploid].values
    untested = np.isnan(block[variables.variant_hwe_p_value].values[:, 0])
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


def glm_rows(logistic: bool) -> Callable[[xr.Dataset, VariantLabels, int], list[str]]:
    """Rows of .glm.linear or .glm.logistic.hybrid: one ADD row per tested allele (A1)."""
    from tresor.stats.association_kernels import ERRCODES, UNFINISHED

    def rows(block: xr.Dataset, lab: VariantLabels, digits: int) -> list[str]:
        v, a = np.nonzero(block[variables.variant_glm_a1].values)
        err = block[variables.variant_glm_error].values[v, a].astype(int)
        shown = (err == 0) | (err == UNFINISHED)
        beta = block[variables.variant_glm_beta].values[v, a]
        effect = np.exp(beta) if logistic else beta
        columns = [
            np.where(shown, x, np.nan)
            for x in (
                effect,
                block[variables.variant_glm_se].values[v, a],
                block[variables.variant_glm_stat].values[v, a],
                block[variables.variant_glm_p_value].values[v, a],
            )
        ]
        values = ["\t".join(t) for t in zip(*(fmt(c, digits) for c in columns), strict=True)]
        n = fmt_int(block[variables.variant_glm_n].values[v])
        prefix = lab.prefix(v)
        if logistic:
            firth = np.where(block[variables.variant_glm_firth].values[v], "Y", "N").tolist()
        out = []
        for j, (vi, ai) in enumerate(zip(v.tolist(), a.tolist(), strict=True)):
            middle = f"{lab.alleles[vi][ai]}\t{firth[j]}" if logistic else lab.alleles[vi][ai]
            out.append(
                f"{prefix[j]}\t{lab.ref[vi]}\t{lab.alt[vi]}\t{middle}\tADD\t{n[j]}\t"
                f"{values[j]}\t{ERRCODES[err[j]]}"
            )
        return out

    return rows


# --- .vmiss ------------------------------------------------------------------------------------
VMISS_HEADER = ("#CHROM", "POS", "ID", "MISSING_CT", "OBS_CT", "F_MISS")


def vmiss_rows(n_samples: int) -> Callable[[xr.Dataset, VariantLabels, int], list[str]]:
    """Rows of plink2's .vmiss (with POS) for ``n_samples`` samples."""

    def rows(block: xr.Dataset, lab: VariantLabels, digits: int) -> list[str]:
        missing = n_samples - block[variables.variant_n_called].values
        f_miss = fmt(missing / n_samples, digits)
        return [
            f"{pre}\t{m}\t{n_samples}\t{f}"
            for pre, m, f in zip(lab.prefix(), fmt_int(missing), f_miss, strict=True)
        ]

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
