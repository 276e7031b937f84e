"""Counts of people in tables: small counts, rounding, ``n (%)`` cells, counts in column names,
counts derived from percentages; the vocabulary of column names the table rules share. (Small
tables whole: airlock.checks.margins; dominance: airlock.checks.dominance; models:
airlock.checks.models.)

Which columns hold counts of people is decided over the whole table, never from its first rows:

- a column the kind registry declares as people, or one named like a count (``n``, ``count``,
  ``n_cases``, ``obs_ct``, ``group_size``, ``cases`` ...), whose values are whole numbers (at
  least 90% of them: a mean row at the bottom does not switch the column off);
- in a table of no known kind, any other numeric column of whole, non-negative numbers (a
  crosstab's category columns), unless its name says it is something else (a position, a year,
  an age, an identifier, a statistic, a percentage; or counts of studies, loci, variants, reads
  ...), it numbers the rows (pandas' index: 0, 1, 2 ...), or most numeric columns of the table
  are not counts;
- rows labelled as counts (``N``, ``n``, ``count``, ``Number of participants``): a Table 1
  with groups as columns, or pandas' ``describe()``;
- ``n (%)`` cells (``3 (42.9)``, ``3/7 (42.9%)``): the first number is a count;
- a percentage or proportion with its denominator in the same row (``smokers_pct`` with
  ``N``, ``carrier_frequency`` with ``n_tested``): their product is a count.

The definitions follow ACRO so that its verdicts and ours agree on the same table:
- threshold: a cell fails when ``0 < count < min_cell_count`` (ACRO also fails zero cells, which
  tresor leaves alone: the brief's rule is about non-zero cells);
- p%: a cell fails when ``(total - largest - second) / largest < p`` (when ``largest`` is 0:
  when ``total - largest - second < p``, as ACRO computes it);
- N-k: a cell fails when its N largest contributions are at least ``k`` of its total;
- degrees of freedom: a model fails when its residual degrees of freedom are below the minimum.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airlock.checks.cells import (
    Chunk,
    TableContext,
    arrow_numbers,
    is_count_like,
    key,
    report_cells,
    show,
    tokens,
)
from airlock.checks.findings import Location, Verdict

RULE_MIN_CELL = "min-cell-count"
RULE_DERIVED = "min-cell-count.derived"
RULE_ROUNDING = "rounding"
RULE_HEADER = "min-cell-count.header"
RULE_PROSE = "min-cell-count.prose"

# -- names ----------------------------------------------------------------------------------

_COUNT_FIRST = {"n", "num", "nb", "count", "number", "no"}
_COUNT_LAST = {"n", "count", "counts", "ct", "cnt", "cts", "num", "obs", "nobs", "size"}
_COUNT_WHOLE = {
    "freq", "frequency", "cases", "controls", "individuals", "participants", "patients",
    "people", "persons", "subjects", "carriers", "nobs", "samples", "total", "denominator",
    "numerator", "events", "deaths", "respondents", "members", "users", "births", "women",
    "men", "children", "adults", "tested", "exposed", "unexposed", "affected", "unaffected",
    "observations", "support",
}  # fmt: skip
#: a column numbering replicates: simulations, permutations, bootstrap draws
REPLICATE_NAMES = {
    "rep", "replicate", "replication", "sim", "simulation", "permutation", "perm",
    "bootstrap", "boot", "iteration", "iter", "draw", "resample", "trial",
}  # fmt: skip
#: never counts of people, whatever their values
_NOT_COUNT = {
    "id", "pos", "position", "bp", "start", "end", "stop", "chrom", "chr", "chromosome", "year",
    "chain", "draw",  # an MCMC sampler's
    "age", "date", "rank", "index", "idx", "order", "cluster", "group", "code", "level", "grade",
    "stage", "decile", "quintile", "quartile", "percentile", "bin", "week", "month", "day",
    "time", "version", "seed", "row", "line", "miss", "missing", "nmiss", "component", "dim",
    "k", "x", "y", "iter", "iteration", "epoch", "fold", "batch", "score", "category", "column",
    "unnamed", "label", "key", "pc", "at", "timeline", "edge", "edges", "breaks", "cutoff",
    "threshold",
} | REPLICATE_NAMES  # fmt: skip
#: counts of things other than people
_NOT_PEOPLE = {
    "study", "studies", "locus", "loci", "snp", "snps", "variant", "variants", "gene", "genes",
    "marker", "markers", "signal", "signals", "hit", "hits", "region", "regions", "site",
    "sites", "test", "tests", "pcs", "components", "clusters", "iterations", "permutations",
    "chromosomes", "read", "reads", "base", "bases", "kb", "mb", "window", "windows", "bins",
    "cohorts", "batches", "files", "features", "datasets", "nodes", "threads", "effects",
    "allele", "alleles", "copies", "probes", "peaks", "exons", "transcripts", "pathways",
    "terms", "lines", "rows", "columns", "bytes", "cpus", "cores", "seconds", "minutes",
    "hours", "days", "weeks", "months", "years", "traits", "phenotypes", "models", "runs",
    "significant", "sig", "associations", "independent", "lead", "novel", "clumps",
    "indel", "indels", "transitions", "transversions", "records", "mnps", "singletons",
    "genotypes", "calls", "snv", "snvs",
}  # fmt: skip
#: a table's rows named by one of these are jobs, files, chromosomes: its plain counts
#: (``count``, ``n``) count them, not people (snakemake's "job  count" table in its log)
_THING_ROWS = {
    "job", "jobs", "rule", "rules", "task", "tasks", "process", "processes", "step", "steps",
    "file", "files", "chromosome", "chrom", "chr", "contig", "worker", "workers", "thread",
    "threads", "node", "nodes", "executor", "stage", "stages", "jobname", "jobid",  # Slurm's
    # variant classes (VEP's and SnpEff's summaries count variants by consequence)
    "consequence", "consequences", "csq", "biotype",
}  # fmt: skip
#: rows that are sets of genes (an enrichment analysis): their plain whole numbers ('overlap',
#: 'hits') count genes, but a column named as a count ('n') may still count people
_GENE_SET_ROWS = {"pathway", "pathways", "term", "terms", "geneset", "genesets"}
#: count names that say people whatever the rows are (``cases``, ``n_patients``)
_PEOPLE_WORDS = _COUNT_WHOLE - {"freq", "frequency", "total", "denominator", "numerator"}
_PROPORTION = {
    "pct", "percent", "percentage", "prop", "proportion", "frac", "fraction", "rate", "ratio",
    "prevalence", "share", "freq", "frequency", "af", "maf", "eaf",
}  # fmt: skip
_MAGNITUDE = {"sum", "total", "mean", "average", "avg", "median", "sd", "std", "var", "variance"}
_STATISTIC = _MAGNITUDE - {"total"} | {
    "min", "max", "minimum", "maximum", "beta", "se", "p", "pval", "or", "coef", "estimate",
    "t", "z", "stat", "chisq", "lower", "upper", "ci", "q1", "q3", "iqr", "mad", "skew",
    "kurtosis", "hr", "rr", "lci", "uci", "l95", "u95", "value", "log10p", "weight", "bmi",
    "height", "ldl", "hdl", "sbp", "dbp", "dose", "oddsratio", "riskratio", "rateratio",
    "hazardratio", "pvalue", "qvalue", "fdr", "padj",
    # rare-variant tests' p-values (SKAT, SKAT-O, burden, ACAT-V, STAAR-O, SMMAT)
    "skat", "skato", "burden", "acat", "acato", "staar", "smmat",
}  # fmt: skip
_N_PERCENT = r"^\s*(\d+)\s*(?:/\s*(\d+)\s*)?[\(\[]\s*\d+(?:[.,]\d+)?\s*%?\s*[\)\]]\s*$"
#: a count written in a text cell: 'Smokers (n = 3)', 'cases, N=250' (RE2, for Arrow)
_N_IN_CELL = (
    r"(?i)(?:\bn|number of (?:events|cases|patients|people|subjects))\s*=\s*"
    r"(?P<n>\d{1,3}(?:,\d{3})+|\d+)\b"  # 'N = 1,200' is 1,200, not 1
)
#: a count with a footnote mark ('3*', '3 †'), a count after a share ('2.5% (3)'), a count
#: of a total ('3/120'), a count in words ('three'); RE2, for Arrow
_COUNT_MARKED = r"^\s*(?P<n>\d+)\s*[*†‡§¶]+\s*$"
_PERCENT_COUNT = r"^\s*\d+(?:[.,]\d+)?\s*%\s*[\(\[]\s*(?P<n>\d+)\s*[\)\]]\s*$"
_COUNT_OF = r"^\s*(?P<n>\d+)\s*/\s*\d+\s*$"
_COUNT_WORD = r"(?i)^\s*(?P<n>one|two|three|four|five|six|seven|eight|nine)\s*$"
_SPREAD_LABEL = {"mean", "median", "sd", "iqr", "range", "average", "std"}
#: a count of people written in words: 'n = 7', 'N=250', 'number of events= 3'
_N_IN_TEXT = re.compile(
    r"(?i)(?:\bn|number of (?:events|cases|patients|people|subjects|successes))\s*[=:]\s*"
    r"(\d{1,3}(?:,\d{3})+|\d+)\b"
)


def count_name(name: str) -> bool:
    """Whether a column name says it holds counts of people (``n``, ``n_cases``, ``obs_ct``,
    ``group_size``)."""
    words = tokens(name)
    if not words:
        return False
    found = set(words)
    if found & _NOT_PEOPLE or found & (_PROPORTION - {"freq", "frequency"}) or found & _STATISTIC:
        return False
    if _number_of(words):
        return True  # 'Count of sample_id' (an Excel pivot table's), 'number of people'
    if "freq" in found or "frequency" in found:
        return len(words) == 1
    if words[-1] in _COUNT_LAST:
        return not (found & {"id", "pos", "position", "bp", "chrom", "chr", "window", "bin",
                             "block", "effect", "file", "batch"})  # fmt: skip
    if found & _NOT_COUNT:
        return False
    return (
        words[0] in _COUNT_FIRST
        or "_".join(words) in _COUNT_WHOLE
        or bool(re.fullmatch(r"n(cases?|controls?|ctrls?|samples?|obs)", words[0]))
    )


_NAME_SUFFIX = {"id", "no", "nr", "code", "label", "number", "name", "index", "idx", "num"}
#: variables whose values are coded categories ('genotype' 0/1/2, 'sex' 1/2, 'case' 0/1): such
#: a column of codes 0 to 9 before a column of counts is the row's key, not a count
_CATEGORY = {
    "sex", "gender", "genotype", "gt", "case", "status", "phenotype", "pheno", "smoker",
    "smoking", "treatment", "arm", "exposure", "outcome", "affection", "diagnosis",
    "carrier", "cluster", "stratum", "strata",
}  # fmt: skip
#: codes are whole numbers from 0 or 1 up, at most this many
_MOST_CODES = 10


def _names_a(words: list[str], vocab: set[str]) -> bool:
    """Whether a name is a word of ``vocab`` ('year', 'age_group', 'cluster_id'), as opposed
    to a category label that starts with one ('group a', 'age 40-49')."""
    return words[-1] in vocab or (words[0] in vocab and set(words[1:]) <= _NAME_SUFFIX)


def counts_things(ctx: TableContext) -> bool:
    """Whether the rows are things other than people (the label column is named ``job``,
    ``rule``, ``file`` ...), so that the table's plain counts count them."""
    return _rows_are(ctx, _THING_ROWS)


