"""Table rules: small counts, rounding, dominance (p% and N-k), model degrees of freedom.

Count columns are found by name (``n``, ``count``, ``*_ct``, ``cases`` ...) when their values
are whole non-negative numbers; in a table without such names (a cross-tabulation such as
``pd.crosstab(...).to_csv()``), every numeric column whose values are all counts is a count
column, except columns named like positions, years, ages or identifiers.

The definitions follow ACRO so that its verdicts and ours agree on the same table:
- threshold: a cell fails when ``0 < count < min_cell_count`` (ACRO also fails zero cells, which
  tresor leaves alone: the brief's rule is about non-zero cells);
- p%: a cell fails when ``(total - largest - second) / largest < p`` (when ``largest`` is 0:
  when ``total - largest - second < p``, as ACRO computes it);
- N-k: a cell fails when its N largest contributions are at least ``k`` of its total;
- degrees of freedom: a model fails when its residual degrees of freedom are below the minimum.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pandas as pd

from airlock.checks.cells import (
    Chunk,
    TableContext,
    is_count_like,
    numbers,
    report_cells,
    show,
    tokens,
)
from airlock.checks.findings import Location, Verdict

RULE_MIN_CELL = "min-cell-count"
RULE_ROUNDING = "rounding"
RULE_P_PERCENT = "dominance.p-percent"
RULE_NK = "dominance.nk"
RULE_DOMINANCE_UNCHECKED = "dominance.unchecked"
RULE_DOF = "model-dof"
RULE_DOF_UNCHECKED = "model-dof.unchecked"
RULE_HEADER = "min-cell-count.header"

# -- names ----------------------------------------------------------------------------------

_COUNT_FIRST = {"n", "num", "nb", "count", "number"}
_COUNT_LAST = {"n", "count", "counts", "ct", "cnt", "cts", "num", "obs", "nobs"}
_COUNT_WHOLE = {
    "freq",
    "frequency",
    "cases",
    "controls",
    "individuals",
    "participants",
    "patients",
    "people",
    "persons",
    "subjects",
    "carriers",
    "nobs",
    "size",
    "sample_size",
    "samples",
}
#: never counts, whatever their values
_NOT_COUNT = {
    "id", "pos", "position", "bp", "start", "end", "stop", "chrom", "chr", "chromosome", "year",
    "age", "date", "rank", "index", "idx", "order", "cluster", "group", "code", "level", "grade",
    "stage", "decile", "quintile", "quartile", "percentile", "bin", "week", "month", "day",
    "time", "version", "seed", "row", "line", "miss", "missing", "nmiss", "pct", "percent",
    "prop", "proportion", "frac", "fraction", "rate", "ratio", "pc", "component", "dim", "k",
    "x", "y", "iter", "iteration", "epoch", "fold", "batch", "score", "category",
}  # fmt: skip
_MAGNITUDE = {"sum", "total", "mean", "average", "avg", "median", "sd", "std", "var", "variance"}
_STATISTIC = _MAGNITUDE | {
    "min", "max", "beta", "se", "p", "pval", "or", "coef", "estimate", "t", "z", "stat",
    "chisq", "lower", "upper", "ci", "q1", "q3", "iqr", "mad", "skew", "kurtosis",
}  # fmt: skip
_TOP1 = {"largest", "top1", "top_1", "max", "maximum", "largest_contribution", "first_largest"}
_TOP2 = {"second_largest", "top2", "top_2", "second", "second_largest_contribution"}
_TOP2SUM = {"top_2_sum", "top2_sum", "largest_2_sum", "sum_top_2", "sum_top2", "top_n_sum"}
_DOF = {"df_resid", "df_residual", "df_residuals", "residual_df", "resid_df", "dof", "df_error"}
_COEF = {"coef", "coefficient", "estimate", "beta", "b"}
_STDERR = {"se", "std_err", "stderr", "std_error", "standard_error", "se_coef"}


def _key(name: str) -> str:
    return "_".join(tokens(name))


def count_name(name: str) -> bool:
    """Whether a column name says it holds counts of people (``n``, ``n_cases``, ``obs_ct``)."""
    words = tokens(name)
    if not words or set(words) & _NOT_COUNT:
        return False
    return (
        words[0] in _COUNT_FIRST
        or words[-1] in _COUNT_LAST
        or "_".join(words) in _COUNT_WHOLE
        or bool(re.fullmatch(r"n(cases?|controls?|ctrls?|samples?|obs)", words[0]))
    )


def excluded_from_counts(name: str) -> bool:
    words = set(tokens(name))
    return (
        bool(words & _NOT_COUNT)
        or bool(words & _STATISTIC)
        or any(re.fullmatch(r"pc\d+", w) for w in words)
    )


def table_rules(ctx: TableContext) -> Iterator[object]:
    counts = _count_columns(ctx)
    ctx.count_columns += counts
    if counts:
        yield MinCellCount(ctx, counts)
        if ctx.config.rounding_on:
            yield Rounding(ctx, counts)
    if (dominance := Dominance.for_table(ctx, counts)) is not None:
        yield dominance
    if (model := ModelDof.for_table(ctx)) is not None:
        yield model
    yield TextDof(ctx)


def check_numeric_names(ctx: TableContext) -> None:
    """A first row read as the header may be data (a table written without a header): a column
    name that is a small count, over a column of counts, needs a reviewer's look."""
    t = ctx.config.min_cell_count
    for i, name in enumerate(ctx.names):
        try:
            value = float(name)
        except ValueError:
            continue
        if 0 < value < t and value.is_integer() and is_count_like(numbers(ctx.first[i])):
            ctx.sink.add(
                RULE_HEADER,
                Verdict.REVIEW,
                f"Column name {name} is a number below {t}. If the first row is data rather "
                "than a header, it was not checked as a count: add a header row. If it is a "
                "category label, explain it to the reviewers.",
                Location(row=0, column=name, value=name),
            )


