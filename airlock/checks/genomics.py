"""Per-variant tables: minor allele count in every stratum, genotype counts, and observations
behind GWAS rows.

What each column holds comes from the kind registry (kinds.toml: plink2, plink 1.9, regenie,
SAIGE, fastGWA, BOLT-LMM, METAL, GWAMA, GWAS-catalog, Hail, tresor's own), or, for a per-variant
table of no registered kind, from its names as plink2, plink 1.9, bcftools and the GWAS catalog
write them, per stratum (all, cases, controls):

- allele counts (``ALT_CTS``, ``AC``, ``A1_CT``, ``C1``, ``AC_Allele2``; lists such as ``0,1``
  or Hail's ``[596,4]``) with the allele number (``OBS_CT`` in .acount/.afreq, ``AN``,
  ``ALLELE_CT``, ``NCHROBS``), or twice the people (``N``) behind the row;
- allele frequencies (``ALT_FREQS``, ``AF``, ``A1FREQ``, ``AF1``, ``Freq1``, ``eaf``) times the
  allele number (or twice the people): a frequency with N is an allele count;
- genotype counts (``HOM_REF_CT``, ``HET_A1_CT``, plink 1.9's ``GENO`` "1/20/279") and people
  (``OBS_CT`` in a GWAS, ``N``, ``NMISS``, ``n_samples``), which are counts of people.

Every non-zero allele count of a row (each allele, the reference included) must be at least
``min_minor_allele_count`` in every stratum shown; genotype counts and people at least
``min_cell_count``; a GWAS row (with BETA/OR/SE/P) needs ``N - parameters`` residual degrees of
freedom. Frequencies without any N cannot be checked: a reviewer must look.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airlock.checks.cells import Chunk, TableContext, arrow_numbers, report_cells, show, tokens
from airlock.checks.findings import Location, Verdict
from airlock.checks.kinds import Role
from airlock.checks.models import RULE_DOF, dof_message
from airlock.checks.tables import _NOT_PEOPLE, RULE_MIN_CELL

RULE_MAC = "minor-allele-count"
RULE_MAC_UNCHECKED = "minor-allele-count.unchecked"
RULE_GWAS_N = "gwas-observations"
RULE_GWAS_N_UNCHECKED = "gwas-observations.unchecked"

_CHROM = {"chrom", "chr", "chromosome", "contig", "chrom_id", "seqname", "chromosome_id"}
_POS = {"pos", "bp", "position", "base_pair_location", "genpos", "pos_b38", "pos_b37", "start"}
_VARIANT = {
    "snp", "rsid", "rs_id", "rs", "variant", "variant_id", "markername", "marker", "snpid",
    "snp_id", "varid", "var_id", "marker_id", "rsids", "rs_number", "locus", "markerid",
}  # fmt: skip
_ALLELE = {"ref", "alt", "a1", "a2", "ax", "allele1", "allele2", "effect_allele", "other_allele",
           "ea", "nea", "allele0", "alleles", "reference_allele"}  # fmt: skip
_EFFECT = {"beta", "or", "b", "effect", "z", "t_stat", "z_stat", "zscore", "log_or", "odds_ratio",
           "stat", "tstat", "zstat", "hazard_ratio"}  # fmt: skip
_SE = {"se", "log_or_se", "standard_error", "stderr", "se_beta", "sebeta"}
_P = {"p", "pval", "p_value", "pvalue", "log10p", "neg_log10_p", "mlog10p", "p_wald", "p_lrt"}

_CASE = {"case", "cases", "affected"}
_CONTROL = {"ctrl", "ctrls", "control", "controls", "unaffected"}

# quantity of a column, from its name without stratum words
_AC = {"ac", "alt_ct", "alt_cts", "alt_count", "a1_ct", "a1_count", "alt_allele_count", "ac_alt",
       "effect_allele_count", "mac", "minor_allele_count", "c_alt", "a1_cts", "ac_allele2",
       "c1", "c2"}  # fmt: skip
_AN = {"an", "allele_ct", "nchrobs", "allele_number", "allele_obs_ct", "total_allele_ct",
       "allele_cts", "n_alleles", "c_allele"}  # fmt: skip
_AF = {"af", "alt_freqs", "alt_freq", "a1_freq", "a1freq", "maf", "freq", "frq", "eaf",
       "effect_allele_freq", "effect_allele_frequency", "af_alt", "alt_af", "f",
       "a1_freqs", "af1", "freq1", "af_allele2"}  # fmt: skip
_N = {"n", "nobs", "n_obs", "nmiss", "n_samples", "sample_size", "samplesize", "n_total",
      "total_n", "num_samples", "n_sample", "ns", "nsamples", "totalsamplesize",
      "n_geno"}  # fmt: skip
_N_STRATUM = {"", "n", "ct", "count", "num", "nobs", "n_obs"}
#: short quantity names that may carry a population or cohort beside them (AC_afr, dk_AF)
_SHORT = {"ac", "an", "af", "maf", "eaf", "freq", "n", "nhomalt", "mac", "ns"}
# genotype counts -> quantity
_GENO = {
    "hom_ref_ct": "genotype_hom_y", "het_ref_alt_cts": "genotype_het",
    "two_alt_geno_cts": "genotype_hom_x", "hap_ref_ct": "genotype_hap_y",
    "hap_alt_cts": "genotype_hap_x", "hom_a1_ct": "genotype_hom_x", "het_a1_ct": "genotype_het",
    "two_ax_ct": "genotype_hom_y", "non_a1_ct": "genotype_hom_y", "hom_ref": "genotype_hom_y",
    "het": "genotype_het", "hom_alt": "genotype_hom_x", "n_hom_ref": "genotype_hom_y",
    "n_het": "genotype_het", "n_hom_alt": "genotype_hom_x", "hom_ref_count": "genotype_hom_y",
    "het_count": "genotype_het", "hom_alt_count": "genotype_hom_x", "nhomalt": "genotype_hom_x",
    "n_hom": "genotype_hom_x",
}  # fmt: skip
#: genotypes named by letters, A the first allele and B the second, in a stratum's columns
_GENO_LETTERS = {"aa": "genotype_hom_y", "ab": "genotype_het", "bb": "genotype_hom_x"}
_QUANTITIES = _AC | _AN | _AF | _N | set(_GENO) | {"obs_ct"}
_MISSING = re.compile(r"(^|_)(missing|miss|f_miss|nmiss_geno|n_miss)(_|$)")


def is_per_variant(names: list[str]) -> bool:
    """Whether the names are those of a per-variant table (variant columns)."""
    keys = {"_".join(tokens(n)) for n in names}
    if keys & _VARIANT:
        return True
    if keys & _CHROM and keys & (_POS | {"id"}):
        return True
    return "id" in keys and bool(keys & (_ALLELE | _AC | _AN | _AF))


def _classify(name: str) -> tuple[str, str]:
    """(stratum, quantity key) of a column name."""
    words = tokens(name)
    stratum = ""
    if set(words) & _CASE:
        stratum = "cases"
    elif set(words) & _CONTROL:
        stratum = "controls"
    elif len(words) >= 2 and words[-1] in ("a", "u") and words[0] in ("f", "maf", "nchrobs", "c"):
        stratum = "cases" if words[-1] == "a" else "controls"
        words = ["ac"] if words[0] == "c" else words[:-1]
    rest = "_".join(w for w in words if w not in _CASE | _CONTROL)
    if rest not in _QUANTITIES and "_" in rest and not stratum:
        # a stratum of the table's own: AC_afr, AF_dk, dk_AN, n_uk
        first, _, others = rest.partition("_")
        before, _, last = rest.rpartition("_")
        if first in _SHORT and not set(others.split("_")) & _NOT_PEOPLE:
            return others, first
        if last in _SHORT and not set(before.split("_")) & _NOT_PEOPLE:
            return before, last
    return stratum, rest


def generic_roles(names: list[str]) -> dict[int, Role]:
    """What the columns of a per-variant table of no registered kind hold, from their names."""
    keys = ["_".join(tokens(n)) for n in names]
    gwas = bool(set(keys) & _EFFECT) or bool(set(keys) & _SE and set(keys) & _P)
    roles: dict[int, Role] = {}
    obs_ct = None
    for i, name in enumerate(names):
        k = keys[i]
        if _MISSING.search(k):
            roles[i] = Role("missing")
            continue
        if k in _CHROM:
            roles[i] = Role("chromosome")
            continue
        if k in _POS:
            roles[i] = Role("position")
            continue
        if k in _VARIANT or k == "id":
            roles[i] = Role("variant")
            continue
        if k in _ALLELE:
            roles[i] = Role("allele")
            continue
        if k in _EFFECT | _SE | _P:
            roles[i] = Role("statistic")
            continue
        stratum, rest = _classify(name)
        if rest == "obs_ct" and not stratum:
            obs_ct = i
        elif rest in _AC:
            roles[i] = Role("allele_count", stratum)
        elif rest in _AN:
            roles[i] = Role("allele_number", stratum)
        elif rest in _AF:
            roles[i] = Role("allele_freq", stratum)
        elif rest in _N or (stratum and rest in _N_STRATUM):
            roles[i] = Role("people", stratum)
        elif rest in _GENO:
            roles[i] = Role(_GENO[rest], stratum)
        elif stratum and rest in _GENO_LETTERS:  # SNPTEST's cases_AA, a table's CTRL_AB
            roles[i] = Role(_GENO_LETTERS[rest], stratum)
    if obs_ct is not None:
        # plink2: OBS_CT counts alleles in .acount/.afreq, people in .glm and .vmiss
        overall = [r for r in roles.values() if not r.stratum]
        alleles = any(r.quantity in ("allele_count", "allele_freq") for r in overall)
        roles[obs_ct] = Role("people" if gwas or not alleles else "allele_number")
    return roles


def checkable(roles: dict[int, Role], names: list[str]) -> bool:
    """Whether a per-variant table carries something the rules can check: allele or genotype
    counts, frequencies, people, or effects (which need their N). P-values alone are not."""
    keys = {"_".join(tokens(n)) for n in names}
    return any(
        r.quantity.startswith(("allele_", "genotype_")) or r.quantity == "people"
        for r in roles.values()
    ) or bool(keys & (_EFFECT | _SE))


@dataclasses.dataclass
class Stratum:
    name: str  # "", "cases", "controls"
    acs: list[int] = dataclasses.field(default_factory=list)
    all_counts: list[int] = dataclasses.field(default_factory=list)
    an: int | None = None
    af: int | None = None
    n: int | None = None
    #: the number of people a column's name gives (PGC's FRQ_A_1200), when no column counts them
    n_named: int | None = None
    people: list[int] = dataclasses.field(default_factory=list)  # further counts of people
    geno: dict[str, int] = dataclasses.field(default_factory=dict)  # "hom_x", "het", ...
    geno_string: int | None = None

    @property
    def words(self) -> str:
        return f" in {self.name}" if self.name else ""

    @property
    def any(self) -> bool:
        single = (self.af, self.geno_string, self.n, self.n_named)
        return bool(self.acs or self.all_counts or self.geno or self.people) or any(
            c is not None for c in single
        )


class VariantRules:
    """Minor allele count per stratum, genotype counts and GWAS observations, per row."""

    def __init__(self, ctx: TableContext) -> None:
        self.ctx = ctx
        rec = ctx.recognition
        keys = ["_".join(tokens(n)) for n in ctx.names]
        self.gwas = bool(set(keys) & _EFFECT) or bool(set(keys) & _SE and set(keys) & _P)
        strata: dict[str, Stratum] = {}
        self.id_col = next((i for i, r in rec.roles.items() if r.quantity == "variant"), None)
        for i, role in sorted(rec.roles.items()):
            ctx.claimed.add(i)
            s = strata.setdefault(role.stratum, Stratum(role.stratum))
            if role.people_in_name is not None:
                s.n_named = role.people_in_name
            q = role.quantity
            if q == "allele_count":
                s.acs.append(i)
            elif q == "allele_counts":
                s.all_counts.append(i)
            elif q == "allele_number" and s.an is None:
                s.an = i
            elif q == "allele_freq" and s.af is None:
                s.af = i
            elif q == "people":
                if s.n is None:
                    s.n = i
                else:
                    s.people.append(i)
            elif q.startswith("genotype_") and q != "genotype_string":
                s.geno[q.removeprefix("genotype_")] = i
            elif q == "genotype_string":
                s.geno_string = i
        self.strata = [s for s in strata.values() if s.any]
        #: strata whose genotype counts add up to the people behind each row, when no column
        #: counts them: the table's own, or its cases' and controls' together
        self.genotyped: list[Stratum] = []
        if not any(s.n is not None or s.n_named is not None for s in self.strata):
            whole = [s for s in self.strata if not s.name and _genotyped(s)]
            named = [s for s in self.strata if s.name and _genotyped(s)]
            self.genotyped = whole or (named if len(named) >= 2 else [])
        # allele, genotype and people counts, for the release ledger (differencing.py)
        ctx.count_columns += [i for i, r in sorted(rec.roles.items()) if r.counted]
        self.unchecked: list[str] = []
        self.params = 2  # intercept and genotype, unless the table shows its covariates
        if self.gwas and "test" in keys:
            col = keys.index("test")
            if col < ctx.first.width and ctx.first.texts(col) is not None:
                tests = pc.unique(pc.drop_null(ctx.first.texts(col)))
                self.params = 1 + max(len(tests), 1)

    def _allele_counts(self, s: Stratum, chunk: Chunk) -> list[tuple[np.ndarray, int]]:
        """Arrays of allele counts per row, each with the column it was read from."""
        an = chunk.numbers(s.an) if s.an is not None else None
        if an is None and s.n is not None:
            an = 2 * chunk.numbers(s.n)
        if an is None and s.n_named is not None:
            an = np.full(len(chunk), 2.0 * s.n_named)
        if an is None and len(s.acs) == 1 and s.af is not None and chunk.is_numeric(s.af):
            with np.errstate(invalid="ignore", divide="ignore"):
                # the count and its frequency give the allele number (SAIGE without N)
                an = np.round(chunk.numbers(s.acs[0]) / chunk.numbers(s.af))
            an[~np.isfinite(an)] = np.nan
        out: list[tuple[np.ndarray, int]] = []
        for col in s.all_counts:
            matrix = elements(chunk, col)
            out.extend((matrix[:, j], col) for j in range(matrix.shape[1]))
        if s.acs:
            total = np.zeros(len(chunk))
            for col in s.acs:
                matrix = elements(chunk, col)
                out.extend((matrix[:, j], col) for j in range(matrix.shape[1]))
                total = total + np.nansum(matrix, axis=1)
            if an is not None and len(s.acs) == 1:
                out.append((an - total, s.acs[0]))
        elif s.af is not None and not s.all_counts:
            if an is None:
                return out
            matrix = np.round(elements(chunk, s.af) * an[:, None])
            out.extend((matrix[:, j], s.af) for j in range(matrix.shape[1]))
            out.append((an - np.nansum(matrix, axis=1), s.af))
        if not out and ("het" in s.geno or "hom_x" in s.geno):
            out = _genotype_allele_counts(s.geno, chunk)
        if not out and s.geno_string is not None:
            hom_x, het, hom_y = _geno_string(chunk, s.geno_string)
            out = [(2 * hom_x + het, s.geno_string), (2 * hom_y + het, s.geno_string)]
        return out

    def feed(self, chunk: Chunk) -> None:
        cfg, sink = self.ctx.config, self.ctx.sink
        t = cfg.min_minor_allele_count
        for s in self.strata:
            counts = self._allele_counts(s, chunk)
            stratum = s.name or "all"
            if not counts and s.af is not None and not s.acs and stratum not in self.unchecked:
                self.unchecked.append(stratum)
            if counts:
                stacked = np.vstack([c for c, _ in counts])
                with np.errstate(invalid="ignore"):
                    small = (stacked > 0) & (stacked < t)
                bad = small.any(axis=0)
                smallest = np.where(small, stacked, np.inf).min(axis=0)
                column = counts[0][1]
                report_cells(
                    sink, RULE_MAC, Verdict.BLOCK, bad, chunk, self.ctx.names[column],
                    lambda i, c=column: show(chunk.value(c, i)),
                    lambda i, s=s, m=smallest: self._mac_message(chunk, i, s, m[i]),
                )  # fmt: skip
            people = [(col, elements(chunk, col)) for col in (*s.geno.values(), *s.people)]
            if s.geno_string is not None:
                for values in _geno_string(chunk, s.geno_string):
                    people.append((s.geno_string, values[:, None]))
            for col, matrix in people:
                with np.errstate(invalid="ignore"):
                    few = ((matrix > 0) & (matrix < cfg.min_cell_count)).any(axis=1)
                report_cells(
                    sink, RULE_MIN_CELL, Verdict.BLOCK, few, chunk, self.ctx.names[col],
                    lambda i, c=col: show(chunk.value(c, i)),
                    lambda i, c=col, s=s: (
                        f"{self._variant(chunk, i)}: {show(chunk.value(c, i))} people{s.words} "
                        f"in {self.ctx.names[c]}, below the minimum of {cfg.min_cell_count} per "
                        "non-zero cell. Drop rare variants (plink2 --mac) or release allele "
                        "counts only."
                    ),
                )  # fmt: skip
            if s.n is not None:
                self._observations(chunk, s)
        if self.gwas and self.genotyped:
            self._genotyped_observations(chunk)

    def _genotyped_observations(self, chunk: Chunk) -> None:
        """A GWAS's residual degrees of freedom from the people its genotype counts add up to
        (a table of top hits with cases' and controls' AA, AB and BB)."""
        n = np.zeros(len(chunk))
        for s in self.genotyped:
            if s.geno_string is not None:
                n += np.nansum(np.vstack(_geno_string(chunk, s.geno_string)), axis=0)
            else:
                n += sum(np.nan_to_num(chunk.numbers(c)) for c in s.geno.values())
        column = next(iter(self.genotyped[0].geno.values()), self.genotyped[0].geno_string)
        self._residual_dof(chunk, n, column, n > 0)

    def _observations(self, chunk: Chunk, s: Stratum) -> None:
        cfg, sink = self.ctx.config, self.ctx.sink
        n = chunk.numbers(s.n)
        rule = RULE_GWAS_N if self.gwas else RULE_MIN_CELL
        with np.errstate(invalid="ignore"):
            few = (n > 0) & (n < cfg.min_cell_count)
        report_cells(
            sink, rule, Verdict.BLOCK, few, chunk, self.ctx.names[s.n], n,
            lambda i: (
                f"{self._variant(chunk, i)}: only {show(n[i])} people{s.words} are behind this "
                f"row, below the minimum of {cfg.min_cell_count}. Drop the row or pool groups."
            ),
        )  # fmt: skip
        if self.gwas and not s.name:
            with np.errstate(invalid="ignore"):
                self._residual_dof(chunk, n, s.n, n >= cfg.min_cell_count)

    def _residual_dof(self, chunk: Chunk, n: np.ndarray, column: int, rows: np.ndarray) -> None:
        """Of ``rows``, those whose ``n`` people leave fewer residual degrees of freedom than
        the minimum, once the intercept and the tested parameters are fitted."""
        minimum = self.ctx.config.min_residual_dof
        dof = n - self.params
        with np.errstate(invalid="ignore"):
            mask = rows & (dof < minimum)
        report_cells(
            self.ctx.sink, RULE_DOF, Verdict.BLOCK, mask, chunk, self.ctx.names[column], n,
            lambda i: f"{self._variant(chunk, i)}: " + dof_message(dof[i], minimum),
        )  # fmt: skip

    def _variant(self, chunk: Chunk, i: int) -> str:
        if self.id_col is not None and self.id_col < chunk.width:
            return f"variant {show(chunk.value(self.id_col, i))} (row {chunk.first_row + i})"
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
        note = self.ctx.recognition.kind.note if self.ctx.recognition.kind else ""
        if self.unchecked:
            sink.add(
                RULE_MAC_UNCHECKED,
                Verdict.REVIEW,
                "Allele frequencies are shown without the number of alleles or people behind "
                f"them (stratum: {', '.join(self.unchecked)}), so the minor allele count cannot "
                "be checked. Add OBS_CT/AN (or N) beside the frequencies." + (f" {note}" if note
                                                                             else ""),
            )  # fmt: skip
        for s in self.strata:
            if (
                s.n is None
                and s.n_named is not None
                and 0 < s.n_named < self.ctx.config.min_cell_count
            ):
                sink.add(
                    RULE_GWAS_N if self.gwas else RULE_MIN_CELL,
                    Verdict.BLOCK,
                    f"The column names say {s.n_named} people{s.words} are behind these results, "
                    f"below the minimum of {self.ctx.config.min_cell_count}. Pool strata or "
                    "release results of more people.",
                    Location(row=0, value=str(s.n_named)),
                )
        # the number of people behind each row: a column of them, or the column names' (of
        # all, or of cases and of controls)
        counted = any(s.n is not None or s.n_named is not None for s in self.strata if not s.name)
        counted = counted or sum(s.n_named is not None for s in self.strata if s.name) >= 2
        counted = counted or bool(self.genotyped)
        if self.gwas and not counted:
            sink.add(
                RULE_GWAS_N_UNCHECKED,
                Verdict.REVIEW,
                "These GWAS summary statistics do not say how many people are behind each "
                "variant (OBS_CT or N), so the minimum number of observations cannot be checked. "
                "Add the column (plink2 --glm writes OBS_CT by default).",
            )


def _genotyped(s: Stratum) -> bool:
    """Whether the stratum counts people of every genotype (so they add up to its people)."""
    return s.geno_string is not None or {"hom_x", "het", "hom_y"} <= set(s.geno)


def elements(chunk: Chunk, col: int) -> np.ndarray:
    """A column as a (rows, k) matrix of numbers: one column, or the items of lists written as
    ``0,1``, ``[596,4]`` or ``1/20/279`` (NaN where a row has fewer)."""
    texts = chunk.texts(col)
    if texts is None:
        return chunk.numbers(col)[:, None]
    if not pc.any(pc.match_substring_regex(texts, r"[,\[/]")).as_py():
        return chunk.numbers(col)[:, None]
    cleaned = pc.replace_substring_regex(texts, r"[\[\]\s\"]", "")
    lists = pc.split_pattern_regex(pc.fill_null(cleaned, ""), r"[,/]")
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False)
    width = int(lengths.max()) if lengths.size else 1
    values = arrow_numbers(pc.list_flatten(lists))
    matrix = np.full((len(lengths), max(width, 1)), np.nan)
    rows = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    matrix[rows, np.arange(values.size) - starts] = values
    return matrix


def _geno_string(chunk: Chunk, col: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """plink 1.9's GENO: A1A1/A1A2/A2A2 counts of people."""
    matrix = elements(chunk, col)
    if matrix.shape[1] < 3:
        nan = np.full(len(chunk), np.nan)
        return nan, nan, nan
    return matrix[:, 0], matrix[:, 1], matrix[:, 2]