#: a label column named as one of these names rows that are not people
_THING_LABELS = {
    "gene", "genes", "symbol", "pathway", "pathways", "term", "terms", "geneset", "feature",
    "features", "probe", "probeset", "cpg", "region", "regions", "chrom", "chr", "chromosome",
    "contig", "locus", "loci", "snp", "rsid", "variant", "marker", "transcript", "protein",
    "metabolite", "trait", "phenotype", "outcome", "exposure", "tissue", "cell_type",
    "description", "disease", "endpoint", "phecode", "icd", "icd10",
}  # fmt: skip


def rows_are_things(ctx: TableContext) -> bool:
    """Whether the table's label column is named for things other than people (genes,
    pathways, regions, variants, traits), so that as many rows as a dataset has people are a
    coincidence, not one row per person."""
    return _rows_are(ctx, _THING_LABELS | _NOT_PEOPLE | _THING_ROWS)


def _rows_are(ctx: TableContext, words: set[str]) -> bool:
    """Whether the table's label column is named as one of ``words``."""
    label = label_column(ctx)
    return label is not None and _names_a(tokens(ctx.names[label]) or [""], words)


def names_another_quantity(name: str) -> bool:
    """A name that says the column is not a count of people, whatever its values: a position,
    year, age, identifier, share, or a count of something else."""
    words = tokens(name)
    if not words:
        return False
    return (
        bool(set(words) & _PROPORTION)
        or "%" in str(name)
        or _names_a(words, _NOT_COUNT)
        or _names_a(words, _NOT_PEOPLE)
        or _names_a(words, _THING_ROWS)
        or any(re.fullmatch(r"pc\d+", w) for w in words)
        or _number_of(words) in _NOT_PEOPLE
        or (words[0][:1] == "n" and words[0][1:] in _NOT_PEOPLE)  # nsnp, nvariants, ngenes
        or words[0] in ("param", "params")  # a model's settings: optuna's params_max_depth
    )


