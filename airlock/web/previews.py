"""Previews for reviewers: tables with the cells the checks point at highlighted, images shown
through ``<img>`` (an SVG's scripts never run there), everything else as escaped text.

A preview never fails: a file that cannot be shown (a parser's exception of any kind, such as
RecursionError on deeply nested JSON) gives a note with its size instead, and the reviewer
downloads it to inspect it.

A preview is data for a template; the template escapes every value (Jinja autoescape), so a
cell such as ``=HYPERLINK(...)`` or ``<script>`` is shown, never interpreted.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import difflib
import io
import json
import logging
from collections import defaultdict
from typing import Any

#: rows shown from the top of a table; rows the checks point at are shown wherever they are
HEAD_ROWS = 200
MAX_ROWS = 1000
MAX_TEXT_BYTES = 256 * 1024
MAX_COLUMNS = 200

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Cell:
    text: str
    flags: tuple[str, ...] = ()  # messages of the findings that point here


@dataclasses.dataclass(frozen=True)
class Row:
    number: int  # 1-based data row (the header is row 0), as in check findings
    cells: tuple[Cell, ...]
    flags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Preview:
    kind: str  # table | image | text | pdf | binary | empty | unavailable
    header: tuple[Cell, ...] = ()
    rows: tuple[Row | None, ...] = ()  # None marks rows left out
    text: str = ""
    image_type: str = ""
    note: str = ""
    total_rows: int | None = None
    #: the table's order: (0-based column, descending), or None for the file's order
    sort: tuple[int, bool] | None = None


def _index_findings(findings: list[dict[str, Any]]):
    cells: dict[tuple[int, str], list[str]] = defaultdict(list)
    rows: dict[int, list[str]] = defaultdict(list)
    columns: dict[str, list[str]] = defaultdict(list)
    for f in findings:
        loc = f.get("location") or {}
        row, column = loc.get("row"), loc.get("column")
        message = f"{f.get('verdict', '')}: {f.get('message', '')}"
        if row is not None and column is not None:
            cells[(int(row), str(column))].append(message)
        elif row is not None:
            rows[int(row)].append(message)
        elif column is not None:
            columns[str(column)].append(message)
    return cells, rows, columns


def _sniff_table(text: str) -> csv.Dialect | None:
    sample = text[:65536]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
    except csv.Error:
        return None
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    widths = {len(r) for r in csv.reader(lines, dialect)}
    return dialect if len(lines) >= 1 and min(widths, default=0) >= 2 else None


def _sort_key(values: list[str]):
    """Numbers as numbers when every non-empty value of the column is one; empty and NA last."""
    missing = {"", "na", "nan", "."}

    def number(v: str) -> float | None:
        try:
            return float(v)
        except ValueError:
            return None

    present = [v for v in values if v.strip().lower() not in missing]
    numeric = all(number(v) is not None for v in present)

    def key(i: int):
        v = values[i]
        if v.strip().lower() in missing:
            return (1, 0.0, "")
        return (0, number(v), "") if numeric else (0, 0.0, v)

    return key


def _order(data: list[list[str]], sort: tuple[int, bool] | None) -> list[int]:
    """The 1-based row numbers of ``data`` in the order asked for; empty values stay last."""
    numbers = list(range(1, len(data) + 1))
    if sort is None:
        return numbers
    column, descending = sort
    values = [r[column] if column < len(r) else "" for r in data]
    key = _sort_key(values)
    present = [n for n in numbers if key(n - 1)[0] == 0]
    absent = [n for n in numbers if key(n - 1)[0] == 1]
    return sorted(present, key=lambda n: key(n - 1), reverse=descending) + absent


def _table(
    records: list[list[str]], findings, note: str = "", sort: tuple[int, bool] | None = None
) -> Preview:
    cells, rows, columns = _index_findings(findings)
    header_raw = records[0][:MAX_COLUMNS] if records else []
    names = [str(h) for h in header_raw]

    def column_keys(i: int) -> tuple[str, str]:
        return (names[i] if i < len(names) else "", str(i + 1))

    header = tuple(
        Cell(str(h), tuple(m for k in column_keys(i) for m in columns.get(k, ())))
        for i, h in enumerate(header_raw)
    )
    data = records[1:]
    if sort is not None and not 0 <= sort[0] < len(header):
        sort = None
    flagged = {r for r, _ in cells} | set(rows)
    order = _order(data, sort)
    # the first rows in that order, and the flagged ones wherever they are
    wanted = [
        (position, number)
        for position, number in enumerate(order)
        if position < HEAD_ROWS or number in flagged
    ][:MAX_ROWS]
    shown: list[Row | None] = []
    previous = -1
    for position, number in wanted:
        if position != previous + 1:
            shown.append(None)
        record = data[number - 1][:MAX_COLUMNS]
        shown.append(
            Row(
                number=number,
                cells=tuple(
                    Cell(
                        str(value),
                        tuple(m for k in column_keys(i) for m in cells.get((number, k), ())),
                    )
                    for i, value in enumerate(record)
                ),
                flags=tuple(rows.get(number, ())),
            )
        )
        previous = position
    if wanted and wanted[-1][0] < len(data) - 1:
        shown.append(None)
    return Preview(
        kind="table",
        header=header,
        rows=tuple(shown),
        total_rows=len(data),
        note=note,
        sort=sort,
    )


def _decode(data: bytes) -> str | None:
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "latin-1" and sum(c < 32 and c not in (9, 10, 13) for c in data[:4096]):
            return None
        return text
    return None


def make_preview(
    name: str,
    data: bytes,
    findings: list[dict[str, Any]],
    sort: tuple[int, bool] | None = None,
) -> Preview:
    """What a reviewer sees of a file: chosen by content, the name only breaks ties; a table
    in the order ``sort`` asks for ((0-based column, descending)). Never raises: a file no
    preview can show gets a note with its size."""
    try:
        return _preview(name, data, findings, sort)
    except Exception as e:  # any parser's failure, RecursionError and MemoryError included
        log.warning("no preview of %s (%d bytes): %r", name, len(data), e)
        reason = f"{type(e).__name__}: {e}"
        return Preview(
            kind="unavailable",
            note=(
                f"No preview: the file could not be shown ({reason[:200]}). It is "
                f"{len(data)} bytes; download it to inspect it."
            ),
        )


def _preview(
    name: str, data: bytes, findings: list[dict[str, Any]], sort: tuple[int, bool] | None
) -> Preview:
    if not data:
        return Preview(kind="empty", note="the file is empty")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return Preview(kind="image", image_type="image/png")
    if data.startswith(b"%PDF"):
        return Preview(kind="pdf", note="PDF: download it to read it in a PDF viewer")
    if data.startswith(b"PAR1"):
        return _parquet(data, findings, sort)
    text = _decode(data[:MAX_TEXT_BYTES] if len(data) > MAX_TEXT_BYTES else data)
    if text is None:
        return Preview(kind="binary", note="binary content: no preview", text=data[:256].hex(" "))
    truncated = len(data) > MAX_TEXT_BYTES
    note = f"showing the first {MAX_TEXT_BYTES // 1024} KiB" if truncated else ""
    head = text.lstrip()[:1000].lower()
    if "<svg" in head and (head.startswith("<svg") or head.startswith("<?xml")):
        return Preview(kind="image", image_type="image/svg+xml", text=text, note=note)
    if name.lower().endswith((".json", ".ipynb")):
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        return _text(text, findings, note)
    if not name.lower().endswith((".md", ".json")) and (dialect := _sniff_table(text)):
        try:
            records = list(csv.reader(io.StringIO(text, newline=""), dialect))
        except csv.Error:
            return _text(text, findings, note)
        if truncated and records:
            records = records[:-1]  # the cut may fall inside the last record
        return _table(records, findings, note, sort)
    return _text(text, findings, note)


def _text(text: str, findings, note: str) -> Preview:
    _, rows, _ = _index_findings(findings)
    lines = text.splitlines()
    return Preview(
        kind="text",
        rows=tuple(
            Row(number=i, cells=(Cell(line),), flags=tuple(rows.get(i, ())))
            for i, line in enumerate(lines[: HEAD_ROWS * 10], start=1)
        ),
        note=note,
    )


def _parquet(data: bytes, findings, sort: tuple[int, bool] | None) -> Preview:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(io.BytesIO(data))
        head = next(parquet.iter_batches(batch_size=MAX_ROWS), None)
        total = parquet.metadata.num_rows
        table = (
            pa.Table.from_batches([head])
            if head is not None
            else parquet.schema_arrow.empty_table()
        )
    except Exception as e:
        return Preview(kind="binary", note=f"a Parquet file that cannot be read: {e}")
    columns = table.column_names[:MAX_COLUMNS]
    rows = table.to_pylist()
    records = [columns] + [["" if r[c] is None else str(r[c]) for c in columns] for r in rows]
    note = f"showing {len(rows)} of {total} rows" if total > len(rows) else ""
    return _table(records, findings, note, sort)


#: lines of a diff shown; a longer one ends with a note
MAX_DIFF_LINES = 400


@dataclasses.dataclass(frozen=True)
class Diff:
    lines: tuple[tuple[str, str], ...] = ()  # (kind: add | remove | context | hunk, text)
    note: str = ""


def make_diff(before: bytes, after: bytes, name: str) -> Diff:
    """The previous round's file against this round's, line by line, for text files."""
    old, new = _decode(before[:MAX_TEXT_BYTES]), _decode(after[:MAX_TEXT_BYTES])
    if old is None or new is None or before.startswith(b"\x89PNG") or after.startswith(b"\x89PNG"):
        return Diff(note=f"binary content: {len(before)} bytes before, {len(after)} bytes now")
    kinds = {"+": "add", "-": "remove", " ": "context", "@": "hunk"}
    lines = [
        (kinds.get(line[:1], "context"), line)
        for line in difflib.unified_diff(
            old.splitlines(), new.splitlines(), f"{name} (before)", f"{name} (now)", lineterm=""
        )
    ][2:]  # the two file header lines
    note = ""
    if len(lines) > MAX_DIFF_LINES:
        note = f"showing the first {MAX_DIFF_LINES} of {len(lines)} lines of the difference"
        lines = lines[:MAX_DIFF_LINES]
    return Diff(lines=tuple(lines), note=note)
