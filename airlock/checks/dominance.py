"""Dominance in magnitude tables (sums or means) with contributor columns: the p% and N-k
rules, as ACRO defines them (see airlock.checks.tables)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from airlock.checks.cells import Chunk, TableContext, key, report_cells, show
from airlock.checks.findings import Verdict
from airlock.checks.tables import count_name

RULE_P_PERCENT = "dominance.p-percent"
RULE_NK = "dominance.nk"
RULE_DOMINANCE_UNCHECKED = "dominance.unchecked"
_TOP1 = {"largest", "top1", "top_1", "max", "maximum", "largest_contribution", "first_largest"}
_TOP2 = {"second_largest", "top2", "top_2", "second", "second_largest_contribution"}
_TOP2SUM = {"top_2_sum", "top2_sum", "largest_2_sum", "sum_top_2", "sum_top2", "top_n_sum"}


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
        if (
            mean is None
            and None in (top1, top2)
            and topsum is None
            and (_margin(ctx, total) or _people_total(ctx, keys, total))
        ):
            return None  # a crosstab's margin (Stata's 'Total' column), not a magnitude
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


def _margin(ctx: TableContext, column: int) -> bool:
    """Whether ``column`` is the sum of the table's other numeric columns on every row of its
    first rows: a crosstab's total (cases, controls, total), not a magnitude."""
    first = ctx.first
    others = _numeric_others(first, column)
    if not others or len(first) == 0:
        return False
    total = first.numbers(column)
    cells = np.column_stack([first.numbers(i) for i in others])
    if np.isnan(cells).any() or np.isnan(total).any():
        return False
    return bool(np.allclose(cells.sum(axis=1), total))


def _numeric_others(first: Chunk, column: int) -> list[int]:
    """The table's numeric columns other than ``column``."""
    return [i for i in range(first.width) if i != column and first.is_numeric(i)]


#: the columns of a crosstab's remaining categories: counted as the named ones are
_REST = {"other", "others", "unknown", "missing", "rest", "none", "not_reported", "not_known"}


def _people_total(ctx: TableContext, keys: list[str], column: int) -> bool:
    """Whether ``column`` is named just 'total', holds whole numbers, and every other numeric
    column counts people (cases, controls): a number of people, which the count rules check
    (a 'total' of 5 blocks), not a magnitude, even where it is not their sum. Renamed, such a
    table is read as counts; a magnitude is named for what it sums (``total_income``)."""
    first = ctx.first
    if keys[column] != "total" or len(first) == 0:
        return False
    others = _numeric_others(first, column)
    if not others or not all(count_name(ctx.names[i]) or keys[i] in _REST for i in others):
        return False
    values = first.numbers(column)
    values = values[~np.isnan(values)]
    return bool(len(values)) and bool(np.all((values >= 0) & (values == np.round(values))))


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


def table_rules(ctx: TableContext) -> Iterator[object]:
    # first, so that the magnitude and contribution columns are not read as counts of people
    if (dominance := Dominance.for_table(ctx)) is not None:
        yield dominance