def category_name(name: str) -> bool:
    """A name that says the column holds a category's codes ('genotype', 'sex', 'case')."""
    words = tokens(name)
    return bool(words) and _names_a(words, _CATEGORY)


def _number_of(words: list[str]) -> str:
    """What 'number of X ...' counts (bcftools stats: '[5]number of transitions (1st ALT)')."""
    for i, w in enumerate(words[:-2]):
        if w in ("number", "no", "count", "n") and words[i + 1] == "of":
            return words[i + 2]
    return ""


def statistic_name(name: str) -> bool:
    return bool(set(tokens(name)) & _STATISTIC)


def excluded_from_counts(name: str) -> bool:
    """A name that says the column is not a count of people (a statistic, or another
    quantity)."""
    return names_another_quantity(name) or statistic_name(name)


def numeric_field_name(name: str) -> bool:
    """A name that says the column holds positions, counts or statistics (numbers that only
    happen to equal a numeric sample ID), not identifiers."""
    words = set(tokens(name))
    return count_name(name) or bool(
        words & ({"pos", "position", "bp", "start", "end", "stop", "chrom", "chr", "year",
                  "age"} | _STATISTIC | _PROPORTION | _NOT_PEOPLE)
    )  # fmt: skip


def unnamed_column(name: str) -> bool:
    """A column written without a name (pandas' index): '', 'Unnamed: 0', 'column 1'."""
    return bool(re.fullmatch(r"(column_\d+|unnamed_\d+|index|)", key(name)))


def proportion_name(name: str) -> bool:
    words = set(tokens(name))
    if words & _INTERVAL:
        return False  # 'lower 95% CI': a bound of a confidence interval, not a share
    if words & _SETTING:
        return False
    return bool(words & _PROPORTION) or "%" in str(name)


_INTERVAL = {"ci", "lci", "uci", "cl", "confidence", "interval", "l95", "u95"}
#: a model's settings: a learning rate or a dropout rate is no share of people
_SETTING = {"learning", "dropout", "params"}


def percent_name(name: str) -> bool:
    words = set(tokens(name))
    return bool(words & {"pct", "percent", "percentage"}) or "%" in str(name)


@functools.lru_cache(maxsize=4096)  # row labels repeat (a log's record type on every line)
def count_label(label: str) -> bool:
    """A row label that says the row holds counts of people (``N``, ``Number of people``)."""
    text = str(label).strip()
    if re.fullmatch(r"(?i)(n|count|counts|no\.?|total\s+n|n\s*\(%\)|number)", text):
        return True
    return count_name(text) and not _SPREAD_LABEL & set(tokens(text))


