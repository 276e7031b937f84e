"""In-memory tables (a JSON table, an HTML table, a notebook's DataFrame) through every table
rule, as the delimited ones go."""

from __future__ import annotations

import io
import warnings

import pandas as pd

from airlock.checks.cells import arrow_table, chunk_of, plain_columns
from airlock.checks.context import CheckContext
from airlock.checks.findings import FindingSink
from airlock.checks.identifiers import quantity_name
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


def read_html_tables(html: str) -> list[pd.DataFrame]:
    """The tables of an HTML page as pandas reads them (none when it finds none)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.read_html(io.StringIO(html))
    except (ValueError, ImportError):
        return []


def quantity_values(frames: list[pd.DataFrame]) -> set[str]:
    """The whole numbers of the frames' columns named for quantities (``reads``, ``depth``):
    numbers, whatever check digit they happen to have, where the page's text shows them."""
    found: set[str] = set()
    for frame in frames:
        for j, label in enumerate(frame.columns):
            if not quantity_name(_column_name(label)):
                continue
            for v in frame.iloc[:, j].dropna().tolist():
                if isinstance(v, float) and v.is_integer():
                    v = int(v)
                found.add(str(v).strip())
    return found


def html_tables(
    html: str, context: CheckContext, sink: FindingSink, where: str,
    tables: list[pd.DataFrame] | None = None,
) -> None:  # fmt: skip
    """The table rules on each table of an HTML page (``tables``: read already)."""
    tables = read_html_tables(html) if tables is None else tables
    for k, table in enumerate(tables, start=1):
        where_k = f"{where} table {k}" if where else ""
        check_frame(table, context, sink, where=where_k, what=f"HTML table {k}")
