"""Table rules: small counts, rounding, counts derived from percentages, secondary disclosure from
margins, extremes, dominance (p% and N-k) and model degrees of freedom.

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

Margins: a suppressed cell (``<10``, ``*``, ``[c]``) that is the only one missing from a row or
column with a total is recovered by subtraction; a total that exceeds the sum of its exact
(unrounded) cells by fewer than ``min_cell_count`` people reveals the small group left out.
Minima and maxima are one person's value each: a reviewer must look at them.

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
RULE_MARGINS = "min-cell-count.margins"
RULE_ROUNDING = "rounding"
RULE_EXTREMES = "extreme-values"
RULE_P_PERCENT = "dominance.p-percent"
RULE_NK = "dominance.nk"
RULE_DOMINANCE_UNCHECKED = "dominance.unchecked"
RULE_DOF = "model-dof"
RULE_DOF_UNCHECKED = "model-dof.unchecked"
RULE_HEADER = "min-cell-count.header"

# -- names ----------------------------------------------------------------------------------

_COUNT_FIRST = {"n", "num", "nb", "count", "number", "no"}
_COUNT_LAST = {"n", "count", "counts", "ct", "cnt", "cts", "num", "obs", "nobs", "size"}
_COUNT_WHOLE = {
    "freq", "frequency", "cases", "controls", "individuals", "participants", "patients",
    "people", "persons", "subjects", "carriers", "nobs", "samples", "total", "denominator",
    "numerator", "events", "deaths", "respondents", "members", "users", "births", "women",
    "men", "children", "adults", "tested", "exposed", "unexposed", "affected", "unaffected",
}  # fmt: skip
#: never counts of people, whatever their values
_NOT_COUNT = {
    "id", "pos", "position", "bp", "start", "end", "stop", "chrom", "chr", "chromosome", "year",
    "age", "date", "rank", "index", "idx", "order", "cluster", "group", "code", "level", "grade",
    "stage", "decile", "quintile", "quartile", "percentile", "bin", "week", "month", "day",
    "time", "version", "seed", "row", "line", "miss", "missing", "nmiss", "component", "dim",
    "k", "x", "y", "iter", "iteration", "epoch", "fold", "batch", "score", "category", "column",
    "unnamed", "label", "key", "pc",
}  # fmt: skip
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
}  # fmt: skip
_PROPORTION = {
    "pct", "percent", "percentage", "prop", "proportion", "frac", "fraction", "rate", "ratio",
    "prevalence", "share", "freq", "frequency", "af", "maf", "eaf",
}  # fmt: skip
_MAGNITUDE = {"sum", "total", "mean", "average", "avg", "median", "sd", "std", "var", "variance"}
_STATISTIC = _MAGNITUDE - {"total"} | {
    "min", "max", "minimum", "maximum", "beta", "se", "p", "pval", "or", "coef", "estimate",
    "t", "z", "stat", "chisq", "lower", "upper", "ci", "q1", "q3", "iqr", "mad", "skew",
    "kurtosis", "hr", "rr", "lci", "uci", "l95", "u95", "value", "log10p", "weight", "bmi",
    "height", "ldl", "hdl", "sbp", "dbp", "dose",
}  # fmt: skip
_EXTREME = {"min", "max", "minimum", "maximum", "lowest", "highest", "youngest", "oldest",
            "range", "smallest"}  # fmt: skip
_TOP1 = {"largest", "top1", "top_1", "max", "maximum", "largest_contribution", "first_largest"}
_TOP2 = {"second_largest", "top2", "top_2", "second", "second_largest_contribution"}
_TOP2SUM = {"top_2_sum", "top2_sum", "largest_2_sum", "sum_top_2", "sum_top2", "top_n_sum"}
_DOF = {"df_resid", "df_residual", "df_residuals", "residual_df", "resid_df", "dof", "df_error"}
_COEF = {"coef", "coefficient", "estimate", "beta", "b"}
_STDERR = {"se", "std_err", "stderr", "std_error", "standard_error", "se_coef"}
_TOTAL_LABEL = re.compile(r"^\s*(grand\s+)?(total|totals|all|overall|sum)\s*$", re.I)
_SUPPRESSED = re.compile(
    r"^\s*([<≤]=?\s*\d+|\*{1,3}|x|\[[cxz]\]|c|suppressed|redacted|masked|small)\s*$", re.I
)
_N_PERCENT = r"^\s*(\d+)\s*(?:/\s*(\d+)\s*)?[\(\[]\s*\d+(?:[.,]\d+)?\s*%?\s*[\)\]]\s*$"
_SPREAD_LABEL = {"mean", "median", "sd", "iqr", "range", "average", "std"}
#: a count of people written in words: 'n = 7', 'N=250', 'number of events= 3'
_N_IN_TEXT = re.compile(
    r"(?i)(?:\bn|number of (?:events|cases|patients|people|subjects))\s*[=:]\s*(\d+)\b"
)
#: small tables are kept whole for the margin, row and transposition rules
WHOLE_TABLE_ROWS = 5000
WHOLE_TABLE_COLUMNS = 200


def count_name(name: str) -> bool:
    """Whether a column name says it holds counts of people (``n``, ``n_cases``, ``obs_ct``,
    ``group_size``)."""
    words = tokens(name)
    if not words:
        return False
    found = set(words)
    if found & _NOT_PEOPLE or found & (_PROPORTION - {"freq", "frequency"}) or found & _STATISTIC:
        return False
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


def _names_a(words: list[str], vocab: set[str]) -> bool:
    """Whether a name is a word of ``vocab`` ('year', 'age_group', 'cluster_id'), as opposed
    to a category label that starts with one ('group a', 'age 40-49')."""
    return words[-1] in vocab or (words[0] in vocab and set(words[1:]) <= _NAME_SUFFIX)


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
        or any(re.fullmatch(r"pc\d+", w) for w in words)
    )


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
    return bool(words & _PROPORTION) or "%" in str(name)


def percent_name(name: str) -> bool:
    words = set(tokens(name))
    return bool(words & {"pct", "percent", "percentage"}) or "%" in str(name)


def count_label(label: str) -> bool:
    """A row label that says the row holds counts of people (``N``, ``Number of people``)."""
    text = str(label).strip()
    if re.fullmatch(r"(?i)(n|count|counts|no\.?|total\s+n|n\s*\(%\)|number)", text):
        return True
    return count_name(text) and not _SPREAD_LABEL & set(tokens(text))


def table_rules(ctx: TableContext) -> Iterator[object]:
    # dominance and model columns are claimed first: they are not counts of people
    dominance = Dominance.for_table(ctx)
    model = ModelDof.for_table(ctx)
    yield CountRules(ctx)
    yield from (rule for rule in (dominance, model) if rule is not None)
    yield TextDof(ctx)
    yield WholeTable(ctx)


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
    strict: bool = False  # counts only when every value is a whole number
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
        statistics = (
            bool(rec and rec.layout == "model") or sum(statistic_name(n) for n in ctx.names) >= 2
        )
        self.columns: dict[int, _Column] = {}
        for i, name in enumerate(ctx.names):
            if i in ctx.claimed:
                continue
            role = rec.roles.get(i) if rec else None
            if role is not None:
                if role.quantity == "people" and not per_variant:
                    self.columns[i] = _Column(named=True)
                continue
            if count_name(name):
                self.columns[i] = _Column(named=True)
            elif not per_variant and not registered and not names_another_quantity(name):
                if statistics and statistic_name(name):
                    continue
                if ctx.first.is_numeric(i) or _mostly_numbers(ctx.first, i):
                    # a statistic's name (p, t, mean) over whole numbers only is not believed
                    self.columns[i] = _Column(named=False, strict=statistic_name(name))
        self._counts_in_names()
        self.derived = [] if per_variant else _derived_pairs(ctx)
        self.label_col = next(
            (i for i in range(ctx.first.width) if ctx.first.texts(i) is not None), None
        )
        self.n_percent: dict[int, int] = {}  # column -> cells parsed as n (%)

    def _counts_in_names(self) -> None:
        """Counts written into column names: 'cases (n=7)', 'Female % (N = 250)'."""
        t = self.ctx.config.min_cell_count
        for name in self.ctx.names:
            for m in _N_IN_TEXT.finditer(str(name)):
                n = int(m.group(1))
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
            if c.index:
                if c.index_from is None and present.any():
                    c.index_from = float(values[present][0])
                c.index, c.next_index = _index_like(values[present], c.next_index)
            with np.errstate(invalid="ignore"):
                small = whole & (values > 0) & (values < t)
                unrounded = whole & (values > 0) & (np.mod(values, base) != 0) if base > 1 else None
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
                report_cells(
                    self.ctx.sink, RULE_MIN_CELL, Verdict.BLOCK, mask, chunk,
                    self.ctx.names[col], lambda i, tx=texts: show(tx[i].as_py()),
                    lambda i, v=values, c=col: (
                        f"{self.ctx.label(chunk, i)}, {self.ctx.names[c]}: {show(v[i])} people "
                        f"(an n (%) cell) is below the minimum of {t} per non-zero cell. "
                        "Suppress or merge small cells, then check again."
                    ),
                )  # fmt: skip

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
                if c.first_unrounded is None:
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

        named = [i for i, c in self.columns.items() if c.named and (counted(c) or c.present == 0)]

        def index(i: int) -> bool:
            """pandas' index (0, 1, 2 ...) or R's row names (1, 2, 3 ...), written first and
            without a name."""
            c = self.columns[i]
            if i != 0 or not c.index or not unnamed_column(self.ctx.names[i]):
                return False
            return c.index_from == 0 or c.present >= 3

        unnamed = [i for i, c in self.columns.items() if not c.named and c.present > 0]
        content = [
            i for i in unnamed if counted(self.columns[i]) and not index(i)
            and (not self.columns[i].strict or self.columns[i].whole == self.columns[i].present)
        ]  # fmt: skip
        numeric = [i for i in unnamed if not index(i) and not self.columns[i].strict]
        if content and len(content) >= 0.5 * len(numeric):
            return sorted(named + content)
        return named


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
    pairs = []
    for i, name in enumerate(ctx.names):
        if i == denominator or i in ctx.claimed or keys[i] in ("freq", "frequency"):
            continue
        if proportion_name(name) and not count_name(name):
            pairs.append((i, denominator, percent_name(name)))
    return pairs


# -- whole small tables: rows of counts, margins, extremes -----------------------------------


class WholeTable:
    """Rules that need a small table whole: rows labelled as counts, margins with suppressed
    cells, extremes, and what the table is (a PCA's variance)."""

    def __init__(self, ctx: TableContext) -> None:
        self.ctx = ctx
        self.parts: list[pa.Table] | None = [] if len(ctx.names) <= WHOLE_TABLE_COLUMNS else None
        self.rows = 0
        per_variant = bool(ctx.recognition and ctx.recognition.per_variant)
        self.extremes = [
            i for i, n in enumerate(ctx.names)
            if set(tokens(n)) & _EXTREME and not per_variant and i not in ctx.claimed
        ]  # fmt: skip
        self.first_rows: dict[int, int] = {}

    def feed(self, chunk: Chunk) -> None:
        self.rows += len(chunk)
        if self.parts is not None:
            if self.rows > WHOLE_TABLE_ROWS:
                self.parts = None
            else:
                self.parts.append(chunk.table)

    def finish(self, rows: int) -> None:
        ctx = self.ctx
        for col in self.extremes:
            if col in ctx.claimed:
                continue
            ctx.sink.add(
                RULE_EXTREMES,
                Verdict.REVIEW,
                f"Column {ctx.names[col]} holds minima or maxima: each is one person's value "
                "(the youngest, the heaviest), which can identify them. A reviewer must judge "
                "it; release percentiles or ranges rounded to bands instead.",
                Location(row=0, column=ctx.names[col]),
            )
        if not self.parts or ctx.per_variant:
            return
        table = pa.concat_tables(self.parts) if len(self.parts) > 1 else self.parts[0]
        whole = Chunk(table, 1)
        labels = _labels(whole)
        if labels is not None:
            self._labelled_rows(whole, labels)
            self._margins(whole, labels)

    def _labelled_rows(self, whole: Chunk, labels: list[str | None]) -> None:
        ctx = self.ctx
        t = ctx.config.min_cell_count
        label_col = _label_column(whole)
        values = [whole.numbers(j) for j in range(whole.width)]
        for i, label in enumerate(labels):
            if label is None:
                continue
            if (
                _TOTAL_LABEL.match(label) is None
                and set(tokens(label)) & _EXTREME
                and (set(tokens(label)) <= _EXTREME)
            ):
                ctx.sink.add(
                    RULE_EXTREMES,
                    Verdict.REVIEW,
                    f"Row {label} holds minima or maxima: each is one person's value, which "
                    "can identify them. A reviewer must judge it; release percentiles or "
                    "ranges rounded to bands instead.",
                    Location(row=i + 1, column=ctx.names[label_col]),
                )
                continue
            if not count_label(label):
                continue
            cells = [(j, values[j][i]) for j in range(whole.width) if j != label_col
                     and not np.isnan(values[j][i])]  # fmt: skip
            if not cells or not all(v >= 0 and float(v).is_integer() for _, v in cells):
                continue
            ctx.row_counts = True
            for j, v in cells:
                if 0 < v < t:
                    ctx.sink.add(
                        RULE_MIN_CELL,
                        Verdict.BLOCK,
                        f"{label}, {ctx.names[j]}: {show(v)} people is below the minimum of "
                        f"{t} per non-zero cell. Suppress or merge small groups, then check "
                        "again.",
                        Location(row=i + 1, column=ctx.names[j], value=show(v)),
                    )

    def _margins(self, whole: Chunk, labels: list[str | None]) -> None:
        """Suppressed cells recovered from totals, and totals that reveal a small remainder."""
        ctx = self.ctx
        label_col = _label_column(whole)
        value_cols = [j for j in range(whole.width) if j != label_col]
        total_cols = [j for j in value_cols if _TOTAL_LABEL.match(ctx.names[j])]
        total_rows = [i for i, lab in enumerate(labels) if lab and _TOTAL_LABEL.match(lab)]
        if not total_cols and not total_rows:
            return
        grid = np.column_stack([whole.numbers(j) for j in value_cols]) if value_cols else None
        if grid is None:
            return
        texts = [whole.texts(j) for j in value_cols]
        suppressed = np.zeros(grid.shape, dtype=bool)
        for k, tx in enumerate(texts):
            if tx is not None:
                m = pc.match_substring_regex(tx, _SUPPRESSED.pattern, ignore_case=True)
                suppressed[:, k] = np.asarray(pc.fill_null(m, False).to_numpy(zero_copy_only=False),
                                              dtype=bool)  # fmt: skip
        base = ctx.config.rounding_base
        present = grid[~np.isnan(grid)]
        rounded = base > 1 and present.size > 0 and bool(np.all(np.mod(present, base) == 0))
        names = [ctx.names[j] for j in value_cols]
        for tc in total_cols:
            k_total = value_cols.index(tc)
            for i in range(grid.shape[0]):
                if i in total_rows:
                    continue
                others = [k for k in range(grid.shape[1]) if k != k_total]
                self._line(grid[i, others], suppressed[i, others], grid[i, k_total], rounded,
                           f"row {labels[i] or i + 1}", [names[k] for k in others],
                           Location(row=i + 1, column=names[k_total]))  # fmt: skip
        for tr in total_rows:
            for k in range(grid.shape[1]):
                parts = [i for i in range(grid.shape[0]) if i not in total_rows]
                self._line(grid[parts, k], suppressed[parts, k], grid[tr, k], rounded,
                           f"column {names[k]}", [labels[i] or str(i + 1) for i in parts],
                           Location(row=tr + 1, column=names[k]))  # fmt: skip

    def _line(self, cells, suppressed, total, rounded, where, names, location) -> None:
        t = self.ctx.config.min_cell_count
        if np.isnan(total) or total < 0:
            return
        known = ~np.isnan(cells) & ~suppressed
        if np.any(~known & ~suppressed):  # a cell that is neither a number nor suppressed
            return
        rest = float(total - cells[known].sum())
        if not float(total).is_integer() or not np.all(np.floor(cells[known]) == cells[known]):
            return
        if suppressed.sum() == 1 and 0 < rest < t:
            hidden = names[int(np.flatnonzero(suppressed)[0])]
            self.ctx.sink.add(
                RULE_MARGINS,
                Verdict.BLOCK,
                f"In {where}, the suppressed cell {hidden} is the total minus the other cells: "
                f"{show(rest)} people, below the minimum of {t}. Suppress a second cell (or the "
                "total) so that it cannot be recovered, or merge groups.",
                dataclasses.replace(location, value=show(total)),
            )
        elif suppressed.sum() == 0 and not rounded and 0 < rest < t:
            self.ctx.sink.add(
                RULE_MARGINS,
                Verdict.BLOCK,
                f"In {where}, the total is {show(rest)} more than the sum of its cells: a "
                f"group of {show(rest)} people (below the minimum of {t}) is left out but can "
                "be recovered. Show it merged with another group, or round the counts.",
                dataclasses.replace(location, value=show(total)),
            )


def _label_column(chunk: Chunk) -> int | None:
    return next((j for j in range(chunk.width) if chunk.texts(j) is not None), None)


def _labels(chunk: Chunk) -> list[str | None] | None:
    col = _label_column(chunk)
    if col is None:
        return None
    return [None if v is None else str(v) for v in chunk.column(col).to_pylist()]


def variance_table(ctx: TableContext, rows: int) -> bool:
    """Explained variance or eigenvalues of a PCA: one small value per component."""
    keys = [key(n) for n in ctx.names]
    words = set().union(*(set(k.split("_")) for k in keys)) if keys else set()
    first = ctx.first
    numeric = [j for j in range(first.width) if first.is_numeric(j)]
    if rows == 0 or rows > 100 or not numeric:
        return False
    values = np.concatenate([first.numbers(j) for j in numeric])
    values = values[~np.isnan(values)]
    if values.size == 0 or values.min() < 0:
        return False
    if words & {"variance", "eigenvalue", "eigenvalues", "eigenval", "pve", "explained"} and (
        len(numeric) <= 3
    ):
        return True
    pcs = [k for k in keys if re.fullmatch(r"(pc|comp|component|dim)_?\d+", k)]
    if len(pcs) >= 2 and rows <= 3 and len(pcs) >= len(numeric) - 1:
        return True
    if len(ctx.names) == 1 and rows >= 2:
        v = first.numbers(0)
        return bool(np.all(np.diff(v) <= 0)) and bool(v.min() > 0)
    return False


# -- dominance ---------------------------------------------------------------------------------


class Dominance:
    """p% and N-k dominance in magnitude tables (sums or means) with contributor columns."""

    @classmethod
    def for_table(cls, ctx: TableContext) -> Dominance | None:
        if ctx.per_variant:
            return None
        keys = [key(n) for n in ctx.names]
        total = _find(keys, {"sum", "total"}, suffix=True, exclude=ctx.claimed)
        mean = _find(keys, {"mean", "average", "avg"}, suffix=True, exclude=ctx.claimed)
        if total is None and mean is None:
            return None
        counts = [i for i, n in enumerate(ctx.names) if count_name(n) and i not in ctx.claimed
                  and i not in (total, mean)]  # fmt: skip
        n = next((i for i in counts if keys[i] in ("n", "count", "contributors")), None)
        if n is None and counts:
            n = counts[0]
        top1 = _find(keys, _TOP1)
        top2 = _find(keys, _TOP2)
        topsum = _find(keys, _TOP2SUM)
        if total is None and n is None:
            return None  # a mean without a contributor count: nothing to check against
        return cls(ctx, total=total, mean=mean, n=n, top1=top1, top2=top2, topsum=topsum)

    def __init__(self, ctx, *, total, mean, n, top1, top2, topsum) -> None:
        self.ctx = ctx
        self.total, self.mean, self.n = total, mean, n
        self.top1, self.top2, self.topsum = top1, top2, topsum
        self.unchecked = 0
        ctx.claimed.update(c for c in (total, mean, top1, top2, topsum) if c is not None)

    def _totals(self, chunk: Chunk) -> np.ndarray:
        if self.total is not None:
            return chunk.numbers(self.total)
        return chunk.numbers(self.mean) * chunk.numbers(self.n)

    def feed(self, chunk: Chunk) -> None:
        cfg, ctx = self.ctx.config, self.ctx
        total = self._totals(chunk)
        column = ctx.names[self.total if self.total is not None else self.mean]
        top1 = chunk.numbers(self.top1) if self.top1 is not None else None
        if self.topsum is not None:
            top2sum = chunk.numbers(self.topsum)
        elif top1 is not None and self.top2 is not None:
            top2sum = top1 + np.nan_to_num(chunk.numbers(self.top2))
        else:
            top2sum = None
        topn = top2sum if cfg.nk_n == 2 else top1 if cfg.nk_n == 1 else None
        present = ~np.isnan(total)
        with np.errstate(invalid="ignore", divide="ignore"):
            if top1 is not None and top2sum is not None:
                negative = (total < 0) | (top1 < 0)
                self._report_negative(chunk, negative, column, total)
                rest = total - top2sum
                p_val = np.where(top1 == 0, rest, rest / np.where(top1 == 0, np.nan, top1))
                p_val = np.where(np.isnan(p_val), 1.0, p_val)
                p_fail = (p_val < cfg.p_percent) & ~negative & present
                self._report(chunk, RULE_P_PERCENT, p_fail, column, total, self._p_message)
            if topn is not None:
                nk_fail = (topn / total >= cfg.nk_k) & present
                if top1 is not None:
                    nk_fail &= ~((total < 0) | (top1 < 0))
                self._report(chunk, RULE_NK, nk_fail, column, total, self._nk_message)
            if topn is None or top2sum is None or top1 is None:
                if self.n is None:
                    self.unchecked += int(np.count_nonzero(present))
                    return
                n = chunk.numbers(self.n)
                few = (n > 0) & (n <= cfg.nk_n) & (total != 0) & present
                self._report(chunk, RULE_NK, few, column, total, self._few_message(n))
                self.unchecked += int(np.count_nonzero((n > cfg.nk_n) & present))

    def _report(self, chunk, rule, mask, column, total, message) -> None:
        report_cells(self.ctx.sink, rule, Verdict.BLOCK, mask, chunk, column, total,
                     lambda i: message(chunk, i))  # fmt: skip

    def _report_negative(self, chunk, mask, column, total) -> None:
        report_cells(
            self.ctx.sink,
            RULE_DOMINANCE_UNCHECKED,
            Verdict.REVIEW,
            mask,
            chunk,
            column,
            total,
            lambda i: (
                f"{self.ctx.label(chunk, i)}: dominance is not defined when contributions are "
                "negative; a reviewer must judge whether one contributor dominates this cell."
            ),
        )

    def _p_message(self, chunk: Chunk, i: int) -> str:
        p = self.ctx.config.p_percent
        return (
            f"{self.ctx.label(chunk, i)}: the contributions other than the two largest are less "
            f"than {p:.0%} of the largest (p% rule), so the largest contributor's value can be "
            "estimated closely. Suppress this cell or merge it with others."
        )

    def _nk_message(self, chunk: Chunk, i: int) -> str:
        cfg = self.ctx.config
        return (
            f"{self.ctx.label(chunk, i)}: the {cfg.nk_n} largest contributions make up "
            f"{cfg.nk_k:.0%} or more of the total (N-k rule), so they dominate it. Suppress this "
            "cell or merge it with others."
        )

    def _few_message(self, n: np.ndarray):
        cfg = self.ctx.config

        def message(chunk: Chunk, i: int) -> str:
            return (
                f"{self.ctx.label(chunk, i)}: only {show(n[i])} contributor(s), so the "
                f"{cfg.nk_n} largest make up the whole total (N-k rule). Suppress this cell "
                "or merge it with others."
            )

        return message

    def finish(self, rows: int) -> None:
        if self.unchecked:
            self.ctx.sink.add(
                RULE_DOMINANCE_UNCHECKED,
                Verdict.REVIEW,
                f"This magnitude table has {self.unchecked:,} cells whose dominance (p% and N-k "
                "rules) cannot be checked automatically: it carries the number of contributors "
                "but not the largest contributions. A reviewer must judge it; producing the "
                "table with acro (acro.crosstab/pivot_table) checks dominance at source.",
            )


def _find(keys: list[str], names: set[str], *, suffix: bool = False, exclude=()) -> int | None:
    """The first column whose key is in ``names`` (with ``suffix``: or starts or ends with
    one, as in ``income_sum`` or ``mean_ldl``)."""
    for i, k in enumerate(keys):
        if i in exclude:
            continue
        parts = k.split("_")
        if k in names or (suffix and (parts[-1] in names or parts[0] in names)):
            return i
    return None


# -- models ------------------------------------------------------------------------------------


def is_model_table(names: list[str]) -> bool:
    keys = {key(n) for n in names}
    return bool(keys & _DOF) or (bool(keys & _COEF) and bool(keys & _STDERR))


class ModelDof:
    """Residual degrees of freedom in a model table, or a coefficient table without them."""

    @classmethod
    def for_table(cls, ctx: TableContext) -> ModelDof | None:
        keys = [key(n) for n in ctx.names]
        dof = [i for i, k in enumerate(keys) if k in _DOF]
        coefficients = any(k in _COEF for k in keys) and any(k in _STDERR for k in keys)
        if not dof and not (coefficients and not ctx.per_variant):
            return None
        return cls(ctx, dof)

    def __init__(self, ctx: TableContext, columns: list[int]) -> None:
        self.ctx, self.columns = ctx, columns
        ctx.claimed.update(columns)

    def feed(self, chunk: Chunk) -> None:
        t = self.ctx.config.min_residual_dof
        for col in self.columns:
            values = chunk.numbers(col)
            report_cells(
                self.ctx.sink,
                RULE_DOF,
                Verdict.BLOCK,
                values < t,
                chunk,
                self.ctx.names[col],
                values,
                lambda i, v=values: dof_message(v[i], t),
            )

    def finish(self, rows: int) -> None:
        if self.columns or self.ctx.sink.has(RULE_DOF):
            return
        t = self.ctx.config.min_residual_dof
        if self.ctx.known_dof:
            for dof in self.ctx.known_dof:
                if dof < t:
                    self.ctx.sink.add(RULE_DOF, Verdict.BLOCK, dof_message(dof, t))
            return
        self.ctx.sink.add(
            RULE_DOF_UNCHECKED,
            Verdict.REVIEW,
            "This looks like a table of model coefficients but does not say the model's "
            "residual degrees of freedom, so a reviewer must check that enough people are "
            "behind it. Add a df_resid column (results.df_resid in statsmodels).",
        )


def dof_message(dof: float, t: int) -> str:
    return (
        f"The model has {show(dof)} residual degrees of freedom, fewer than the minimum of {t}: "
        "too few people for each parameter, so estimates can reveal individuals. Use more "
        "observations or fewer parameters."
    )


_DOF_TEXT = re.compile(
    rb"Df Residuals:?[\s\",;|]*(\d+)|Residual.{0,80}?\bon\s+(\d+)\s+degrees\s+of\s+freedom"
    rb"|df_resid\W{1,3}(\d+)|F-statistic:.{0,40}?\bon\s+\d+\s+and\s+(\d+)\s+DF"
    rb"|(?m:^)\s*Residuals?\s+(\d+)\s+[-+\d.]",
    re.I,
)


def counts_in_text(text: str) -> Iterator[tuple[int, int]]:
    """(offset, count) of counts of people written in words ('n = 7', 'number of events= 3',
    statsmodels' 'No. Observations: 8')."""
    for m in _N_IN_TEXT.finditer(text):
        yield m.start(), int(m.group(1))
    for m in re.finditer(r"No\. Observations:\s+(\d+)", text):
        yield m.start(), int(m.group(1))


def dof_in_text(data: bytes) -> Iterator[tuple[int, int]]:
    """(offset, residual degrees of freedom) printed in model summaries (statsmodels, R)."""
    if b"esid" not in data and b"DF" not in data:  # one scan of the block
        return
    for m in _DOF_TEXT.finditer(data):
        yield m.start(), int(next(g for g in m.groups() if g))


class TextDof:
    """Model summaries pasted into a table (e.g. statsmodels summary().tables[0] as CSV)."""

    def __init__(self, ctx: TableContext) -> None:
        self.ctx = ctx

    def feed(self, chunk: Chunk) -> None:
        if not chunk.raw or chunk.first_row != 1:  # summaries are short: the first rows
            return
        t = self.ctx.config.min_residual_dof
        for offset, dof in dof_in_text(chunk.raw):
            if dof < t:
                row = chunk.first_row + chunk.raw.count(b"\n", 0, offset)
                self.ctx.sink.add(
                    RULE_DOF, Verdict.BLOCK, dof_message(dof, t), Location(row=row, value=str(dof))
                )

    def finish(self, rows: int) -> None:
        pass