def table_rules(ctx: TableContext) -> Iterator[object]:
    yield CountRules(ctx)


def check_numeric_names(ctx: TableContext) -> None:
    """A first row read as the header may be data (a table written without a header): a column
    name that is a small count, over a column of counts, needs a reviewer's look."""
    t = ctx.config.min_cell_count
    for i, name in enumerate(ctx.names):
        try:
            value = float(name)
        except ValueError:
            continue
        if (
            0 < value < t
            and value.is_integer()
            and i < ctx.first.width
            and is_count_like(ctx.first.numbers(i))
        ):
            ctx.sink.add(
                RULE_HEADER,
                Verdict.REVIEW,
                f"Column name {name} is a number below {t}. If the first row is data rather "
                "than a header, it was not checked as a count: add a header row. If it is a "
                "category label, explain it to the reviewers.",
                Location(row=0, column=name, value=name),
            )


# -- counts of people ------------------------------------------------------------------------


@dataclasses.dataclass
class _Column:
    named: bool
    category: bool = False  # named as a coded category ('genotype', 'sex')
    distinct: set[float] = dataclasses.field(default_factory=set)  # up to _MOST_CODES + 1
    strict: bool = False  # counts only when every value is a whole number
    rounded: bool = True  # released rounded to the rounding base (counts of people)
    present: int = 0
    whole: int = 0
    negative: int = 0
    small: int = 0
    small_findings: list[tuple[Location, str]] = dataclasses.field(default_factory=list)
    unrounded: int = 0
    first_unrounded: Location | None = None
    index: bool = True
    next_index: float | None = None
    index_from: float | None = None


