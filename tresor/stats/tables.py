"""plink2-format output tables (.afreq, .acount, .hardy, .glm.*, .smiss, .vmiss, .het, .eigen*).

Column names, order and number format are plink2's (6 significant digits, ``NA`` for missing),
so a researcher can ``diff`` our files against plink2's. Two deliberate differences, stated in
docs/stats.md: ``#CHROM`` is the contig name as stored (plink2 prints ``21`` for ``chr21``
unless given ``--output-chr chrM``), and POS is included after ``#CHROM`` (plink2's
``cols=+pos``).

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
BLOCK_VARIANTS = 65_536


#: plink2 prints 6 significant digits; tests ask for more to compare unrounded values.
DIGITS = 6


def fmt(values: np.ndarray | Sequence[float], digits: int = DIGITS) -> list[str]:
    """plink2's number format: ``digits`` significant digits (%g), ``NA`` for NaN."""
    spec = f".{digits}g"
    return ["NA" if math.isnan(x) else format(x, spec) for x in np.asarray(values, float).tolist()]


def fmt_int(values: np.ndarray) -> list[str]:
    return [str(x) for x in np.asarray(values).tolist()]


def _strings(values) -> np.ndarray:
    """Object array of Python str from any string dtype (NumPy StringDType included)."""
    return np.asarray(np.asarray(values).tolist(), dtype=object)


class VariantLabels:
    """CHROM, POS, ID and alleles of a computed block, as Python strings."""

    def __init__(self, block: xr.Dataset, contig_names: Sequence[str]):
        self.contig = np.asarray(contig_names, dtype=object)[block["variant_contig"].values]
        self.pos = fmt_int(block["variant_position"].values)
        if "variant_id" in block:
            ids = _strings(block["variant_id"].values)
            if "variant_id_mask" in block:
                ids = np.where(block["variant_id_mask"].values, ".", ids)
        else:
            ids = np.full(block.sizes["variants"], ".")
        self.id = ids.tolist()
        self.alleles = [
            [a for a in row if a != ""] for row in _strings(block["variant_allele"].values).tolist()
        ]
        self.ref = [a[0] for a in self.alleles]
        self.alt = [",".join(a[1:]) or "." for a in self.alleles]


LABEL_VARIABLES = ("variant_contig", "variant_position", "variant_allele")


def label_variables(ds: xr.Dataset) -> list[str]:
    """The variables VariantLabels reads that this dataset has."""
    return [*LABEL_VARIABLES, *(v for v in ("variant_id", "variant_id_mask") if v in ds)]


