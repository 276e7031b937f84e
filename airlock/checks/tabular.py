"""The table driver: a table's chunks streamed once through every table rule, with bounded
state, whatever the table came from (delimited text, Parquet, a JSON array, an HTML table in a
notebook). The rules live in individuals, identifiers, formulas, genomics and tables."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import pandas as pd

from airlock.checks import differencing, formulas, genomics, identifiers, individuals, tables
from airlock.checks.cells import Chunk, TableContext
from airlock.checks.context import CheckContext
from airlock.checks.findings import FindingSink
from airlock.checks.size import check_rows

#: every table rule, in the order they see a chunk; each yields its rules for one table
RULE_FACTORIES = (
    individuals.table_rules,
    identifiers.table_rules,
    formulas.table_rules,
    genomics.table_rules,
    tables.table_rules,
    differencing.table_rules,  # after tables: it reads the count columns they decided
)


def check_table(
    names: list[str],
    chunks: Iterable[Chunk],
    context: CheckContext,
    sink: FindingSink,
    *,
    delimiter: str | None = None,
    encoding: str = "utf-8",
    header_row: bool = False,
) -> int:
    """Run every table rule over ``chunks`` (bounded state); returns the number of data rows.
    ``header_row``: the names were read from the file's first row (which could be data)."""
    chunks = iter(chunks)
    first = next(chunks, None)
    frame = first.frame if first is not None else pd.DataFrame(columns=range(len(names)))
    ctx = TableContext(names, frame, context, sink, delimiter=delimiter, encoding=encoding)
    ctx.per_variant = genomics.is_per_variant(ctx.normed)
    rules = [rule for factory in RULE_FACTORIES for rule in factory(ctx)]
    if header_row:
        tables.check_numeric_names(ctx)
    rows = 0
    for chunk in itertools.chain([first] if first is not None else [], chunks):
        for rule in rules:
            rule.feed(chunk)
        rows += len(chunk.frame)
    for rule in rules:
        rule.finish(rows)
    check_rows(rows, context.config, sink)
    return rows