class CountRules:
    """Small counts and rounding in count columns (decided over the whole table), ``n (%)``
    cells and counts derived from percentages with their denominators."""

    def __init__(self, ctx: TableContext) -> None:
        self.ctx = ctx
        rec = ctx.recognition
        per_variant = bool(rec and rec.per_variant)
        # a registered tool's table says which columns count people; the rest never do
        registered = bool(rec and rec.kind and not rec.kind.generic)
        # a table of statistics (a model's, or two columns named so) has no counts by content
        statistics = bool(rec and rec.layout == "model") or _statistics_columns(ctx) >= 2
        self.columns: dict[int, _Column] = {}
        things = not registered and counts_things(ctx)
        gene_sets = not registered and _rows_are(ctx, _GENE_SET_ROWS)
        for i, name in enumerate(ctx.names):
            if i in ctx.claimed or (things and not set(tokens(name)) & _PEOPLE_WORDS):
                continue
            if gene_sets and not count_name(name):
                continue
            role = rec.roles.get(i) if rec else None
            if role is not None:
                if role.counted and not per_variant:
                    # alleles are not rounded to a base (a count of people is)
                    self.columns[i] = _Column(named=True, rounded=role.quantity == "people")
                continue
            if count_name(name):
                self.columns[i] = _Column(named=True)
            elif not per_variant and not registered and not names_another_quantity(name):
                if statistics and statistic_name(name):
                    continue
                if ctx.first.is_numeric(i) or _mostly_numbers(ctx.first, i):
                    # a statistic's name (p, t, mean) over whole numbers only is not believed
                    category = category_name(name)
                    self.columns[i] = _Column(False, category, strict=statistic_name(name))
        self._counts_in_names()
        ctx.count_candidates += sorted(self.columns)
        self.derived = [] if per_variant else _derived_pairs(ctx)
        self.label_col = label_column(ctx)
        self.n_percent: dict[int, int] = {}  # column -> cells parsed as n (%)

    def _counts_in_names(self) -> None:
        """Counts written into column names: 'cases (n=7)', 'Female % (N = 250)'."""
        t = self.ctx.config.min_cell_count
        for name in self.ctx.names:
            for m in _N_IN_TEXT.finditer(str(name)):
                n = int(m.group(1).replace(",", ""))
                if 0 < n < t:
                    self.ctx.row_counts = True
                    self.ctx.sink.add(
                        RULE_MIN_CELL,
                        Verdict.BLOCK,
                        f"Column name {name} says {n} people, below the minimum of {t} per "
                        "group. Merge the group with another, then check again.",
                        Location(row=0, column=name, value=str(n)),
                    )
                elif n:
                    self.ctx.row_counts = True

    def feed(self, chunk: Chunk) -> None:
        t = self.ctx.config.min_cell_count
        base = self.ctx.config.rounding_base
        cap = self.ctx.config.max_findings_per_rule
        for col, c in self.columns.items():
            if col >= chunk.width:
                continue
            values = chunk.numbers(col)
            present = ~np.isnan(values)
            whole = present & (np.floor(values) == values)
            c.present += int(np.count_nonzero(present))
            c.whole += int(np.count_nonzero(whole))
            c.negative += int(np.count_nonzero(values < 0))
            if c.category and len(c.distinct) <= _MOST_CODES:
                c.distinct.update(np.unique(values[present])[: _MOST_CODES + 1].tolist())
            if c.index:
                if c.index_from is None and present.any():
                    c.index_from = float(values[present][0])
                c.index, c.next_index = _index_like(values[present], c.next_index)
            with np.errstate(invalid="ignore"):
                small = whole & (values > 0) & (values < t)
                unrounded = _not_multiples(values, whole & (values > 0), base) if base > 1 else None
            hits = np.flatnonzero(small)
            c.small += int(hits.size)
            for i in hits[: max(0, cap - len(c.small_findings))].tolist():
                location = Location(chunk.first_row + i, self.ctx.names[col], show(values[i]))
                c.small_findings.append((location, self._small_message(chunk, i, col, values[i])))
            if unrounded is not None:
                u = np.flatnonzero(unrounded)
                c.unrounded += int(u.size)
                if u.size and c.first_unrounded is None:
                    i = int(u[0])
                    c.first_unrounded = Location(chunk.first_row + i, self.ctx.names[col],
                                                 show(values[i]))  # fmt: skip
        self._n_percent(chunk)
        self._n_in_cells(chunk)
        self._counts_as_text(chunk)
        self._derived(chunk)

    def _small_message(self, chunk: Chunk, i: int, col: int, value: float) -> str:
        t = self.ctx.config.min_cell_count
        return (
            f"{self.ctx.label(chunk, i)}, {self.ctx.names[col]}: {show(value)} people is "
            f"below the minimum of {t} per non-zero cell. Suppress or merge small cells "
            "(combine categories), then check again."
        )

    def _n_percent(self, chunk: Chunk) -> None:
        """``n (%)`` cells: the n is a count of people."""
        t = self.ctx.config.min_cell_count
        for col in range(chunk.width):
            texts = chunk.texts(col)
            if texts is None or col in self.ctx.claimed:
                continue
            if chunk.raw and b"(" not in chunk.raw and b"[" not in chunk.raw:
                return
            matched = pc.match_substring_regex(texts, _N_PERCENT)
            if not pc.any(matched).as_py():
                continue
            parts = pc.extract_regex(pc.if_else(matched, texts, pa.scalar(None, texts.type)),
                                     r"^\s*(?P<n>\d+)\s*(?:/\s*(?P<d>\d+)\s*)?[\(\[]")  # fmt: skip
            n = arrow_numbers(parts.field("n"))
            d = arrow_numbers(parts.field("d"))
            labels = chunk.texts(self.label_col) if self.label_col is not None else None
            if labels is not None and self.label_col != col:
                spread = pc.match_substring_regex(
                    pc.utf8_lower(labels), r"\b(mean|median|sd|iqr|range|average|std)\b"
                )
                skip = spread.to_numpy(zero_copy_only=False)
                skip = np.where(np.equal(skip, None), False, skip).astype(bool)
            else:
                skip = np.zeros(len(chunk), dtype=bool)
            self.n_percent[col] = self.n_percent.get(col, 0) + int(pc.sum(matched).as_py() or 0)
            for values in (n, d):
                with np.errstate(invalid="ignore"):
                    mask = (values > 0) & (values < t) & ~skip
                self._small_cells(chunk, col, texts, values, mask, "(an n (%) cell)")

    def _small_cells(self, chunk: Chunk, col: int, texts: pa.Array, values: np.ndarray,
                     mask: np.ndarray, what: str) -> None:  # fmt: skip
        """Blocks the text cells under ``mask`` whose count of people, ``values``, is small."""
        t = self.ctx.config.min_cell_count
        report_cells(
            self.ctx.sink, RULE_MIN_CELL, Verdict.BLOCK, mask, chunk,
            self.ctx.names[col], lambda i: show(texts[i].as_py()),
            lambda i: (
                f"{self.ctx.label(chunk, i)}, {self.ctx.names[col]}: {show(values[i])} people "
                f"{what} is below the minimum of {t} per non-zero cell. Suppress or merge small "
                "cells, then check again."
            ),
        )  # fmt: skip

    def _n_in_cells(self, chunk: Chunk) -> None:
        """Counts written into text cells: 'Smokers (n = 3)', as in column names."""
        if chunk.raw and b"=" not in chunk.raw:
            return
        t = self.ctx.config.min_cell_count
        for col in range(chunk.width):
            texts = chunk.texts(col)
            if texts is None or col in self.ctx.claimed:
                continue
            matched = pc.match_substring_regex(texts, _N_IN_CELL)
            if not pc.any(matched).as_py():
                continue
            found = pc.extract_regex(pc.if_else(matched, texts, pa.scalar(None, texts.type)),
                                     _N_IN_CELL)  # fmt: skip
            n = arrow_numbers(pc.replace_substring(found.field("n"), ",", ""))
            with np.errstate(invalid="ignore"):
                mask = (n > 0) & (n < t)
            self.ctx.row_counts = True
            self._small_cells(chunk, col, texts, n, mask, "(said in the cell)")

    def _counts_as_text(self, chunk: Chunk) -> None:
        """Counts a text cell holds in other ways: with a footnote mark ('3*'), after a
        percentage ('2.5% (3)'), and in a column that says it counts people, as a fraction
        ('3/120') or a word ('three')."""
        raw = chunk.raw
        marks = None  # whether the bytes hold a mark, a '%' or a '/' (looked for once, if asked)
        for col in range(chunk.width):
            texts = chunk.texts(col)
            if texts is None or col in self.ctx.claimed:
                continue
            # a count word among whole numbers ('three' in a column of counts) is one too
            counted = count_name(self.ctx.names[col]) or _mostly_numbers(chunk, col)
            if marks is None and not counted:
                # single bytes (memchr): the first byte of '†' '‡' is \xe2, of '§' '¶' \xc2;
                # a two-byte pattern took 10 ms per 8 MiB block, all five together 1 ms
                marks = raw is None or any(c in raw for c in (b"*", b"\xe2", b"\xc2", b"%", b"/"))
            patterns = [(_COUNT_MARKED, "(a marked cell)"), (_PERCENT_COUNT, "(after a share)")]
            if counted:
                patterns += [(_COUNT_OF, "(a fraction)"), (_COUNT_WORD, "(in words)")]
            elif not marks:
                continue
            for pattern, what in patterns:
                matched = pc.match_substring_regex(texts, pattern)
                if not pc.any(matched).as_py():
                    continue
                found = pc.extract_regex(pc.if_else(matched, texts, pa.scalar(None, texts.type)),
                                         pattern).field("n").to_pylist()  # fmt: skip
                n = np.array([float(NUMBER_WORDS.get(v.lower(), v)) if v else np.nan
                              for v in found])  # fmt: skip
                with np.errstate(invalid="ignore"):
                    mask = (n > 0) & (n < self.ctx.config.min_cell_count)
                self._small_cells(chunk, col, texts, n, mask, what)

    def _derived(self, chunk: Chunk) -> None:
        """A percentage or proportion times its denominator is a count."""
        t = self.ctx.config.min_cell_count
        for share_col, n_col, percent in self.derived:
            if max(share_col, n_col) >= chunk.width:
                continue
            share = chunk.numbers(share_col)
            n = chunk.numbers(n_col)
            scale = np.full(len(share), 100.0) if percent else np.where(share > 1, 100.0, 1.0)
            with np.errstate(invalid="ignore"):
                count = np.round(share / scale * n)
                mask = (share > 0) & (share <= scale) & (n > 0) & (count > 0) & (count < t)
            report_cells(
                self.ctx.sink, RULE_DERIVED, Verdict.BLOCK, mask, chunk,
                self.ctx.names[share_col], share,
                lambda i, c=count, s=share, nn=n, sc=share_col, ncol=n_col: (
                    f"{self.ctx.label(chunk, i)}: {self.ctx.names[sc]} {show(s[i])} of "
                    f"{self.ctx.names[ncol]} {show(nn[i])} is about {show(c[i])} people, below "
                    f"the minimum of {t}. A share and its denominator give the count: suppress "
                    "the share or merge groups."
                ),
            )  # fmt: skip

    def finish(self, rows: int) -> None:
        ctx = self.ctx
        counts = self._decide()
        ctx.people_counts = counts
        if self.n_percent:
            ctx.row_counts = True
        sink = ctx.sink
        for col in counts:
            c = self.columns[col]
            for location, message in c.small_findings:
                sink.add(RULE_MIN_CELL, Verdict.BLOCK, message, location)
            sink.more(RULE_MIN_CELL, Verdict.BLOCK, c.small - len(c.small_findings))
        if ctx.config.rounding_on:
            base = ctx.config.rounding_base
            for col in counts:
                c = self.columns[col]
                if c.first_unrounded is None or not c.rounded:
                    continue
                n = c.unrounded
                sink.add(
                    RULE_ROUNDING,
                    Verdict.REVIEW,
                    f"{n:,} count{'s' if n != 1 else ''} in column {ctx.names[col]} "
                    f"{'are' if n != 1 else 'is'} not a multiple of {base} (the first in row "
                    f"{c.first_unrounded.row}). Round released counts to the nearest {base} "
                    "(e.g. acro.ACRO(mitigation='round')), or explain to the reviewers why exact "
                    "counts are needed.",
                    c.first_unrounded,
                )

    def _decide(self) -> list[int]:
        def counted(c: _Column) -> bool:
            return c.present > 0 and c.whole >= 0.9 * c.present and c.negative == 0

        def numbering(c: _Column) -> bool:
            """0, 1, 2 ... or 1, 2, 3 ... over 20 rows or more: the rows' numbers (optuna's
            trial 'number'), not counts of people."""
            return c.index and c.index_from in (0.0, 1.0) and c.present >= 20

        named = [i for i, c in self.columns.items()
                 if c.named and (counted(c) or c.present == 0) and not numbering(c)]  # fmt: skip

        def index(i: int) -> bool:
            """pandas' index (0, 1, 2 ...) or R's row names (1, 2, 3 ...), written first and
            without a name."""
            c = self.columns[i]
            if i != 0 or not c.index or not unnamed_column(self.ctx.names[i]):
                return False
            return c.index_from == 0 or c.present >= 2  # R's row names: 1, 2 ...

        def codes(i: int) -> bool:
            """Codes of a category: 0/1, 1/2, 0/1/2 ..., the row's first label or repeated
            (a crosstab's); 'case' beside 'control' counts."""
            c = self.columns[i]
            values = sorted(c.distinct)
            return (
                c.category
                and 2 <= len(values) <= _MOST_CODES
                and (
                    i == 0 or (i == 1 and 0 in self.columns and index(0)) or c.present > len(values)
                )
                and values[0] in (0, 1)
                and values == list(range(int(values[0]), int(values[0]) + len(values)))
                and not (set(tokens(self.ctx.names[i])) & {"case", "cases"} and controls)
            )

        controls = any({"control", "controls"} & set(tokens(n)) for n in self.ctx.names)

        unnamed = [i for i, c in self.columns.items() if not c.named and c.present > 0]
        content = [
            i for i in unnamed if counted(self.columns[i]) and not index(i)
            and (not self.columns[i].strict or self.columns[i].whole == self.columns[i].present)
        ]  # fmt: skip
        # codes of a category ('genotype' 0/1/2, 'sex' 1/2) before a column of counts are
        # the row's key, not counts
        others = named + [i for i in content if not codes(i)]
        content = [i for i in content if not (codes(i) and any(j > i for j in others))]
        numeric = [i for i in unnamed if not index(i) and not self.columns[i].strict]
        if content and len(content) >= 0.5 * len(numeric):
            return sorted(named + content)
        return named


