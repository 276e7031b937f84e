"""Differencing: a table compared with the tables released before it.

Two releases of the same table whose counts differ by fewer than ``min_cell_count`` people in a
cell (N and N-1 participants) tell, by subtraction, about those few people, though each release
passes every other rule. So every table with counts of people is described by a
:class:`~airlock.checks.released.TableRecord` (its kind, row keys and counts), which the
service keeps in its release ledger when the file is released; and every new table is compared
with the earlier ones of the same kind that the caller put in :attr:`CheckContext.ledger` (a
:class:`~airlock.checks.released.LedgerView`): where the
rows match and a count differs by 1 to ``min_cell_count - 1``, the table is blocked, naming the
earlier release. A periodic release (the same table each month) is so compared with its own
earlier releases. The check stays pure: the service loads the relevant ledger rows
(airlock.checking).

- kind: the kind registry's name for the table when it gives one (``TableContext.kind``);
  until then the table's header: its key and count column names;
- row keys: the values of the table's label columns (text and whole-number columns that are
  not counts), or the row number in a table without labels;
- counts: the columns the table rules read as counts of people (``TableContext.count_columns``).

A large table is recorded as every k-th row (k doubling as it grows, at most
:data:`MAX_ROWS` rows kept); the comparison of a new table reads every one of its rows.
"""

from __future__ import annotations

import types
from collections.abc import Iterator

import numpy as np
import pandas as pd

from airlock.checks.cells import Chunk, TableContext, norm, numbers, report_cells, show
from airlock.checks.findings import Verdict
from airlock.checks.released import LedgerEntry, TableRecord

RULE_DIFFERENCING = "differencing"

#: rows of one table kept in the ledger
MAX_ROWS = 4096

_SEP = "\x1f"


def table_kind(ctx: TableContext, keys: list[int], counts: list[int]) -> str:
    """The kind registry's name for the table, else its header: key and count columns."""
    if ctx.kind:
        return ctx.kind
    names = [norm(ctx.names[i]) for i in keys], [norm(ctx.names[i]) for i in counts]
    return f"table({','.join(sorted(names[0]))}|{','.join(sorted(names[1]))})"