def _genotype_allele_counts(geno: dict[str, int], chunk: Chunk) -> list[tuple]:
    """Allele counts from genotype counts: x = 2 hom_x + het + hap_x and y likewise. Rows of
    multi-allelic sites (plink2 .gcount lists one count per ALT, and ALT pairs in the order
    1/1, 1/2, 2/2, 1/3, ...) are counted allele by allele."""
    col = geno.get("het", geno.get("hom_x"))
    n = len(chunk)

    def get(k: str) -> np.ndarray:
        return np.nan_to_num(chunk.numbers(geno[k])) if k in geno else np.zeros(n)

    x = 2 * get("hom_x") + get("het") + get("hap_x")
    y = 2 * get("hom_y") + get("het") + get("hap_y")
    counts = [x, y]
    listed = np.zeros(n, dtype=bool)
    for k in ("het", "hom_x", "hap_x"):
        texts = chunk.texts(geno[k]) if k in geno else None
        if texts is not None:
            has = pc.fill_null(pc.match_substring(texts, ","), False)
            listed |= np.asarray(has.to_numpy(zero_copy_only=False), dtype=bool)
    for i in np.flatnonzero(listed):
        cells = {k: str(chunk.value(c, int(i))) for k, c in geno.items()
                 if k in ("het", "hom_x", "hap_x")}  # fmt: skip
        alleles = _site_allele_counts(cells, 2 * get("hom_y")[i] + get("hap_y")[i])
        while len(counts) < len(alleles):
            counts.append(np.full(n, np.nan))
        for j, a in enumerate(alleles):
            counts[j][i] = a
        for extra in counts[len(alleles) :]:
            extra[i] = np.nan
    return [(c, col) for c in counts]


