"""In-memory tables (a JSON table, an HTML table, a notebook's DataFrame) through every table
rule, as the delimited ones go."""

from __future__ import annotations

import io
import warnings

import pandas as pd

from airlock.checks.cells import arrow_table, chunk_of, plain_columns
from airlock.checks.context import CheckContext
from airlock.checks.findings import FindingSink
from airlock.checks.tabular import check_table


def check_frame(
    frame: pd.DataFrame,
    context: CheckContext,
    sink: FindingSink,
    *,
    where: str = "",
    what: str = "the table",
) -> None:
    """All table rules on an in-memory table (JSON, HTML, notebook output)."""
    names = [_column_name(c) or f"column {j + 1}" for j, c in enumerate(frame.columns)]
    table = arrow_table(plain_columns(frame))
    with sink.at(where):
        check_table(names, [chunk_of(table)], context, sink, delimiter=",", what=what)


def _column_name(label: object) -> str:
    """A column label as text; multi-level labels (from HTML tables) without pandas'
    'Unnamed: ...' placeholders."""
    parts = label if isinstance(label, tuple) else (label,)
    kept = [str(p) for p in parts if not str(p).startswith("Unnamed:")]
    return " ".join(kept)


def html_tables(html: str, context: CheckContext, sink: FindingSink, where: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tables = pd.read_html(io.StringIO(html))
    except (ValueError, ImportError):
        return
    for k, table in enumerate(tables, start=1):
        where_k = f"{where} table {k}" if where else ""
        check_frame(table, context, sink, where=where_k, what=f"HTML table {k}")
