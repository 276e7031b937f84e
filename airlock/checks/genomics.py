"""Per-variant tables: minor allele count in every stratum, and observations behind GWAS rows.

A per-variant table has variant columns (``CHROM`` and ``POS``, or a variant ``ID``/``SNP``/
``rsid``). Its allele columns are read by their plink2, plink 1.9, bcftools and GWAS-catalog
names, per stratum (all, cases, controls):

- allele count (``ALT_CTS``, ``AC``, ``A1_CT``, ``A1_CASE_CT``) with the allele number (``OBS_CT``
  in .acount/.afreq, ``AN``, ``ALLELE_CT``, ``CASE_ALLELE_CT``, ``NCHROBS``);
- allele frequency (``ALT_FREQS``, ``AF``, ``A1_FREQ``, ``MAF``, ``F_A``) times the allele number
  (or twice the sample count) counts as an allele count;
- genotype counts (``HOM_REF_CT``, ``HET_REF_ALT_CTS``, ``TWO_ALT_GENO_CTS``, ``HOM_A1_CT``, ...).

Every non-zero allele count of a variant row (the minor one, and each allele of a multi-allelic
site) must be at least ``min_minor_allele_count``, in every stratum shown. Genotype counts are
counts of people and also obey the minimum cell count. A GWAS row (with BETA/OR/SE/P) needs at
least ``min_cell_count`` observations (``OBS_CT``, ``N``), cases and controls, and residual
degrees of freedom of at least ``min_residual_dof``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import numpy as np
import pandas as pd

from airlock.checks.cells import Chunk, TableContext, numbers, report_cells, show, tokens
from airlock.checks.findings import Verdict
from airlock.checks.tables import RULE_DOF, RULE_MIN_CELL, dof_message

RULE_MAC = "minor-allele-count"
RULE_MAC_UNCHECKED = "minor-allele-count.unchecked"
RULE_GWAS_N = "gwas-observations"
RULE_GWAS_N_UNCHECKED = "gwas-observations.unchecked"

_CHROM = {"chrom", "chr", "chromosome", "contig", "chrom_id", "seqname", "chromosome_id"}
_POS = {"pos", "bp", "position", "base_pair_location", "genpos", "pos_b38", "pos_b37", "start"}
_VARIANT = {
    "snp", "rsid", "rs_id", "rs", "variant", "variant_id", "markername", "marker", "snpid",
    "snp_id", "varid", "var_id", "marker_id", "rsids",
}  # fmt: skip
_ALLELE = {"ref", "alt", "a1", "a2", "ax", "allele1", "allele2", "effect_allele", "other_allele",
           "ea", "nea", "allele0"}  # fmt: skip
_EFFECT = {"beta", "or", "b", "effect", "z", "t_stat", "z_stat", "zscore", "log_or", "odds_ratio",
           "stat", "tstat", "zstat"}  # fmt: skip
_SE = {"se", "log_or_se", "standard_error", "stderr", "se_beta", "sebeta"}
_P = {"p", "pval", "p_value", "pvalue", "log10p", "neg_log10_p", "mlog10p", "p_wald", "p_lrt"}

_CASE = {"case", "cases", "affected"}
_CONTROL = {"ctrl", "ctrls", "control", "controls", "unaffected"}

# quantity of a column, from its name without stratum words
_AC = {"ac", "alt_ct", "alt_cts", "alt_count", "a1_ct", "a1_count", "alt_allele_count", "ac_alt",
       "effect_allele_count", "mac", "minor_allele_count", "c_alt", "a1_cts"}  # fmt: skip
_AN = {"an", "allele_ct", "nchrobs", "allele_number", "allele_obs_ct", "total_allele_ct",
       "allele_cts", "n_alleles", "c_allele"}  # fmt: skip
_AF = {"af", "alt_freqs", "alt_freq", "a1_freq", "a1freq", "maf", "freq", "frq", "eaf",
       "effect_allele_freq", "effect_allele_frequency", "af_alt", "alt_af", "f",
       "a1_freqs"}  # fmt: skip
_N = {"n", "nobs", "n_obs", "nmiss", "n_samples", "sample_size", "samplesize", "n_total",
      "total_n", "num_samples", "n_sample", "ns", "nsamples"}  # fmt: skip
_N_STRATUM = {"", "n", "ct", "count", "num", "nobs", "n_obs"}
# genotype counts: (kind, allele); allele "x" is the one counted in "hom_x", "y" the other
_GENO = {
    "hom_ref_ct": ("hom", "y"), "het_ref_alt_cts": ("het", ""), "two_alt_geno_cts": ("hom", "x"),
    "hap_ref_ct": ("hap", "y"), "hap_alt_cts": ("hap", "x"), "hom_a1_ct": ("hom", "x"),
    "het_a1_ct": ("het", ""), "two_ax_ct": ("hom", "y"), "non_a1_ct": ("hom", "y"),
    "hom_ref": ("hom", "y"), "het": ("het", ""), "hom_alt": ("hom", "x"),
    "n_hom_ref": ("hom", "y"), "n_het": ("het", ""), "n_hom_alt": ("hom", "x"),
    "hom_ref_count": ("hom", "y"), "het_count": ("het", ""), "hom_alt_count": ("hom", "x"),
}  # fmt: skip
_MISSING = re.compile(r"(^|_)(missing|miss|f_miss|nmiss_geno)(_|$)")


def is_per_variant(normed: list[str]) -> bool:
    keys = {"_".join(tokens(n)) for n in normed}
    if keys & _VARIANT:
        return True
    if keys & _CHROM and keys & (_POS | {"id"}):
        return True
    return "id" in keys and bool(keys & (_ALLELE | _AC | _AN | _AF))


@dataclasses.dataclass
class Stratum:
    name: str  # "", "cases", "controls"
    ac: int | None = None
    an: int | None = None
    af: int | None = None
    n: int | None = None
    geno: dict[str, int] = dataclasses.field(default_factory=dict)  # "hom_x", "het", ...

    @property
    def words(self) -> str:
        return f" in {self.name}" if self.name else ""


def _classify(name: str) -> tuple[str, str] | None:
    """(stratum, quantity key) of a column name, or None when it is not an allele column."""
    words = tokens(name)
    stratum = ""
    if set(words) & _CASE:
        stratum = "cases"
    elif set(words) & _CONTROL:
        stratum = "controls"
    elif len(words) >= 2 and words[-1] in ("a", "u") and words[0] in ("f", "maf", "nchrobs"):
        stratum = "cases" if words[-1] == "a" else "controls"
        words = words[:-1]
    rest = "_".join(w for w in words if w not in _CASE | _CONTROL)
    return stratum, rest


class VariantRules:
    """Minor allele count per stratum, genotype counts and GWAS observations, per row."""

    def __init__(self, ctx: TableContext) -> None:
        self.ctx = ctx
        keys = ["_".join(tokens(n)) for n in ctx.names]
        self.gwas = bool(set(keys) & _EFFECT) or bool(set(keys) & _SE and set(keys) & _P)
        strata: dict[str, Stratum] = {}
        obs_ct: int | None = None
        self.id_col = next((i for i, k in enumerate(keys) if k in _VARIANT | {"id"}), None)
        for i, name in enumerate(ctx.names):
            if _MISSING.search(keys[i]):
                ctx.claimed.add(i)  # counts of missing calls are not disclosive
                continue
            stratum_name, rest = _classify(name)
            s = strata.setdefault(stratum_name, Stratum(stratum_name))
            if rest == "obs_ct" and not stratum_name:
                obs_ct = i
            elif rest in _AC and s.ac is None:
                s.ac = i
            elif rest in _AN and s.an is None:
                s.an = i
            elif rest in _AF and s.af is None:
                s.af = i
            elif (rest in _N or (stratum_name and rest in _N_STRATUM)) and s.n is None:
                s.n = i
            elif rest in _GENO:
                kind, allele = _GENO[rest]
                s.geno[f"{kind}_{allele}" if allele else kind] = i
            else:
                continue
            ctx.claimed.add(i)
        if obs_ct is not None:
            # plink2: OBS_CT counts alleles in .afreq/.acount, people in .glm and .vmiss
            overall = strata.setdefault("", Stratum(""))
            if self.gwas or (overall.ac is None and overall.af is None):
                overall.n = overall.n if overall.n is not None else obs_ct
            else:
                overall.an = overall.an if overall.an is not None else obs_ct
        self.strata = [s for s in strata.values() if s.ac is not None or s.af is not None
                       or s.geno or s.n is not None]  # fmt: skip
        # allele, genotype and observation counts, for the release ledger (differencing.py)
        ctx.count_columns += sorted(
            {c for s in self.strata for c in (s.ac, s.an, s.n, *s.geno.values()) if c is not None}
        )
        self.unchecked: list[str] = []
        self.params = 2  # intercept and genotype, unless the table shows its covariates
        if self.gwas and "test" in keys:
            tests = ctx.first[keys.index("test")].dropna().unique()
            self.params = 1 + max(len(tests), 1)

    def _allele_counts(self, s: Stratum, frame: pd.DataFrame) -> list[tuple[np.ndarray, int]]:
        """Arrays of allele counts per row, each with the column it was read from."""
        an = numbers(frame[s.an]) if s.an is not None else None
        if s.an is None and s.n is not None:
            an = 2 * numbers(frame[s.n])
        if s.ac is not None or s.af is not None:
            col = s.ac if s.ac is not None else s.af
            series = frame[col]
            if series.dtype == object and series.astype(str).str.contains(",", regex=False).any():
                return _multiallelic(series, an, s.ac is None, col)
            values = numbers(series)
            if s.ac is None:
                if an is None:
                    return []
                values = np.round(values * an)
            out = [(values, col)]
            if an is not None:
                out.append((an - values, col))
            return out
        if "het" in s.geno or "hom_x" in s.geno:
            return _genotype_allele_counts(s.geno, frame)
        return []

    def feed(self, chunk: Chunk) -> None:
        cfg, sink = self.ctx.config, self.ctx.sink
        frame = chunk.frame
        t = cfg.min_minor_allele_count
        for s in self.strata:
            counts = self._allele_counts(s, frame)
            if not counts and (s.af is not None):
                if s.name not in self.unchecked:
                    self.unchecked.append(s.name or "all")
                continue
            if counts:
                stacked = np.vstack([c for c, _ in counts])
                with np.errstate(invalid="ignore"):
                    small = (stacked > 0) & (stacked < t)
                bad = small.any(axis=0)
                smallest = np.where(small, stacked, np.inf).min(axis=0)
                column = counts[0][1]
                report_cells(
                    sink, RULE_MAC, Verdict.BLOCK, bad, chunk, self.ctx.names[column],
                    frame[column],
                    lambda i, s=s, m=smallest: self._mac_message(chunk, i, s, m[i]),
                )  # fmt: skip
            for key, col in s.geno.items():
                values = numbers(frame[col])
                report_cells(
                    sink, RULE_MIN_CELL, Verdict.BLOCK,
                    (values > 0) & (values < cfg.min_cell_count), chunk, self.ctx.names[col],
                    values,
                    lambda i, v=values, s=s, key=key: (
                        f"{self._variant(chunk, i)}: {show(v[i])} people{s.words} have this "
                        f"genotype, below the minimum of {cfg.min_cell_count} per non-zero "
                        "cell. Drop rare variants (plink2 --mac) or release allele counts only."
                    ),
                )  # fmt: skip
            if s.n is not None:
                self._observations(chunk, s)

    def _observations(self, chunk: Chunk, s: Stratum) -> None:
        cfg, sink = self.ctx.config, self.ctx.sink
        n = numbers(chunk.frame[s.n])
        rule = RULE_GWAS_N if self.gwas else RULE_MIN_CELL
        report_cells(
            sink, rule, Verdict.BLOCK, (n > 0) & (n < cfg.min_cell_count), chunk,
            self.ctx.names[s.n], n,
            lambda i: (
                f"{self._variant(chunk, i)}: only {show(n[i])} people{s.words} are behind this "
                f"row, below the minimum of {cfg.min_cell_count}. Drop the row or pool groups."
            ),
        )  # fmt: skip
        if self.gwas and not s.name:
            dof = n - self.params
            with np.errstate(invalid="ignore"):
                mask = (n >= cfg.min_cell_count) & (dof < cfg.min_residual_dof)
            report_cells(
                sink, RULE_DOF, Verdict.BLOCK, mask, chunk, self.ctx.names[s.n], n,
                lambda i: f"{self._variant(chunk, i)}: "
                + dof_message(dof[i], cfg.min_residual_dof),
            )  # fmt: skip

    def _variant(self, chunk: Chunk, i: int) -> str:
        if self.id_col is not None:
            return f"variant {show(chunk.frame[self.id_col].iloc[i])} (row {chunk.first_row + i})"
        return f"row {chunk.first_row + i}"

    def _mac_message(self, chunk: Chunk, i: int, s: Stratum, smallest: float) -> str:
        t = self.ctx.config.min_minor_allele_count
        return (
            f"{self._variant(chunk, i)}: an allele is seen only {show(smallest)} times{s.words}, "
            f"below the minimum minor allele count of {t}. Drop variants with MAC < {t} in any "
            f"stratum (plink2 --mac {t}) or pool them, then check again."
        )

    def finish(self, rows: int) -> None:
        sink = self.ctx.sink
        if self.unchecked:
            sink.add(
                RULE_MAC_UNCHECKED,
                Verdict.REVIEW,
                "Allele frequencies are shown without the number of alleles or people behind "
                f"them (stratum: {', '.join(self.unchecked)}), so the minor allele count cannot "
                "be checked. Add OBS_CT/AN (or N) beside the frequencies.",
            )
        if self.gwas and not any(s.n is not None for s in self.strata if not s.name):
            sink.add(
                RULE_GWAS_N_UNCHECKED,
                Verdict.REVIEW,
                "These GWAS summary statistics do not say how many people are behind each "
                "variant (OBS_CT or N), so the minimum number of observations cannot be checked. "
                "Add the column (plink2 --glm writes OBS_CT by default).",
            )


def _genotype_allele_counts(geno: dict[str, int], frame: pd.DataFrame) -> list[tuple]:
    """Allele counts from genotype counts: x = 2 hom_x + het + hap_x and y likewise. Rows of
    multi-allelic sites (plink2 .gcount lists one count per ALT, and ALT pairs in the order
    1/1, 1/2, 2/2, 1/3, ...) are counted allele by allele."""
    col = geno.get("het", geno.get("hom_x"))

    def get(key: str) -> np.ndarray:
        return np.nan_to_num(numbers(frame[geno[key]])) if key in geno else np.zeros(len(frame))

    x = 2 * get("hom_x") + get("het") + get("hap_x")
    y = 2 * get("hom_y") + get("het") + get("hap_y")
    counts = [x, y]
    listed = np.zeros(len(frame), dtype=bool)
    for key in ("het", "hom_x", "hap_x"):
        if key in geno and frame[geno[key]].dtype == object:
            listed |= frame[geno[key]].astype(str).str.contains(",", regex=False).to_numpy()
    for i in np.flatnonzero(listed):
        alleles = _site_allele_counts(
            {k: str(frame[c].iloc[i]) for k, c in geno.items() if k in ("het", "hom_x", "hap_x")},
            2 * get("hom_y")[i] + get("hap_y")[i],
        )
        while len(counts) < len(alleles):
            counts.append(np.full(len(frame), np.nan))
        for j, a in enumerate(alleles):
            counts[j][i] = a
        for extra in counts[len(alleles) :]:
            extra[i] = np.nan
    return [(c, col) for c in counts]


def _site_allele_counts(cells: dict[str, str], ref_from_homs: float) -> list[float]:
    """[REF, ALT1, ALT2, ...] copies at one multi-allelic site from plink2 .gcount cells."""

    def listed(key: str) -> list[float]:
        text = cells.get(key, "")
        return [float(v) for v in text.split(",")] if text not in ("", "nan") else []

    het, pairs, hap = listed("het"), listed("hom_x"), listed("hap_x")
    n_alt = max(len(het), len(hap), 1)
    alts = [0.0] * n_alt
    for k, c in enumerate(het):
        alts[k] += c
    for k, c in enumerate(hap):
        alts[k] += c
    index = 0
    for j in range(n_alt):
        for i in range(j + 1):
            if index < len(pairs):
                alts[i] += pairs[index]
                alts[j] += pairs[index]
            index += 1
    return [ref_from_homs + sum(het), *alts]


def _multiallelic(
    series: pd.Series, an: np.ndarray | None, frequencies: bool, col: int
) -> list[tuple[np.ndarray, int]]:
    """Per-allele counts of a column like ``0,1`` (plink2 multi-allelic sites), padded with
    NaN, plus the reference allele count when the allele number is known."""
    parts = series.astype(str).str.split(",", expand=True)
    values = parts.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if frequencies:
        if an is None:
            return []
        values = np.round(values * an[:, None])
    out = [(values[:, j], col) for j in range(values.shape[1])]
    if an is not None:
        out.append((an - np.nansum(values, axis=1), col))
    return out


def table_rules(ctx: TableContext) -> Iterator[object]:
    if ctx.per_variant:
        yield VariantRules(ctx)