def _site_allele_counts(cells: dict[str, str], ref_from_homs: float) -> list[float]:
    """[REF, ALT1, ALT2, ...] copies at one multi-allelic site from plink2 .gcount cells."""

    def listed(k: str) -> list[float]:
        text = cells.get(k, "")
        return [float(v) for v in text.split(",")] if text not in ("", "nan", "None") else []

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


def table_rules(ctx: TableContext) -> Iterator[object]:
    if ctx.per_variant:
        yield VariantRules(ctx)


#: vcftools --freq / --counts: the alleles of a site in columns of 'A:0.75' or 'A:450' cells
_VCFTOOLS_ALLELES = ("{allele:count}", "{allele:freq}")


def vcftools_column(names: list[str]) -> int | None:
    """The first allele column of a vcftools --freq or --counts table, or None."""
    keys = [str(n).strip().lower() for n in names]
    col = next((i for i, k in enumerate(keys) if k in _VCFTOOLS_ALLELES), None)
    return col if col is not None and "n_chr" in keys[:col] else None


def vcftools_chunk(names: list[str], chunk: Chunk, col: int) -> Chunk:
    """vcftools' 'A:450 G:150' (or frequencies times N_CHR) as one list column '450,150' of
    every allele's count, REF first, which the ``allele_counts`` role reads."""
    n_chr = chunk.numbers([str(n).strip().lower() for n in names].index("n_chr"))
    freq = str(names[col]).strip().lower() == "{allele:freq}"
    values = []
    for j in range(col, chunk.width):
        texts = chunk.table.column(j).combine_chunks().cast(pa.string())
        found = pc.extract_regex(texts, r":(?P<v>[-+0-9.eE]+)\s*$").field("v")
        numbers = arrow_numbers(found)
        values.append(np.round(numbers * n_chr) if freq else numbers)
    grid = np.column_stack(values) if values else np.empty((len(chunk), 0))
    cells = [",".join(f"{v:.0f}" for v in row if not np.isnan(v)) or None for row in grid]
    arrays = [chunk.table.column(j) for j in range(col)] + [pa.array(cells, type=pa.string())]
    table = pa.Table.from_arrays(arrays, names=[str(j) for j in range(col + 1)])
    return Chunk(table, chunk.first_row, chunk.raw, cache=chunk.cache)