def _not_multiples(values: np.ndarray, mask: np.ndarray, base: int) -> np.ndarray:
    """``mask`` where the whole number is not a multiple of ``base``: the quotient is whole
    exactly when it is below 2**53 (np.mod, several times slower, for the larger ones)."""
    with np.errstate(invalid="ignore"):
        q = values / base
        found = mask & (q != np.floor(q))
        large = np.flatnonzero(mask & (values >= 2.0**53))
        found[large] = np.mod(values[large], base) != 0
    return found


def label_column(ctx: TableContext) -> int | None:
    """The first text column: what names a row in messages."""
    first = ctx.first
    return next((i for i in range(first.width) if first.texts(i) is not None), None)


def _statistics_columns(ctx: TableContext) -> int:
    """Columns named as statistics that hold a number that is not whole: a label column
    named 'p', or whole numbers under 'p' and 'se', do not make a table one of statistics."""
    found = 0
    for i, name in enumerate(ctx.names):
        if statistic_name(name) and i < ctx.first.width:
            values = ctx.first.numbers(i)
            values = values[np.isfinite(values)]  # text cells are NaN
            found += bool(np.any(values != np.floor(values)))
    return found


def _mostly_numbers(chunk: Chunk, i: int) -> bool:
    """A text column whose cells are mostly numbers (counts with a few '<5' or '*')."""
    if i >= chunk.width or chunk.texts(i) is None:
        return False
    sample = chunk.table.column(i).slice(0, 1000)
    texts = pc.drop_null(
        sample.cast(pa.string()) if pa.types.is_dictionary(sample.type) else sample
    )
    if len(texts) == 0:
        return False
    numeric = pc.sum(pc.match_substring_regex(texts, r"^\s*[-+]?[0-9.]+\s*$")).as_py() or 0
    return numeric >= 0.5 * len(texts)