def iter_blocks(
    ds: xr.Dataset, names: Sequence[str], *, progress: bool = True, desc: str = "variants"
) -> Iterator[xr.Dataset]:
    """Computed blocks of ``ds[names]`` along variants, aligned to the genotype chunks."""
    from tqdm.auto import tqdm

    n = ds.sizes["variants"]
    chunk = n
    if "call_genotype" in ds and ds["call_genotype"].chunks:
        chunk = ds["call_genotype"].chunks[0][0]
    step = max(chunk, (BLOCK_VARIANTS // max(chunk, 1)) * chunk)
    sub = ds[list(names)]
    with tqdm(total=n, desc=desc, unit=" variants", disable=not progress, leave=False) as bar:
        for start in range(0, n, step):
            block = sub.isel(variants=slice(start, start + step)).compute()
            yield block
            bar.update(block.sizes["variants"])


def write_variant_table(
    path: str | os.PathLike,
    ds: xr.Dataset,
    names: Sequence[str],
    header: Sequence[str],
    rows: Callable[[xr.Dataset, VariantLabels, int], list[str]],
    *,
    keep: str | None = None,
    progress: bool = True,
    digits: int = DIGITS,
) -> int:
    """Stream a per-variant table to ``path``; returns the number of data lines written.

    ``rows(block, labels, digits)`` turns a computed block into lines; ``keep`` names a boolean
    variable that selects the variants to write. The file appears complete or not at all.
    """
    path = Path(path)
    contig_names = [str(c) for c in ds["contig_id"].values]
    needed = [*label_variables(ds), *names, *([keep] if keep else [])]
    tmp = path.with_name(path.name + ".part")
    written = 0
    try:
        with open(tmp, "w") as f:
            f.write("\t".join(header) + "\n")
            for block in iter_blocks(ds, needed, progress=progress, desc=path.name):
                if keep:
                    block = block.isel(variants=np.flatnonzero(block[keep].values))
                    if block.sizes["variants"] == 0:
                        continue
                lines = rows(block, VariantLabels(block, contig_names), digits)
                if lines:
                    f.write("\n".join(lines) + "\n")
                    written += len(lines)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return written


# --- .afreq / .acount ----------------------------------------------------------------------
AFREQ_HEADER = ("#CHROM", "POS", "ID", "REF", "ALT", "ALT_FREQS", "OBS_CT")
ACOUNT_HEADER = ("#CHROM", "POS", "ID", "REF", "ALT", "ALT_CTS", "OBS_CT")
AFREQ_VARIABLES = (variables.variant_allele_count, variables.variant_allele_total)


def afreq_rows(counts: bool = False) -> Callable[[xr.Dataset, VariantLabels, int], list[str]]:
    """Rows of .afreq (``counts=False``: ALT frequencies) or .acount (ALT counts)."""

    def rows(block: xr.Dataset, lab: VariantLabels, digits: int) -> list[str]:
        ac = block[variables.variant_allele_count].values
        total = block[variables.variant_allele_total].values
        out = []
        for i, alleles in enumerate(lab.alleles):
            k = len(alleles)
            if counts:
                values = ",".join(str(x) for x in ac[i, 1:k].tolist()) if k > 1 else "0"
            elif total[i] == 0:
                values = ",".join(["NA"] * max(k - 1, 1))
            else:
                values = ",".join(fmt(ac[i, 1:k] / total[i], digits)) if k > 1 else "0"
            out.append(
                f"{lab.contig[i]}\t{lab.pos[i]}\t{lab.id[i]}\t{lab.ref[i]}\t{lab.alt[i]}\t"
                f"{values}\t{total[i]}"
            )
        return out

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
)


def hardy_rows(block: xr.Dataset, lab: VariantLabels, digits: int) -> list[str]:
    """One line per biallelic site (A1 = REF) and one per allele of a multi-allelic site."""
    hom = block[variables.variant_allele_hom_count].values
    het = block[variables.variant_allele_het_count].values
    p = block[variables.variant_hwe_p_value].values
    out = []
    for i, alleles in enumerate(lab.alleles):
        k = len(alleles)
        n = int(2 * hom[i].sum() + het[i].sum()) // 2  # diploid calls
        for a in range(1 if k <= 2 else k):
            ax = ",".join(alleles[:a] + alleles[a + 1 :]) or "."
            two_ax = n - hom[i, a] - het[i, a]
            if n:
                freq = (2 * hom[i, a] + het[i, a]) / (2 * n)
                observed, expected = het[i, a] / n, 2 * freq * (1 - freq)
            else:
                observed = expected = math.nan
            o, e, pv = fmt([observed, expected, p[i, a]], digits)
            out.append(
                f"{lab.contig[i]}\t{lab.pos[i]}\t{lab.id[i]}\t{alleles[a]}\t{ax}\t"
                f"{hom[i, a]}\t{het[i, a]}\t{two_ax}\t{o}\t{e}\t{pv}"
            )
    return out


# --- sample tables ---------------------------------------------------------------------------
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
        tested = block[variables.variant_glm_a1].values
        n = block[variables.variant_glm_n].values
        beta = block[variables.variant_glm_beta].values
        se = block[variables.variant_glm_se].values
        stat = block[variables.variant_glm_stat].values
        p = block[variables.variant_glm_p_value].values
        err = block[variables.variant_glm_error].values
        firth = block[variables.variant_glm_firth].values if logistic else None
        out = []
        for i, alleles in enumerate(lab.alleles):
            prefix = f"{lab.contig[i]}\t{lab.pos[i]}\t{lab.id[i]}\t{lab.ref[i]}\t{lab.alt[i]}\t"
            for a in np.flatnonzero(tested[i]).tolist():
                e = int(err[i, a])
                if e in (0, UNFINISHED):
                    effect = math.exp(beta[i, a]) if logistic else beta[i, a]
                    values = "\t".join(fmt([effect, se[i, a], stat[i, a], p[i, a]], digits))
                else:
                    values = "NA\tNA\tNA\tNA"
                middle = (
                    f"{alleles[a]}\t{'Y' if firth[i] else 'N'}\t" if logistic else f"{alleles[a]}\t"
                )
                out.append(f"{prefix}{middle}ADD\t{n[i]}\t{values}\t{ERRCODES[e]}")
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
            f"{lab.contig[i]}\t{lab.pos[i]}\t{lab.id[i]}\t{missing[i]}\t{n_samples}\t{f_miss[i]}"
            for i in range(len(missing))
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
