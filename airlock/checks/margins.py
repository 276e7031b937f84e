"""Rules that need a small table whole (up to 5,000 rows and 200 columns): rows labelled as
counts (a Table 1's N row, ``describe()``'s count), suppressed cells recovered from totals,
totals that reveal a small remainder, minima and maxima, and whether the table is a PCA's
explained variance."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airlock.checks.cells import Chunk, TableContext, key, show
from airlock.checks.findings import Location, Verdict
from airlock.checks.tables import (
    NUMBER_WORDS,
    RULE_DERIVED,
    RULE_MIN_CELL,
    count_label,
    counts_things,
    percent_name,
    proportion_name,
    tokens,
)

RULE_MARGINS = "min-cell-count.margins"
RULE_EXTREMES = "extreme-values"
_EXTREME = {"min", "max", "minimum", "maximum", "lowest", "highest", "youngest", "oldest",
            "smallest"}  # fmt: skip
_TOTAL_LABEL = re.compile(r"^\s*(grand\s+)?(total|totals|all|overall|sum)\s*$", re.I)
_SUPPRESSED = re.compile(
    r"^\s*([<≤]=?\s*\d+|\*{1,3}|x|\[[cxz]\]|c|suppressed|redacted|masked|small)\s*$", re.I
)
#: small tables are kept whole for the margin, row and transposition rules
WHOLE_TABLE_ROWS = 5000
WHOLE_TABLE_COLUMNS = 200


def _number(whole: Chunk, values: list[np.ndarray], col: int, row: int) -> float:
    """A cell as a number: a count written as a word ('three') too, as a Table 1 may."""
    value = values[col][row]
    texts = whole.texts(col) if np.isnan(value) else None
    if texts is not None and (text := texts[row].as_py()) is not None:
        return float(NUMBER_WORDS.get(text.strip().lower(), np.nan))
    return float(value)


class WholeTable:
    """Rules that need a small table whole: rows labelled as counts, margins with suppressed
    cells, extremes, and what the table is (a PCA's variance)."""

    def __init__(self, ctx: TableContext) -> None:
        self.ctx = ctx
        small = ctx.one_chunk and len(ctx.names) <= WHOLE_TABLE_COLUMNS
        self.parts: list[pa.Table] | None = [] if small else None
        self.rows = 0
        rec = ctx.recognition
        per_variant = bool(rec and rec.per_variant)
        # a registered tool's column is what its kind says (SAIGE-GENE's max_MAF: a cut-off)
        declared = set(rec.roles) if rec and rec.kind and not rec.kind.generic else set()
        self.extremes = [
            i for i, n in enumerate(ctx.names)
            if set(tokens(n)) & _EXTREME and not per_variant and i not in ctx.claimed
            and i not in declared
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
            if not counts_things(ctx):  # totals of jobs or files say nothing of people
                self._margins(whole, labels)

    def _labelled_rows(self, whole: Chunk, labels: list[str | None]) -> None:
        ctx = self.ctx
        t = ctx.config.min_cell_count
        label_col = _label_column(whole)
        values = [whole.numbers(j) for j in range(whole.width)]
        things = counts_things(ctx)  # a total of jobs is not a count of people
        denominators: dict[int, float] = {}  # column -> the N of its row labelled N
        for i, label in enumerate(labels):
            if label is None:
                continue
            words = tokens(label)
            if (
                _TOTAL_LABEL.match(label) is None
                and words
                and (
                    words[0] in _EXTREME or words[-1] in _EXTREME  # 'max', 'min_age', 'Age, max'
                )
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
            if things or not count_label(label):
                continue
            cells = [(j, v) for j in range(whole.width) if j != label_col
                     and not np.isnan(v := _number(whole, values, j, i))]  # fmt: skip
            if not cells or not all(v >= 0 and float(v).is_integer() for _, v in cells):
                continue
            ctx.row_counts = True
            for j, v in cells:
                denominators.setdefault(j, v)
                if 0 < v < t:
                    ctx.sink.add(
                        RULE_MIN_CELL,
                        Verdict.BLOCK,
                        f"{label}, {ctx.names[j]}: {show(v)} people is below the minimum of "
                        f"{t} per non-zero cell. Suppress or merge small groups, then check "
                        "again.",
                        Location(row=i + 1, column=ctx.names[j], value=show(v)),
                    )

        if denominators:
            self._derived_rows(labels, values, denominators, label_col)

    def _derived_rows(self, labels: list[str | None], values: list[np.ndarray],
                      denominators: dict[int, float], label_col: int) -> None:  # fmt: skip
        """Rows of shares ('smokers, %') under a row labelled N: a share times its column's
        N is a count of people (the transpose of a share column beside an N column)."""
        ctx = self.ctx
        t = ctx.config.min_cell_count
        for i, label in enumerate(labels):
            if label is None or not proportion_name(label) or count_label(label):
                continue
            percent = percent_name(label)
            for j, n in denominators.items():
                share = values[j][i]
                if np.isnan(share) or share <= 0 or n <= 0:
                    continue
                scale = 100.0 if percent or share > 1 else 1.0
                count = round(share / scale * n)
                if share <= scale and 0 < count < t:
                    ctx.sink.add(
                        RULE_DERIVED,
                        Verdict.BLOCK,
                        f"{label}, {ctx.names[j]}: {show(share)} of N {show(n)} is about "
                        f"{count} people, below the minimum of {t}. A share and its "
                        "denominator give the count: suppress the share or merge groups.",
                        Location(row=i + 1, column=ctx.names[j], value=show(share)),
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


def table_rules(ctx: TableContext) -> Iterator[object]:
    yield WholeTable(ctx)
