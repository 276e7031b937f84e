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

- kind: the kind registry's name for the table (airlock/checks/kinds.toml), e.g.
  ``plink2.afreq`` or ``discovery.allele_frequencies``; for a kind recognised by its content
  (``counts``, ``variants``) that name with the table's header, its key and count column
  names: ``counts(region,sex|n)``;
- row keys: for a per-variant kind its chromosome, position, variant, allele and label columns;
  otherwise the values of the table's label columns (text and whole-number columns that are
  not counts), or the row number in a table without labels;
- counts: the columns that count people or alleles: the registry's roles for a recognised
  kind (``TableContext.count_columns``), else the columns the count rules decide count people
  over the whole table (``TableContext.people_counts``, from ``count_candidates``).

A large table is recorded as every k-th row (k doubling as it grows, at most
:data:`MAX_ROWS` rows kept); the comparison of a new table reads every one of its rows.
"""

from __future__ import annotations

import types
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airlock.checks.cells import Chunk, TableContext, norm, report_cells, show
from airlock.checks.findings import FindingSink, Verdict
from airlock.checks.released import LedgerEntry, TableRecord

RULE_DIFFERENCING = "differencing"

#: rows of one table kept in the ledger
MAX_ROWS = 4096

_SEP = "\x1f"
#: the roles that name a variant row (its key in the ledger; a label such as STRATUM too)
_KEY_ROLES = ("chromosome", "position", "variant", "allele", "label")


def table_kind(ctx: TableContext, keys: list[int], counts: list[int]) -> str:
    """The kind registry's name for the table; for a kind recognised by content (or not yet),
    that name with the table's key and count columns."""
    kind = ctx.recognition.kind if ctx.recognition is not None else None
    if kind is not None and not kind.generic:
        return kind.name
    names = [norm(ctx.names[i]) for i in keys], [norm(ctx.names[i]) for i in counts]
    base = kind.name if kind is not None else "counts"
    return f"{base}({','.join(sorted(names[0]))}|{','.join(sorted(names[1]))})"