def _index_like(values: np.ndarray, expected: float | None) -> tuple[bool, float | None]:
    """Whether whole numbers continue a row numbering (0, 1, 2 ... or 1, 2, 3 ...)."""
    if values.size == 0:
        return True, expected
    start = values[0] if expected is None else expected
    if expected is None and start not in (0.0, 1.0):
        return False, None
    ok = bool(np.array_equal(values, start + np.arange(values.size)))
    return ok, float(start + values.size)


def _derived_pairs(ctx: TableContext) -> list[tuple[int, int, bool]]:
    """(share column, denominator column, percent scale) pairs."""
    keys = [key(n) for n in ctx.names]
    denominators = [i for i, n in enumerate(ctx.names) if count_name(n)]
    words = {"n", "total", "denominator", "denom", "tested", "size", "obs", "nobs", "samples"}
    preferred = [i for i in denominators if set(tokens(ctx.names[i])) & words]
    denominator = (preferred or denominators or [None])[0]
    if denominator is None:
        return []
    # pandas' describe(): '25%', '50%', '75%' beside 'min' and 'max' are quantiles, not shares
    described = bool({"min", "max", "std"} & set(keys))
    pairs = []
    for i, name in enumerate(ctx.names):
        if i == denominator or i in ctx.claimed or keys[i] in ("freq", "frequency"):
            continue
        if described and re.fullmatch(r"\s*\d{1,2}(?:\.\d+)?%\s*", str(name)):
            continue
        if proportion_name(name) and not count_name(name):
            pairs.append((i, denominator, percent_name(name)))
    return pairs


#: numbers written as words, as sentences say small counts ('three carriers')
NUMBER_WORDS = {
    w: k
    for k, w in enumerate(
        ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine"), start=1
    )
}
#: a small number of people in a sentence: '3 carriers', '2 of the 150 cases', 'three of the
#: carriers'
_PEOPLE_NOUNS = (
    r"carriers?|cases|controls|patients|participants|people|persons|individuals|subjects|"
    r"deaths|women|men|children|respondents|relatives|samples|females|males|founders"
)
_PEOPLE_IN_PROSE = re.compile(
    # not a dimension: a tibble's '# A tibble: 2 × 3' over its column names
    r"(?i)(?<![\d.,:/-])(?<!×\s)(?<!\sx\s)\b(\d{1,2}|" + "|".join(NUMBER_WORDS) + r")"
    # '3/300 participants', '3 out of 300 cases', '2 of the 150 cases', '3 carriers'
    r"(?:\s*/\s*\d[\d,]*\s+|\s+(?:(?:out\s+of|of|among)\s+(?:the\s+)?(?:\d[\d,]*\s+)?)?)"
    rf"({_PEOPLE_NOUNS}|"
    # what only people do: 'three carried the variant', 'two of them died'
    r"of (?:them|whom)|carried|developed|died|withdrew|"
    r"(?:were|was) (?:diagnosed|excluded|hospitali[sz]ed|carriers?|cases))\b"
    r"(?!\s*(?:per|for each)\b)"
)
#: one person said in words: 'a single carrier', 'the only patient', 'only one female case'
_ONE_IN_PROSE = re.compile(
    r"(?i)\b(?:a\s+single|a\s+sole|only\s+one|just\s+one|the\s+only|one\s+single)\s+"
    r"(?:[a-z-]+\s+)?(carrier|patient|participant|person|individual|subject|woman|man|child|"
    r"respondent|relative|female|male|proband|donor|death)\b"
)
#: a number under a label, one to a line or in JSON: 'Females with the variant: 3',
#: '- carriers = 4', '"n_cases": 4'
_LABELLED_NUMBER = re.compile(
    r"(?m)(?:^[ \t]*(?:[-*+][ \t]+)?|[\"'])([A-Za-z][\w .()-]{0,40}?)[\"']?[ \t]*[:=][ \t]*"
    r"(\d+)(?![\d.])"
)
_PEOPLE_WORD = re.compile(rf"(?i)\b(?:{_PEOPLE_NOUNS}|female|male|carrier|with)\b")


