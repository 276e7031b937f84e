"""Helpers the table rules share: column names, numbers from cells, and reporting cells.

A table reaches the rules as chunks: Arrow tables whose columns are in the file's order (names
may repeat or be empty in a researcher's file), with the display names beside. Rules read a
column as numbers (float64, NaN where a cell is not a number) or as text (an Arrow string
array), each computed once per chunk.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from airlock.checks.context import CheckContext
from airlock.checks.findings import FindingSink, Location, Verdict
from tresor.core.airlock_config import AirlockConfig


def norm(name: str) -> str:
    """A column name as the rules compare it: lower case, without a leading '#' or the column
    number bcftools query -H puts first ('# [1]ID' is 'id')."""
    return re.sub(r"^\[\d+\]", "", str(name).strip().lstrip("#").strip()).lower()


def tokens(name: str) -> list[str]:
    """Words of a column name: ``A1_CASE_CT`` -> ``['a1', 'case', 'ct']``."""
    return [t for t in re.split(r"[^a-z0-9]+", norm(name)) if t]


def key(name: str) -> str:
    """A column name as one word: ``LOG(OR)_SE`` -> ``log_or_se``."""
    return "_".join(tokens(name))


#: a number as a cell may hold it (Arrow's float parser takes exactly these)
NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


def text_numbers(array: pa.Array) -> np.ndarray:
    """The cells of a text column as float64, NaN where a cell is not a number."""
    if len(array) == 0:
        return np.empty(0)
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    numeric = pc.match_substring_regex(array, NUMBER)
    kept = pc.if_else(numeric, pc.utf8_trim_whitespace(array), pa.scalar(None, array.type))
    return pc.cast(kept, pa.float64()).to_numpy(zero_copy_only=False)


def arrow_numbers(array: pa.Array) -> np.ndarray:
    """Any Arrow column as float64 numbers (NaN for text that is not a number, nulls, nested
    values, dates and booleans)."""
    t = array.type
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_decimal(t):
        return pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
    if is_text_type(t):
        return text_numbers(array)
    return np.full(len(array), np.nan)


def is_text_type(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def is_numeric_type(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


@dataclasses.dataclass(eq=False)
class Chunk:
    """Consecutive data rows of a table."""

    table: pa.Table  # columns in the file's order
    first_row: int  # 1-based number of the table's first data row
    #: the raw bytes of these rows, when the table is delimited text (for fast scanners)
    raw: bytes | None = None
    _numbers: dict[int, np.ndarray] = dataclasses.field(default_factory=dict, repr=False)
    _texts: dict[int, pa.Array | None] = dataclasses.field(default_factory=dict, repr=False)
    #: what rules computed from the chunk once for all (airlock.checks.content's prefilter)
    cache: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def width(self) -> int:
        return self.table.num_columns

    def column(self, i: int) -> pa.Array:
        col = self.table.column(i)
        return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)

    def numbers(self, i: int) -> np.ndarray:
        """Column ``i`` as float64, NaN where a cell is not a number."""
        if i not in self._numbers:
            self._numbers[i] = arrow_numbers(self.column(i))
        return self._numbers[i]

    def texts(self, i: int) -> pa.Array | None:
        """Column ``i`` as a string array when it holds text, else None."""
        if i not in self._texts:
            col = self.column(i)
            if pa.types.is_dictionary(col.type):
                col = col.cast(col.type.value_type)
            self._texts[i] = col if is_text_type(col.type) else None
        return self._texts[i]

    def is_numeric(self, i: int) -> bool:
        return is_numeric_type(self.table.schema.field(i).type)

    def value(self, i: int, row: int) -> Any:
        """One cell as Python (row within the chunk)."""
        return self.table.column(i)[row].as_py()


def csv_bytes(table: pa.Table) -> bytes:
    """The rows of ``table`` as CSV without a header: the bytes the content scanners read for
    a table that was not delimited text (Parquet, JSON, a transposed table)."""
    import pyarrow.csv as pacsv

    if table.num_rows == 0:
        return b""
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
    return sink.getvalue().to_pybytes()


def chunk_of(table: pa.Table, first_row: int = 1) -> Chunk:
    """A chunk of a table that was not delimited text, with its rows as CSV bytes."""
    table = pa.Table.from_arrays(table.columns, names=[str(j) for j in range(table.num_columns)])
    return Chunk(table, first_row, csv_bytes(table))


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A pandas DataFrame (from JSON, HTML, a notebook) as an Arrow table with columns in
    order; a column of mixed values becomes text."""
    arrays = []
    for j in range(frame.shape[1]):
        series = frame.iloc[:, j]
        try:
            arrays.append(pa.array(series, from_pandas=True))
        except (pa.ArrowException, TypeError, ValueError):
            arrays.append(pa.array(series.map(lambda v: None if _missing(v) else _text(v)),
                                   type=pa.string()))  # fmt: skip
    return pa.Table.from_arrays(arrays, names=[str(j) for j in range(len(arrays))])


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _text(value: object) -> str:
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        return json.dumps(value, default=str)
    return str(value)


def plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns 0..n-1 with categories as their values and nested values (lists, dicts,
    arrays from Parquet or JSON) as JSON text, so that every rule sees scalars."""
    frame = frame.reset_index(drop=True)
    frame.columns = range(frame.shape[1])
    for col in frame.columns:
        series = frame[col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if series.dtype == object:
            series = series.map(_scalar)
        frame[col] = series
    return frame


def _scalar(value: object) -> object:
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        return json.dumps(value, default=str)
    return value


def numbers(series: pd.Series) -> np.ndarray:
    """The cells of a pandas column as float64, NaN where a cell is not a number."""
    if series.dtype.kind in "iuf":
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    if series.dtype != object:  # booleans, dates, categories: never counts
        return np.full(len(series), np.nan)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


@dataclasses.dataclass
class TableContext:
    """What every table rule knows about the table before reading it: names, the first chunk,
    the check context (thresholds, sample IDs), what kind of output it was recognised as, and
    where findings go. Rules mark the columns they own in ``claimed``."""

    names: list[str]
    first: Chunk
    context: CheckContext
    sink: FindingSink
    delimiter: str | None = ","  # of the raw bytes; None for runs of whitespace
    encoding: str = "utf-8"
    claimed: set[int] = dataclasses.field(default_factory=set)
    #: what the table was recognised as (an airlock.checks.kinds.Recognition)
    recognition: Any = None
    #: residual degrees of freedom printed beside the table (a model summary's text)
    known_dof: list[int] = dataclasses.field(default_factory=list)
    #: the file's name (its extension is a hint to recognition, never enough)
    file_name: str = ""
    #: the columns found to hold counts of people, over the whole table (tables.CountRules)
    people_counts: list[int] = dataclasses.field(default_factory=list)
    #: rows labelled as counts of people (a Table 1's "N" row) were found
    row_counts: bool = False
    #: the whole table is in its first chunk (a small table)
    one_chunk: bool = True
    #: columns of counts of people or alleles by the kind's roles (genomics.py), and columns
    #: that may count people (tables.CountRules, which decides at the end in ``people_counts``):
    #: the release ledger records and compares them (differencing.py)
    count_columns: list[int] = dataclasses.field(default_factory=list)
    count_candidates: list[int] = dataclasses.field(default_factory=list)
    #: the chunk whose text columns ``label`` last looked up, and those columns
    _text_columns: tuple[Chunk, list] | None = dataclasses.field(default=None, repr=False)

    @property
    def config(self) -> AirlockConfig:
        """The thresholds."""
        return self.context.config

    @property
    def normed(self) -> list[str]:
        return [norm(n) for n in self.names]

    @property
    def per_variant(self) -> bool:
        return self.recognition is not None and self.recognition.per_variant

    def label(self, chunk: Chunk, i: int) -> str:
        """A short description of row ``i`` of ``chunk`` for messages: its first text cell."""
        if self._text_columns is None or self._text_columns[0] is not chunk:
            # once per chunk: a table of 20,000 count columns asked this of every column
            found = [(c, t) for c in range(chunk.width) if (t := chunk.texts(c)) is not None]
            self._text_columns = (chunk, found)
        for col, texts in self._text_columns[1]:
            value = texts[i].as_py()
            if value:
                return f"{self.names[col]} {show(value)}"
        return f"row {chunk.first_row + i}"


def is_count_like(values: np.ndarray) -> bool:
    """All present values are non-negative whole numbers, and at least one is present."""
    present = values[~np.isnan(values)]
    return (
        present.size > 0
        and bool(np.all(present >= 0))
        and bool(np.all(np.equal(np.floor(present), present)))
    )


def show(value: object) -> str:
    """A cell as a reviewer should see it; whole floats without '.0'."""
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return ""
        if float(value).is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{float(value):.6g}"
    if isinstance(value, (np.integer, int)):
        return str(int(value))
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "..."


def report_cells(
    sink: FindingSink,
    rule: str,
    verdict: Verdict,
    mask: np.ndarray,
    chunk: Chunk,
    column: str,
    values: np.ndarray | pd.Series | Callable[[int], str],
    message: Callable[[int], str],
) -> int:
    """One finding per True cell of ``mask`` (the first ones, as the sink has room), located
    at the chunk's row and ``column`` and showing ``values[i]`` (or ``values(i)``);
    ``message(i)`` words it. Returns how many cells were True."""
    if not mask.any():
        return 0
    hits = np.flatnonzero(mask)
    shown = hits[: max(sink.room(rule), 0)]
    for i in shown:
        if callable(values):
            value = values(int(i))
        else:
            value = show(values.iloc[i] if isinstance(values, pd.Series) else values[i])
        location = Location(row=chunk.first_row + int(i), column=column, value=value)
        sink.add(rule, verdict, message(int(i)), location)
    sink.more(rule, verdict, int(hits.size - shown.size))
    return int(hits.size)