def _count_columns(ctx: TableContext) -> list[int]:
    """Positions of the count-of-people columns (see the module docstring)."""
    free = [i for i in range(len(ctx.names)) if i not in ctx.claimed]
    values = {i: numbers(ctx.first[i]) for i in free}
    named = [i for i in free if count_name(ctx.names[i]) and is_count_like(values[i])]
    if named or ctx.per_variant:
        return named
    numeric = [i for i in free if np.any(~np.isnan(values[i]))]
    candidates = [i for i in numeric if not excluded_from_counts(ctx.names[i])]
    if any(_key(ctx.names[i]) in _STATISTIC for i in numeric):
        return []
    if candidates and all(is_count_like(values[i]) for i in candidates):
        return candidates
    return []


class MinCellCount:
    """Cells counting 1 to ``min_cell_count - 1`` people."""

    def __init__(self, ctx: TableContext, columns: list[int]) -> None:
        self.ctx, self.columns = ctx, columns
        ctx.claimed.update(columns)

    def feed(self, chunk: Chunk) -> None:
        t = self.ctx.config.min_cell_count
        for col in self.columns:
            values = numbers(chunk.frame[col])
            mask = (values > 0) & (values < t)
            report_cells(
                self.ctx.sink,
                RULE_MIN_CELL,
                Verdict.BLOCK,
                mask,
                chunk,
                self.ctx.names[col],
                values,
                lambda i, v=values, c=col: (
                    f"{self.ctx.label(chunk, i)}, {self.ctx.names[c]}: {show(v[i])} people is "
                    f"below the minimum of {t} per non-zero cell. Suppress or merge small "
                    "cells (combine categories), then check again."
                ),
            )

    def finish(self, rows: int) -> None:
        pass


