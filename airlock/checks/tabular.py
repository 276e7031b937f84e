"""The table driver: a table's chunks streamed once through every table rule, with bounded
state, whatever the table came from (delimited text, Parquet, JSON, a Markdown, LaTeX or HTML
table, R's console output), and what it was recognised as (airlock.checks.kinds).

A table is first recognised by its columns (a registered tool's output, confirmed by its first
rows); a small table that is not may be the transpose of one (variables as rows). After the
rules have read it all, a table of no registered kind is recognised by its content: counts of
people (a crosstab, a Table 1), or a PCA's explained variance. Anything else is recorded as
unrecognised, which the file's verdict turns into a review at least (default deny).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import itertools
from collections.abc import Iterable

import pyarrow as pa

from airlock.checks import (
    differencing,
    dominance,
    formulas,
    genomics,
    identifiers,
    individuals,
    margins,
    models,
    tables,
)
from airlock.checks.cells import NUMBER, Chunk, TableContext, chunk_of, key
from airlock.checks.context import CheckContext
from airlock.checks.findings import FindingSink, Location, Verdict
from airlock.checks.kinds import (
    Recognition,
    content_mismatch,
    kind_named,
    name_headerless,
    recognise_columns,
)
from airlock.checks.size import check_rows

#: rules that read only the chunk's bytes, each chunk in a worker thread while the other rules
#: read it (NumPy releases the GIL), with findings of their own merged at the end
BYTE_RULE_FACTORIES = (identifiers.table_rules,)
#: every other table rule, in the order they see a chunk; their ``finish`` runs in the same
#: order (the individual-level rules last: they use what the count rules found)
RULE_FACTORIES = (
    formulas.table_rules,
    genomics.table_rules,
    dominance.table_rules,
    models.table_rules,
    tables.table_rules,
    margins.table_rules,
    individuals.table_rules,
    differencing.table_rules,  # after tables: its finish reads the count columns they decided
)

RULE_INDIVIDUAL_KIND = "individual-level.kind"


def empty_chunk(width: int) -> Chunk:
    arrays = [pa.nulls(0, pa.string()) for _ in range(width)]
    return Chunk(pa.Table.from_arrays(arrays, names=[str(j) for j in range(width)]), 1, b"")


def check_table(
    names: list[str],
    chunks: Iterable[Chunk],
    context: CheckContext,
    sink: FindingSink,
    *,
    delimiter: str | None = None,
    encoding: str = "utf-8",
    header_row: bool = False,
    file_name: str = "",
    what: str = "the table",
    known_dof: Iterable[int] = (),
    transpose: bool = True,
) -> int:
    """Run every table rule over ``chunks`` (bounded state); returns the number of data rows.
    ``header_row``: the names were read from the file's first row (which could be data)."""
    chunks = iter(chunks)
    if (col := genomics.vcftools_column(names)) is not None:
        names, chunks = names[: col + 1], (genomics.vcftools_chunk(names, c, col) for c in chunks)
    first = next(chunks, None)
    if first is None:
        first = empty_chunk(len(names))
    second = next(chunks, None)
    ctx = TableContext(names, first, context, sink, delimiter=delimiter, encoding=encoding,
                       file_name=file_name, known_dof=list(known_dof))  # fmt: skip
    ctx.one_chunk = second is None
    numbered = not header_row and names == [str(j + 1) for j in range(len(names))]
    if numbered and (named := name_headerless(names, first, context.config)) is not None:
        names = ctx.names = named  # a tool that writes no header (a registry kind)
    ctx.recognition = recognise(names, first, context.config, file_name)
    if ctx.recognition.kind is None and transpose and second is None:
        turned = transposed(names, first)
        if turned is not None:
            t_names, t_chunk = turned
            if recognise(t_names, t_chunk, context.config, file_name).kind is not None:
                return check_table(
                    t_names, [t_chunk], context, sink, delimiter=",", encoding=encoding,
                    file_name=file_name, what=f"{what} (read with rows as columns)",
                    known_dof=known_dof, transpose=False,
                )  # fmt: skip
    kind = ctx.recognition.kind
    if kind is not None and kind.layout == "individual-level":
        sink.add(
            RULE_INDIVIDUAL_KIND,
            Verdict.BLOCK,
            f"This is {kind.title}: individual-level data, which never leaves the node. "
            f"{kind.note} Release aggregates over groups of people instead.".replace("  ", " "),
            Location(row=0),
        )
    rules = [rule for factory in RULE_FACTORIES for rule in factory(ctx)]
    side_sink = FindingSink(sink.cap)
    side_ctx = dataclasses.replace(ctx, sink=side_sink)
    side_rules = [rule for factory in BYTE_RULE_FACTORIES for rule in factory(side_ctx)]
    if header_row:
        tables.check_numeric_names(ctx)
    # what the rules read at the end needs the first rows only: the first chunk can go
    ctx.first = first_rows(first)
    rows = 0
    rest = [second] if second is not None else []
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="airlock-bytes") as pool:
        for chunk in itertools.chain([first], rest, chunks):
            side = pool.submit(_feed, side_rules, chunk)
            _feed(rules, chunk)
            side.result()
            rows += len(chunk)
    for rule in (*rules, *side_rules):
        rule.finish(rows)
    sink.merge(side_sink)
    settle(ctx, rows, what)
    kind = ctx.recognition.kind
    if not (kind is not None and kind.summary_statistics):
        check_rows(rows, context.config, sink)
    return rows


