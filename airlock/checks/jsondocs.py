"""JSON documents and Jupyter notebooks.

JSON that holds a table (a list of records, pandas' ``split``/``table``/``columns`` layouts, or
JSON Lines) goes through every table rule; any other JSON has its keys and strings scanned for
identifiers and sample IDs. Notebooks always need a reviewer; their code and outputs are
scanned with the text rules, and the HTML tables in their outputs (DataFrames) with the table
rules. Both are parsed whole, so they are limited to ``max_parse_bytes``.
"""

from __future__ import annotations

import io
import json
import warnings

import pandas as pd

from airlock.checks.cells import Chunk, plain_columns
from airlock.checks.context import CheckContext
from airlock.checks.findings import FindingSink, Verdict
from airlock.checks.reading import Unreadable
from airlock.checks.tabular import check_table
from airlock.checks.text import scan_text

RULE_NOTEBOOK = "notebook"
RULE_ACTIVE = "active-content"


def parse_json(data: bytes, encoding: str) -> object:
    """The document, or a list of records for JSON Lines; Unreadable when it is neither."""
    text = data.decode(encoding)
    try:
        return json.loads(text)
    except json.JSONDecodeError as first:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        try:
            records = [json.loads(ln) for ln in lines]
        except json.JSONDecodeError:
            records = None
        if records and len(records) > 1 and all(isinstance(r, dict) for r in records):
            return records
        raise Unreadable(
            f"it is not valid JSON: {first.msg} at line {first.lineno}, column {first.colno}",
            line=first.lineno,
        ) from None
    except RecursionError:
        raise Unreadable("the JSON is nested too deeply to check") from None


def as_table(doc: object) -> pd.DataFrame | None:
    """A DataFrame when the document is a table in one of pandas' JSON layouts."""
    if isinstance(doc, list) and doc and all(isinstance(r, dict) for r in doc):
        return pd.DataFrame.from_records(doc)
    if isinstance(doc, dict):
        if isinstance(doc.get("data"), list) and isinstance(doc.get("columns"), list):
            try:
                return pd.DataFrame(doc["data"], columns=doc["columns"])
            except (ValueError, TypeError):
                return None
        if isinstance(doc.get("data"), list) and isinstance(doc.get("schema"), dict):
            return as_table(doc["data"])
        values = list(doc.values())
        if values and all(isinstance(v, list) for v in values) and len(set(map(len, values))) == 1:
            return pd.DataFrame(doc)
        if values and all(isinstance(v, dict) for v in values):
            inner = list(values[0])
            if all(list(v) == inner for v in values):
                return pd.DataFrame(doc)
    return None


def check_frame(
    frame: pd.DataFrame, context: CheckContext, sink: FindingSink, *, where: str = ""
) -> None:
    """All table rules on an in-memory table (JSON, notebook output), with its index."""
    names = [_column_name(c) for c in frame.columns]
    frame = plain_columns(frame)
    before, sink.where = sink.where, where
    try:
        check_table(names, [Chunk(frame, 1)], context, sink)
    finally:
        sink.where = before


def _column_name(label: object) -> str:
    """A column label as text; multi-level labels (from HTML tables) without pandas'
    'Unnamed: ...' placeholders."""
    parts = label if isinstance(label, tuple) else (label,)
    kept = [str(p) for p in parts if not str(p).startswith("Unnamed:")]
    return " ".join(kept)


def check_json(data: bytes, encoding: str, context: CheckContext, sink: FindingSink) -> None:
    doc = parse_json(data, encoding)
    table = as_table(doc)
    if table is not None:
        check_frame(table, context, sink)
        return
    scan_text(data, data.decode(encoding), 1, context, sink)


# -- notebooks ----------------------------------------------------------------------------------


def _text(value: object) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


def check_notebook(data: bytes, encoding: str, context: CheckContext, sink: FindingSink) -> None:
    doc = parse_json(data, encoding)
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise Unreadable("it is not a Jupyter notebook (no list of cells); save it again")
    outputs = images = 0
    for i, cell in enumerate(doc["cells"], start=1):
        if not isinstance(cell, dict):
            continue
        source = _text(cell.get("source"))
        _scan(source, context, sink, f"cell {i} source")
        images += len(cell.get("attachments") or {})
        for j, output in enumerate(cell.get("outputs") or [], start=1):
            if not isinstance(output, dict):
                continue
            outputs += 1
            where = f"cell {i} output {j}"
            _scan(_text(output.get("text")), context, sink, where)
            _scan("\n".join(_text(t) for t in output.get("traceback") or []), context, sink, where)
            bundle = output.get("data") if isinstance(output.get("data"), dict) else {}
            for mime, value in bundle.items():
                if mime.startswith("image/"):
                    images += 1
                elif "javascript" in mime:
                    sink.add(
                        RULE_ACTIVE,
                        Verdict.REVIEW,
                        f"{where} holds JavaScript ({mime}); a reviewer must check what it "
                        "shows. Clear widget and JavaScript outputs you do not need.",
                    )
                elif mime == "text/html":
                    html = _text(value)
                    _scan(html, context, sink, where)
                    if "<table" in html:
                        _html_tables(html, context, sink, where)
                elif mime.startswith("text/") or mime.endswith("json"):
                    text = _text(value) if mime.startswith("text/") else json.dumps(value)
                    _scan(text, context, sink, where)
    sink.add(
        RULE_NOTEBOOK,
        Verdict.REVIEW,
        f"Notebooks need a human: a reviewer reads the code and every output ({outputs} "
        f"outputs, {images} images). Clear outputs that are not needed before submitting.",
    )


def _scan(text: str, context: CheckContext, sink: FindingSink, where: str) -> None:
    if text:
        scan_text(text.encode("utf-8"), text, 1, context, sink, column=where)


def _html_tables(html: str, context: CheckContext, sink: FindingSink, where: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tables = pd.read_html(io.StringIO(html))
    except (ValueError, ImportError):
        return
    for k, table in enumerate(tables, start=1):
        check_frame(table, context, sink, where=f"{where} table {k}")
