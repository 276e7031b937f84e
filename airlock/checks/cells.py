"""Helpers the table rules share: column names, numbers from cells, and reporting cells.

A table reaches the rules as chunks: pandas DataFrames whose columns are the positions
0..n-1 (names may repeat or be empty in a researcher's file), with the display names beside.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

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


@dataclasses.dataclass
class Chunk:
    """Consecutive data rows of a table."""

    frame: pd.DataFrame  # columns are positions 0..n-1
    first_row: int  # 1-based number of the frame's first data row
    #: the raw bytes of these rows, when the table is delimited text (for fast prefilters)
    raw: bytes | None = None


@dataclasses.dataclass
class TableContext:
    """What every table rule knows about the table before reading it: names, the first chunk,
    the check context (thresholds, sample IDs) and where findings go. Rules mark the columns
    they own in ``claimed``."""

    names: list[str]
    first: pd.DataFrame
    context: CheckContext
    sink: FindingSink
    delimiter: str | None = ","  # of the raw bytes; None for runs of whitespace
    encoding: str = "utf-8"
    per_variant: bool = False
    claimed: set[int] = dataclasses.field(default_factory=set)
    #: the columns that count people, as the table rules (tables.py) decided; the release
    #: ledger records them (differencing.py)
    count_columns: list[int] = dataclasses.field(default_factory=list)
    #: the table's kind when the kind registry recognises it (the ledger compares tables of
    #: one kind); None: the ledger names it by its header
    kind: str | None = None

    @property
    def config(self) -> AirlockConfig:
        """The thresholds."""
        return self.context.config

    @property
    def normed(self) -> list[str]:
        return [norm(n) for n in self.names]

    def label(self, chunk: Chunk, i: int) -> str:
        """A short description of row ``i`` of ``chunk`` for messages: its first text cell."""
        for col in range(len(self.names)):
            series = chunk.frame[col]
            if series.dtype == object:
                value = series.iloc[i]
                if isinstance(value, str) and value:
                    return f"{self.names[col]} {show(value)}"
        return f"row {chunk.first_row + i}"


def numbers(series: pd.Series) -> np.ndarray:
    """The cells as float64, NaN where a cell is not a number (e.g. '<10' or '*')."""
    if series.dtype.kind in "iuf":
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    if series.dtype != object:  # booleans, dates, categories: never counts
        return np.full(len(series), np.nan)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


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
