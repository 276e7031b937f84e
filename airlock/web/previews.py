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


def _table(records: list[list[str]], findings, note: str = "") -> Preview:
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
    flagged = {r for r, _ in cells} | set(rows)
    wanted = sorted(
        set(range(1, min(len(data), HEAD_ROWS) + 1)) | {r for r in flagged if r <= len(data)}
    )
    wanted = wanted[:MAX_ROWS]
    shown: list[Row | None] = []
    previous = 0
    for number in wanted:
        if number != previous + 1:
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
        previous = number
    if wanted and wanted[-1] < len(data):
        shown.append(None)
    return Preview(kind="table", header=header, rows=tuple(shown), total_rows=len(data), note=note)


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


def make_preview(name: str, data: bytes, findings: list[dict[str, Any]]) -> Preview:
    """What a reviewer sees of a file: chosen by content, the name only breaks ties. Never
    raises: a file no preview can show gets a note with its size."""
    try:
        return _preview(name, data, findings)
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


def _preview(name: str, data: bytes, findings: list[dict[str, Any]]) -> Preview:
    if not data:
        return Preview(kind="empty", note="the file is empty")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return Preview(kind="image", image_type="image/png")
    if data.startswith(b"%PDF"):
        return Preview(kind="pdf", note="PDF: download it to read it in a PDF viewer")
    if data.startswith(b"PAR1"):
        return _parquet(data, findings)
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
        return _table(records, findings, note)
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


def _parquet(data: bytes, findings) -> Preview:
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
    return _table(records, findings, note)