class Rounding:
    """Counts that are not multiples of the rounding base: one review finding per column."""

    def __init__(self, ctx: TableContext, columns: list[int]) -> None:
        self.ctx, self.columns = ctx, columns
        self.first: dict[int, Location] = {}
        self.count: dict[int, int] = dict.fromkeys(columns, 0)

    def feed(self, chunk: Chunk) -> None:
        base = self.ctx.config.rounding_base
        for col in self.columns:
            values = numbers(chunk.frame[col])
            with np.errstate(invalid="ignore"):
                mask = (values > 0) & (np.mod(values, base) != 0)
            hits = np.flatnonzero(mask)
            if hits.size:
                self.count[col] += int(hits.size)
                if col not in self.first:
                    i = int(hits[0])
                    self.first[col] = Location(
                        chunk.first_row + i, self.ctx.names[col], show(values[i])
                    )

    def finish(self, rows: int) -> None:
        base = self.ctx.config.rounding_base
        for col, location in self.first.items():
            n = self.count[col]
            self.ctx.sink.add(
                RULE_ROUNDING,
                Verdict.REVIEW,
                f"{n:,} count{'s' if n != 1 else ''} in column {self.ctx.names[col]} "
                f"{'are' if n != 1 else 'is'} not a multiple of {base} (the first in row "
                f"{location.row}). Round released counts to the nearest {base} (e.g. "
                f"acro.ACRO(mitigation='round')), or explain to the reviewers why exact counts "
                "are needed.",
                location,
            )


class Dominance:
    """p% and N-k dominance in magnitude tables (sums or means) with contributor columns."""

    @classmethod
    def for_table(cls, ctx: TableContext, counts: list[int]) -> Dominance | None:
        if ctx.per_variant:
            return None
        keys = [_key(n) for n in ctx.names]
        total = _find(keys, {"sum", "total"}, suffix=True)
        mean = _find(keys, {"mean", "average", "avg"}, suffix=True)
        if total is None and mean is None:
            return None
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

    def _totals(self, frame: pd.DataFrame) -> np.ndarray:
        if self.total is not None:
            return numbers(frame[self.total])
        return numbers(frame[self.mean]) * numbers(frame[self.n])

    def feed(self, chunk: Chunk) -> None:
        cfg, ctx = self.ctx.config, self.ctx
        total = self._totals(chunk.frame)
        column = ctx.names[self.total if self.total is not None else self.mean]
        top1 = numbers(chunk.frame[self.top1]) if self.top1 is not None else None
        if self.topsum is not None:
            top2sum = numbers(chunk.frame[self.topsum])
        elif top1 is not None and self.top2 is not None:
            top2sum = top1 + np.nan_to_num(numbers(chunk.frame[self.top2]))
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
                n = numbers(chunk.frame[self.n])
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


def _find(keys: list[str], names: set[str], *, suffix: bool = False) -> int | None:
    """The first column whose key is in ``names`` (with ``suffix``: or starts or ends with
    one, as in ``income_sum`` or ``mean_ldl``)."""
    for i, k in enumerate(keys):
        parts = k.split("_")
        if k in names or (suffix and (parts[-1] in names or parts[0] in names)):
            return i
    return None


class ModelDof:
    """Residual degrees of freedom in a model table, or a coefficient table without them."""

    @classmethod
    def for_table(cls, ctx: TableContext) -> ModelDof | None:
        keys = [_key(n) for n in ctx.names]
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
            values = numbers(chunk.frame[col])
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
        if not self.columns and not self.ctx.sink.has(RULE_DOF):
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
    rb"Df Residuals:?[\s\",;|]*(\d+)|Residual.{0,80}? on (\d+) degrees of freedom"
    rb"|df_resid\W{1,3}(\d+)",
    re.I,
)


def dof_in_text(data: bytes) -> Iterator[tuple[int, int]]:
    """(offset, residual degrees of freedom) printed in model summaries (statsmodels, R)."""
    if b"esid" not in data:  # Residual(s), df_resid: one scan of the block
        return
    for m in _DOF_TEXT.finditer(data):
        yield m.start(), int(next(g for g in m.groups() if g))


class TextDof:
    """Model summaries pasted into a table (e.g. statsmodels summary().tables[0] as CSV)."""

    def __init__(self, ctx: TableContext) -> None:
        self.ctx = ctx

    def feed(self, chunk: Chunk) -> None:
        if chunk.raw is None:
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