def labelled_numbers(text: str) -> list[tuple[int, int, str]]:
    """(offset, number, label) of the numbers under a label ('n_cases: 4', 'Females with the
    variant: 3'): read once for :func:`counts_in_text` and :func:`people_in_prose`."""
    if ":" not in text and "=" not in text:
        return []
    return [(m.start(1), int(m.group(2)), m.group(1).strip())
            for m in _LABELLED_NUMBER.finditer(text)]  # fmt: skip


def people_in_prose(text: str, labelled: list[tuple[int, int, str]] | None = None
                    ) -> Iterator[tuple[int, int, str]]:  # fmt: skip
    """(offset, count, noun) of counts of people in sentences ('we observed 3 carriers',
    'three of the carriers', 'three carried the variant') and under labels that name people
    ('Females with the variant: 3'): a human judges them (a design ratio, '4 controls per
    case', is not one). ``labelled``: :func:`labelled_numbers` of the text, if read."""
    for m in _PEOPLE_IN_PROSE.finditer(text):
        count = m.group(1)
        n = int(count) if count.isdigit() else NUMBER_WORDS[count.lower()]
        noun = m.group(2)
        people = re.fullmatch(_PEOPLE_NOUNS, noun, re.I)
        yield m.start(), n, noun if people else f"people ({count} {noun})"
    for m in _ONE_IN_PROSE.finditer(text):
        yield m.start(), 1, f"person ({m.group(0)})"
    for offset, n, label in labelled_numbers(text) if labelled is None else labelled:
        if _PEOPLE_WORD.search(label) and not count_name(label):
            yield offset, n, f"people ({label})"


def counts_in_text(text: str, labelled: list[tuple[int, int, str]] | None = None
                   ) -> Iterator[tuple[int, int]]:  # fmt: skip
    """(offset, count) of counts of people written in words ('n = 7', 'number of events= 3',
    statsmodels' 'No. Observations: 8', 'n_cases: 4' in YAML or JSON). ``labelled``:
    :func:`labelled_numbers` of the text, if read."""
    seen = set()
    for m in _N_IN_TEXT.finditer(text):
        seen.add(m.start())
        yield m.start(), int(m.group(1).replace(",", ""))
    for m in _STATA_COUNT.finditer(text):
        yield m.start(), int((m.group(1) or m.group(2)).replace(",", ""))
    for m in _N_LINE.finditer(text):  # GCTA's .hsq: 'n\t8' on a line of its own
        yield m.start(), int(m.group(1))
    for m in _OBSERVATIONS_LINE.finditer(text):  # each model's, in a printed regression table
        for n in re.finditer(r"(?<![\d.,])\d{1,3}(?:,\d{3})*(?![\d.,]\d)", m.group(1)):
            yield m.start(1) + n.start(), int(n.group(0).replace(",", ""))
    for offset, n, label in labelled_numbers(text) if labelled is None else labelled:
        if offset not in seen and _COUNT_KEY.fullmatch(label):
            yield offset, n


#: statsmodels' 'No. Observations: 8'; Stata's 'Number of obs = 74' and, from stcox or streg,
#: 'No. of subjects = 8' and 'No. of failures = 4'
_STATA_COUNT = re.compile(
    r"No\. Observations:\s+(\d+)|"
    r"(?:Number of obs|No\. of (?:subjects|failures))\s+=\s+(\d{1,3}(?:,\d{3})+|\d+)"
)
#: a label that says a count of people: n, n_cases, num_carriers, cases, controls, carriers
_COUNT_KEY = re.compile(
    r"(?i)n|(?:n|num|number)[ _.](?:of[ _.])?(?:cases|controls|carriers|patients|participants|"
    r"people|subjects|individuals|samples|events|deaths|females|males)|cases|controls|carriers"
)


#: the observations of each model on a line of a printed regression table (stargazer,
#: modelsummary, texreg, Stata's 'Number of obs = 74'): 'Observations & 4,812 & 7 \\'
_OBSERVATIONS_LINE = re.compile(
    r"(?im)^[ \t|]*(?:Observations|Num\.\s?Obs\.|Number\sof\sobs(?:ervations)?)"
    r"((?:[ \t&|:=]+(?:\d{1,3}(?:,\d{3})+|\d+)(?![\d.]))+)"
)
#: a line holding only 'n' (or 'N') and a whole number
_N_LINE = re.compile(r"(?m)^[ \t]*[nN][ \t]+(\d+)[ \t]*\r?$")