class DifferencingRule:
    """Records a table with counts, and compares it with earlier tables of its kind.

    Its ``finish`` runs after the count rules' (airlock.checks.tables), which decide over the
    whole table which candidate columns count people; comparisons are collected per column
    meanwhile and reported for those columns only."""

    def __init__(self, ctx: TableContext) -> None:
        self.ctx = ctx
        width = len(ctx.names)
        fixed = [i for i in ctx.count_columns if i < width]
        self.fixed = set(fixed)
        self.candidates = sorted(self.fixed | {i for i in ctx.count_candidates if i < width})
        roles = ctx.recognition.roles if ctx.recognition is not None else {}
        variant_keys = [i for i, r in sorted(roles.items()) if r.quantity in _KEY_ROLES]
        if fixed and variant_keys:
            self.keys = variant_keys
        else:
            self.keys = [i for i in range(width)
                         if i not in self.candidates and _label_column(ctx.first, i)]  # fmt: skip
        self.kind = table_kind(ctx, self.keys, self.candidates)
        self.earlier = ctx.context.ledger.by_kind.get(self.kind, ()) if self.candidates else ()
        self._old: dict[tuple[int, int], tuple[pa.Array, np.ndarray]] = {}
        #: findings per candidate column, reported at the end for the columns that count
        self._found: dict[int, FindingSink] = {}
        self.every = 1
        # every ``every``-th row kept, in arrays rather than one object per row (a few kept
        # strings from each chunk would keep its memory from being reused)
        self.kept_rows = np.zeros(0, dtype=np.int64)
        self.kept_keys = np.zeros(0, dtype=object)
        self.kept_counts = np.zeros((0, len(self.candidates)), dtype=np.float64)

    def _row_keys(self, chunk: Chunk, rows: np.ndarray | None = None) -> pa.Array:
        """The keys of a chunk's rows (of ``rows``, positions in the chunk, when given)."""
        at = np.arange(len(chunk)) if rows is None else rows
        if not self.keys:
            return pa.array([f"#{chunk.first_row + int(i)}" for i in at], pa.string())
        parts = [_key_strings(chunk, i, None if rows is None else pa.array(rows))
                 for i in self.keys]  # fmt: skip
        if len(parts) == 1:
            return parts[0]
        return pc.binary_join_element_wise(*parts, _SEP)

    def feed(self, chunk: Chunk) -> None:
        if not self.candidates or len(chunk) == 0:
            return
        width = chunk.width
        counts = np.column_stack(
            [chunk.numbers(i) if i < width else np.full(len(chunk), np.nan)
             for i in self.candidates]
        )  # fmt: skip
        # every row's key only when there are earlier tables to compare with; else the kept
        # rows' only
        keys = self._row_keys(chunk) if self.earlier else None
        for e, entry in enumerate(self.earlier):
            self._compare(chunk, keys, counts, e, entry)
        self._keep(chunk, keys, counts)

    def _keep(self, chunk: Chunk, keys: pa.Array | None, counts: np.ndarray) -> None:
        while True:
            # the rows whose number is a multiple of ``every``
            new = np.arange((-chunk.first_row) % self.every, len(counts), self.every)
            old = self.kept_rows % self.every == 0
            if np.count_nonzero(old) + new.size <= MAX_ROWS:
                break
            self.every *= 2
        chosen = keys.take(pa.array(new)) if keys is not None else self._row_keys(chunk, new)
        kept = np.array(chosen.to_pylist(), dtype=object)
        self.kept_rows = np.concatenate([self.kept_rows[old], chunk.first_row + new])
        self.kept_keys = np.concatenate([self.kept_keys[old], kept])
        self.kept_counts = np.concatenate([self.kept_counts[old], counts[new]])

    def _old_counts(self, e: int, entry: LedgerEntry, column: int) -> tuple[pa.Array, np.ndarray]:
        """The earlier table's row keys and the counts of one of its columns."""
        if (e, column) not in self._old:
            rows = entry.record.rows
            values = np.array([_number(v[column]) for v in rows.values()], dtype=np.float64)
            self._old[e, column] = (pa.array(list(rows), pa.string()), values)
        return self._old[e, column]

    def _compare(
        self, chunk: Chunk, keys: pa.Array, counts: np.ndarray, e: int, entry: LedgerEntry
    ) -> None:
        earlier = [norm(c) for c in entry.record.count_columns]
        t = self.ctx.config.min_cell_count
        for j, col in enumerate(self.candidates):
            name = norm(self.ctx.names[col])
            if name not in earlier:
                continue
            old_keys, old_values = self._old_counts(e, entry, earlier.index(name))
            at = pc.index_in(keys, value_set=old_keys).to_numpy(zero_copy_only=False)
            found = ~np.isnan(at.astype(np.float64))
            old = np.full(len(keys), np.nan)
            old[found] = old_values[at[found].astype(np.int64)]
            new = counts[:, j]
            with np.errstate(invalid="ignore"):
                diff = np.abs(new - old)
                close = (diff > 0) & (diff < t)
            if close.any():
                sink = self._found.setdefault(col, FindingSink(self.ctx.sink.cap))
                report_cells(
                    sink,
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
        counted = self.fixed | set(self.ctx.people_counts)
        chosen = [j for j, col in enumerate(self.candidates) if col in counted]
        for col, found in self._found.items():
            if col in counted:
                self.ctx.sink.merge(found)
        if not chosen or rows == 0:
            return
        kept = self.kept_counts[:, chosen]
        self.ctx.sink.add_table(
            TableRecord(
                kind=self.kind,
                key_columns=tuple(self.ctx.names[i] for i in self.keys),
                count_columns=tuple(self.ctx.names[self.candidates[j]] for j in chosen),
                rows=types.MappingProxyType(
                    {
                        str(k): tuple(None if np.isnan(v) else float(v) for v in values)
                        for k, values in zip(self.kept_keys, kept, strict=True)
                    }
                ),
                total_rows=rows,
                every=self.every,
            )
        )


def _label_column(first: Chunk, i: int) -> bool:
    """Text, or whole numbers (years, positions): values that name a row, not measure it."""
    if i >= first.width:
        return False
    if first.texts(i) is not None:
        return True
    t = first.table.schema.field(i).type
    if pa.types.is_integer(t):
        return True
    if pa.types.is_floating(t):
        values = first.numbers(i)
        present = values[~np.isnan(values)]
        return present.size > 0 and bool(np.all(present == np.floor(present)))
    return False


def _key_strings(chunk: Chunk, i: int, rows: pa.Array | None = None) -> pa.Array:
    """A label column as strings, the same whether it was read as text, integers or floats
    (its ``rows`` only, when given)."""
    n = len(chunk) if rows is None else len(rows)
    if i >= chunk.width:
        return pa.array([""] * n, pa.string())
    texts = chunk.texts(i)
    if texts is not None:
        texts = texts if rows is None else texts.take(rows)
        return pc.fill_null(pc.utf8_trim_whitespace(texts.cast(pa.string())), "")
    col = chunk.column(i)
    if pa.types.is_floating(col.type):
        values = chunk.numbers(i)
        values = values if rows is None else values[rows.to_numpy()]
        whole = np.where(np.isnan(values), 0, values)
        ints = pa.array(whole.astype(np.int64), mask=np.isnan(values))
        return pc.fill_null(ints.cast(pa.string()), "")
    col = col if rows is None else col.take(rows)
    return pc.fill_null(col.cast(pa.string()), "")


def _number(value: float | None) -> float:
    return np.nan if value is None else float(value)


def table_rules(ctx: TableContext) -> Iterator[object]:
    yield DifferencingRule(ctx)