#: rows of the first chunk kept while the rest is read (a small table is all of them)
FIRST_ROWS = margins.WHOLE_TABLE_ROWS


def first_rows(chunk: Chunk) -> Chunk:
    if len(chunk) <= FIRST_ROWS:
        return chunk
    return Chunk(chunk.table.slice(0, FIRST_ROWS), chunk.first_row)


def recognise(names: list[str], first: Chunk, config, file_name: str = "") -> Recognition:
    """What a table is, from its columns and first rows (before reading the rest)."""
    rec = recognise_columns(names, first, config, file_name)
    if rec.kind is not None or rec.reason:
        return rec
    if genomics.is_per_variant(names):
        roles = genomics.generic_roles(names)
        if genomics.checkable(roles, names):
            kind = kind_named(config, "variants")
            if mismatch := content_mismatch(kind, roles, names, first):
                return Recognition(reason=f"its columns are named like a per-variant table, but "
                                   f"{mismatch}")  # fmt: skip
            return Recognition(kind, roles)
    if models.is_model_table(names):
        return Recognition(kind_named(config, "model"))
    return Recognition()


def _feed(rules: list, chunk: Chunk) -> None:
    for rule in rules:
        rule.feed(chunk)


def settle(ctx: TableContext, rows: int, what: str) -> None:
    """Record what the table was recognised as, now that it has been read whole."""
    rec = ctx.recognition
    sink = ctx.sink
    if rec.kind is None and not rec.reason:  # a table that failed its own kind stays so
        if ctx.people_counts or ctx.row_counts:
            rec.kind = kind_named(ctx.config, "counts")
        elif margins.variance_table(ctx, rows):
            rec.kind = kind_named(ctx.config, "variance")
    if rec.kind is not None:
        sink.recognised(what, rec.kind.name, summary_statistics=rec.kind.summary_statistics)
        return
    shown = ", ".join(n for n in ctx.names[:8]) + (", ..." if len(ctx.names) > 8 else "")
    reason = rec.reason or (
        f"its columns ({shown}) are not those of a registered tool's output, and it has no "
        "column or row of counts of people"
    )
    sink.unrecognised(what, reason)


def transposed(names: list[str], chunk: Chunk) -> tuple[list[str], Chunk] | None:
    """A small table with variables as rows turned back: the first column's values become the
    column names."""
    if len(chunk) == 0 or len(chunk) > 200 or chunk.width < 2 or chunk.width > 500:
        return None
    labels = [str(v) if v is not None else "" for v in chunk.column(0).to_pylist()]
    if not labels[0]:  # a header row read as data (its first cell, the corner, is empty)
        labels[0] = "column 1"
    if not all(labels) or len({key(label) for label in labels}) < len(labels):
        return None
    rows = [[names[j], *(_text(v) for v in chunk.column(j).to_pylist())]
            for j in range(1, chunk.width)]  # fmt: skip
    new_names = [names[0], *labels]
    arrays = [pa.array([r[k] for r in rows], type=pa.string()) for k in range(len(new_names))]
    table = pa.Table.from_arrays(arrays, names=[str(k) for k in range(len(new_names))])
    return new_names, chunk_of(_typed(table))


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _typed(table: pa.Table) -> pa.Table:
    """Text columns whose cells are all numbers, as numbers."""
    import pyarrow.compute as pc

    arrays = []
    for col in table.columns:
        arr = col.combine_chunks()
        valid = pc.drop_null(arr)
        for pattern, kind in ((r"^\s*[-+]?\d+\s*$", pa.int64()), (NUMBER, pa.float64())):
            if len(valid) and pc.all(pc.match_substring_regex(valid, pattern)).as_py():
                try:
                    arr = pc.cast(pc.utf8_trim_whitespace(arr), kind)
                    break
                except pa.ArrowInvalid:  # too large for int64: try the next
                    continue
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, names=table.column_names)