class DifferencingRule:
    """Records a table with counts of people, and compares it with earlier tables of its kind.

    Runs after the table rules that decide the count columns (airlock.checks.tables)."""

    def __init__(self, ctx: TableContext) -> None:
        self.ctx = ctx
        self.counts = [i for i in ctx.count_columns if i < len(ctx.names)]
        self.keys = [
            i for i in range(len(ctx.names)) if i not in self.counts and _label_column(ctx.first[i])
        ]
        self.kind = table_kind(ctx, self.keys, self.counts)
        self.earlier = ctx.context.ledger.by_kind.get(self.kind, ()) if self.counts else ()
        self._old: dict[tuple[int, int], pd.Series] = {}
        self.every = 1
        # every ``every``-th row kept, in arrays rather than one object per row (a few kept
        # strings from each chunk would keep its memory from being reused)
        self.kept_rows = np.zeros(0, dtype=np.int64)
        self.kept_keys = np.zeros(0, dtype=str)
        self.kept_counts = np.zeros((0, len(self.counts)), dtype=np.float64)

    def _row_keys(self, chunk: Chunk, rows: np.ndarray | None = None) -> pd.Series:
        """The keys of a chunk's rows (of ``rows``, positions in the chunk, when given)."""
        frame = chunk.frame if rows is None else chunk.frame.iloc[rows]
        if not self.keys:
            at = np.arange(len(chunk.frame)) if rows is None else rows
            return pd.Series([f"#{chunk.first_row + int(i)}" for i in at], dtype=object)
        parts = [_key_strings(frame[i]) for i in self.keys]
        return parts[0].str.cat(parts[1:], sep=_SEP) if len(parts) > 1 else parts[0]

    def feed(self, chunk: Chunk) -> None:
        if not self.counts or chunk.frame.empty:
            return
        counts = np.column_stack([numbers(chunk.frame[i]) for i in self.counts])
        if self.earlier:
            keys = self._row_keys(chunk)
            for e, entry in enumerate(self.earlier):
                self._compare(chunk, keys, counts, e, entry)
        self._keep(chunk, counts)

    def _keep(self, chunk: Chunk, counts: np.ndarray) -> None:
        rows = chunk.first_row + np.arange(len(counts))
        while True:
            new = np.flatnonzero(rows % self.every == 0)
            old = self.kept_rows % self.every == 0
            if np.count_nonzero(old) + new.size <= MAX_ROWS:
                break
            self.every *= 2
        keys = self._row_keys(chunk, new).to_numpy(dtype=str)
        self.kept_rows = np.concatenate([self.kept_rows[old], rows[new]])
        self.kept_keys = np.concatenate([self.kept_keys[old], keys])
        self.kept_counts = np.concatenate([self.kept_counts[old], counts[new]])

    def _old_counts(self, e: int, entry: LedgerEntry, column: int) -> pd.Series:
        """The earlier table's counts of one column, by row key."""
        if (e, column) not in self._old:
            rows = entry.record.rows
            values = [_number(v[column]) for v in rows.values()]
            self._old[e, column] = pd.Series(values, index=list(rows), dtype=np.float64)
        return self._old[e, column]

    def _compare(
        self, chunk: Chunk, keys: pd.Series, counts: np.ndarray, e: int, entry: LedgerEntry
    ) -> None:
        earlier = [norm(c) for c in entry.record.count_columns]
        t = self.ctx.config.min_cell_count
        for j, col in enumerate(self.counts):
            name = norm(self.ctx.names[col])
            if name not in earlier:
                continue
            old_counts = self._old_counts(e, entry, earlier.index(name))
            old = keys.map(old_counts).to_numpy(dtype=np.float64, na_value=np.nan)
            new = counts[:, j]
            with np.errstate(invalid="ignore"):
                diff = np.abs(new - old)
                close = (diff > 0) & (diff < t)
            if close.any():
                report_cells(
                    self.ctx.sink,
                    RULE_DIFFERENCING,
                    Verdict.BLOCK,
                    close,
                    chunk,
                    self.ctx.names[col],
                    new,
                    lambda i, n=new, o=old, c=col: self._message(chunk, i, c, n[i], o[i], entry),
                )

    def _message(self, chunk: Chunk, i: int, col: int, new: float, old: float, entry) -> str:
        t = self.ctx.config.min_cell_count
        diff = show(abs(new - old))
        return (
            f"{self.ctx.label(chunk, i)}, {self.ctx.names[col]}: {show(new)} here and "
            f"{show(old)} in {entry.label}, a table of the same kind with the same rows. The "
            f"difference, {diff}, is fewer than {t} people, so comparing the two releases tells "
            f"about those {diff} (differencing). Make every cell differ by 0 or at least {t} "
            "(the same population, or merged categories), or explain to the reviewers why the "
            "two releases cannot be combined."
        )

    def finish(self, rows: int) -> None:
        if not self.counts or rows == 0:
            return
        self.ctx.sink.add_table(
            TableRecord(
                kind=self.kind,
                key_columns=tuple(self.ctx.names[i] for i in self.keys),
                count_columns=tuple(self.ctx.names[i] for i in self.counts),
                rows=types.MappingProxyType(
                    {
                        str(k): tuple(None if np.isnan(v) else float(v) for v in values)
                        for k, values in zip(self.kept_keys, self.kept_counts, strict=True)
                    }
                ),
                total_rows=rows,
                every=self.every,
            )
        )


def _label_column(series: pd.Series) -> bool:
    """Text, or whole numbers (years, positions): values that name a row, not measure it."""
    if series.dtype == object:
        return True
    if series.dtype.kind in "iu":
        return True
    if series.dtype.kind == "f":
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        present = values[~np.isnan(values)]
        return present.size > 0 and bool(np.all(present == np.floor(present)))
    return False


def _key_strings(series: pd.Series) -> pd.Series:
    """A label column as strings, the same whether it was read as text, integers or floats."""
    series = series.reset_index(drop=True)
    if series.dtype.kind == "f":
        return series.astype("Int64").astype(str).replace("<NA>", "")
    if series.dtype.kind in "iu":
        return series.astype(str)
    return series.fillna("").astype(str).str.strip()


def _number(value: float | None) -> float:
    return np.nan if value is None else float(value)


def table_rules(ctx: TableContext) -> Iterator[object]:
    yield DifferencingRule(ctx)
