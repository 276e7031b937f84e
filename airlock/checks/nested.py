"""Parquet tables, nested types included: struct columns are read as their fields, short lists
as one column per item (``pcs[1]`` ... ``pcs[10]``), and long lists as vectors, which are
individual-level when they have about one item per person of a dataset (a genotype vector per
variant) or hold genotype codes; other nested values are shown to reviewers as JSON text.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from airlock.checks.cells import chunk_of
from airlock.checks.context import CheckContext
from airlock.checks.findings import FindingSink, Location, Verdict
from airlock.checks.individuals import RULE_GENOTYPES, RULE_ONE_COLUMN, near
from airlock.checks.layout import check_parquet_layout
from airlock.checks.reading import Unreadable

RULE_NESTED = "nested-values"
#: lists up to this long are spread into one column per item
_SPREAD = 32
BATCH_ROWS = 65536


def check_parquet(f: BinaryIO, context: CheckContext, sink: FindingSink, name: str = "") -> None:
    from airlock.checks.tabular import check_table

    def damaged(e: Exception) -> Unreadable:
        return Unreadable(f"the Parquet file is damaged or truncated ({e}); write it again")

    try:
        pf = pq.ParquetFile(f)
        schema = pf.schema_arrow
    except (pa.ArrowException, OSError, ValueError) as e:
        raise damaged(e) from None
    size = f.seek(0, 2)
    f.seek(size - 8)
    check_parquet_layout(pf, size, int.from_bytes(f.read(4), "little"), sink)
    _scan_metadata(schema, pf.metadata, context, sink)
    widths = _list_widths(pf) if any(_has_list(fl.type) for fl in schema) else {}
    names = flat_names(schema, widths)
    reported: set[str] = set()

    def chunks():
        row = 1
        try:
            for batch in pf.iter_batches(batch_size=BATCH_ROWS):
                table = flatten(pa.Table.from_batches([batch]), widths, context, sink, reported)
                yield chunk_of(table, row)
                row += table.num_rows
        except (pa.ArrowException, OSError, ValueError) as e:
            raise damaged(e) from None

    check_table(names, chunks(), context, sink, delimiter=",", file_name=name)


def _scan_metadata(
    schema: pa.Schema, md: pq.FileMetaData, context: CheckContext, sink: FindingSink
) -> None:
    """The key-value metadata of the file, of its columns and of its column chunks, and the
    name of the writer, scanned as text: they leave with the file, though no table shows them
    ({'note': 'excluded DK000017'})."""
    from airlock.checks.text import scan_text

    pieces = [schema.metadata or {}, *((fl.metadata or {}) for fl in schema)]
    pieces += [
        md.row_group(i).column(j).metadata or {}
        for i in range(md.num_row_groups)
        for j in range(md.num_columns)
    ]
    pieces.append({b"created_by": (md.created_by or "").encode()})
    text = b"\n".join(k + b": " + v for meta in pieces for k, v in meta.items())
    if text:
        scan_text(text, text.decode("utf-8", "replace"), 1, context, sink,
                  column="Parquet metadata")  # fmt: skip


def _has_list(t: pa.DataType) -> bool:
    if pa.types.is_struct(t):
        return any(_has_list(t.field(i).type) for i in range(t.num_fields))
    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)


def _list_widths(pf: pq.ParquetFile) -> dict[str, int]:
    """The longest list in each list column (the whole file is read once for it)."""
    widths: dict[str, int] = {}
    for batch in pf.iter_batches(batch_size=BATCH_ROWS):
        table = pa.Table.from_batches([batch]).flatten()
        while any(pa.types.is_struct(c.type) for c in table.columns):
            table = table.flatten()
        for name, col in zip(table.column_names, table.columns, strict=True):
            if _has_list(col.type):
                lengths = pc.list_value_length(col)
                widths[name] = max(widths.get(name, 0), int(pc.max(lengths).as_py() or 0))
    return widths


def flat_names(schema: pa.Schema, widths: dict[str, int]) -> list[str]:
    names = []
    for fl in schema:
        names.extend(_field_names(fl.name, fl.type, widths))
    return names


def _field_names(name: str, t: pa.DataType, widths: dict[str, int]) -> list[str]:
    if pa.types.is_struct(t):
        out = []
        for i in range(t.num_fields):
            out.extend(_field_names(f"{name}.{t.field(i).name}", t.field(i).type, widths))
        return out
    if _has_list(t) and 0 < widths.get(name, 0) <= _SPREAD and _scalar_items(t):
        return [f"{name}[{k + 1}]" for k in range(widths[name])]
    return [name]


def _scalar_items(t: pa.DataType) -> bool:
    return not _has_list(t.value_type) and not pa.types.is_struct(t.value_type)


def flatten(
    table: pa.Table, widths: dict[str, int], context: CheckContext, sink: FindingSink,
    reported: set[str],
) -> pa.Table:  # fmt: skip
    """Struct fields as columns, short lists spread, long lists checked as vectors and kept as
    JSON text."""
    while any(pa.types.is_struct(c.type) for c in table.columns):
        table = table.flatten()
    arrays = []
    for name, col in zip(table.column_names, table.columns, strict=True):
        col = col.combine_chunks()
        t = col.type
        if _has_list(t) and 0 < widths.get(name, 0) <= _SPREAD and _scalar_items(t):
            arrays.extend(_spread(col, widths[name]))
        elif _has_list(t) or pa.types.is_map(t) or pa.types.is_union(t):
            _vectors(name, col, context, sink, reported)
            arrays.append(pa.array([None if v is None else str(v) for v in col.to_pylist()],
                                   type=pa.string()))  # fmt: skip
        elif pa.types.is_dictionary(t):
            arrays.append(col.cast(t.value_type))
        else:
            arrays.append(col)
    return pa.Table.from_arrays(arrays, names=[str(j) for j in range(len(arrays))])


def _spread(col: pa.Array, width: int) -> list[pa.Array]:
    lengths = pc.fill_null(pc.list_value_length(col), 0).to_numpy(zero_copy_only=False)
    values = pc.list_flatten(col)
    out = []
    starts = np.cumsum(lengths) - lengths
    for k in range(width):
        has = lengths > k
        idx = np.where(has, starts + k, 0)
        taken = values.take(pa.array(idx)) if len(values) else pa.nulls(len(col), values.type)
        out.append(pc.if_else(pa.array(has), taken, pa.scalar(None, values.type)))
    return out


def _vectors(name: str, col: pa.Array, context: CheckContext, sink: FindingSink,
             reported: set[str]) -> None:  # fmt: skip
    """A long list per row: one item per person, or genotype codes, is individual-level."""
    if name in reported or not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type)
                                or pa.types.is_fixed_size_list(col.type)):  # fmt: skip
        if name not in reported and not _has_list(col.type):
            reported.add(name)
            sink.add(RULE_NESTED, Verdict.REVIEW, _nested_message(name), Location(column=name))
        return
    reported.add(name)
    lengths = pc.fill_null(pc.list_value_length(col), 0).to_numpy(zero_copy_only=False)
    typical = int(np.median(lengths)) if lengths.size else 0
    people = [d.n_samples for d in context.datasets if d.n_samples]
    values = pc.list_flatten(col)
    numbers = (pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
               if pa.types.is_integer(values.type) or pa.types.is_floating(values.type)
               else np.empty(0))  # fmt: skip
    present = numbers[~np.isnan(numbers)] if numbers.size else numbers
    codes = (
        present.size >= 20
        and bool(np.all(np.isin(present, (0, 1, 2, -1, -9))))
        and bool(np.any(present == 2))
    )
    if any(near(typical, n) for n in people):
        sink.add(
            RULE_ONE_COLUMN,
            Verdict.BLOCK,
            f"Column {name} holds lists of about {typical:,} values per row, as many as a "
            "dataset on this node has people: a value per person in every row is "
            "individual-level data, which never leaves the node.",
            Location(column=name),
        )
    elif codes:
        sink.add(
            RULE_GENOTYPES,
            Verdict.BLOCK,
            f"Column {name} holds lists of genotype codes (0/1/2): genotypes per person are "
            "individual-level data, which never leaves the node.",
            Location(column=name),
        )
    else:
        sink.add(RULE_NESTED, Verdict.REVIEW, _nested_message(name), Location(column=name))


def _nested_message(name: str) -> str:
    return (
        f"Column {name} holds nested values (long lists or maps) that the rules cannot read "
        "as cells; a reviewer must look at them. Write one value per column instead."
    )
