"""JSON documents, Jupyter notebooks and HTML.

JSON that holds a table (a list of records, a list of lists, pandas' ``split``/``table``/
``columns`` layouts, JSON Lines) goes through every table rule; so do the tables nested
anywhere in another document (lists of records or of lists, objects of equal-length lists,
objects of many scalars such as ``{"P0001": "AG", ...}``), and the rest of the document is
scanned as text. Notebooks always need a reviewer; their code and outputs are scanned as text,
and the tables in their outputs (HTML DataFrames, printed tables) checked as tables. HTML
documents always need a reviewer; scripts and embedded objects block; their tables are
checked. All are parsed whole, so they are limited to ``max_parse_bytes``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pandas as pd

from airlock.checks.context import CheckContext
from airlock.checks.findings import RULE_HIDDEN, FindingSink, Verdict
from airlock.checks.frames import check_frame, html_tables, quantity_values, read_html_tables
from airlock.checks.reading import Unreadable
from airlock.checks.text import check_tables_in, scan_text

RULE_NOTEBOOK = "notebook"
RULE_ACTIVE = "active-content"
RULE_HTML = "html"

#: an object with at least this many scalar members is read as a two-column table
_MANY = 10


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


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def as_table(doc: object) -> pd.DataFrame | None:
    """A DataFrame when the document is a table in one of pandas' JSON layouts, a list of
    lists, or an object of many scalars."""
    if isinstance(doc, list) and doc and all(isinstance(r, dict) for r in doc):
        if any(_long_list(v) for r in doc for v in r.values()):
            return None  # a figure's traces ({"x": [...], "y": [...]}): each a table
        return pd.DataFrame.from_records(doc)
    rows = isinstance(doc, list) and len(doc) >= 2 and all(isinstance(r, list) for r in doc)
    if rows and all(all(_scalar(v) for v in r) for r in doc):
        return pd.DataFrame(doc, columns=[str(j + 1) for j in range(max(map(len, doc)))])
    if (
        isinstance(doc, list)
        and len(doc) >= _MANY
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in doc)
    ):
        return pd.DataFrame({"value": doc})
    if isinstance(doc, dict):
        if isinstance(doc.get("data"), list) and isinstance(doc.get("columns"), list):
            try:
                return pd.DataFrame(doc["data"], columns=doc["columns"])
            except (ValueError, TypeError):
                return None
        if isinstance(doc.get("data"), list) and isinstance(doc.get("schema"), dict):
            return as_table(doc["data"])
        values = list(doc.values())
        lists = values and all(isinstance(v, list) for v in values)
        if lists and len(set(map(len, values))) == 1 and all(_scalar(x) for v in values for x in v):
            return pd.DataFrame(doc)
        if values and all(isinstance(v, dict) for v in values):
            inner = list(values[0])
            if all(list(v) == inner for v in values) and all(
                _scalar(x) for v in values for x in v.values()
            ):
                return pd.DataFrame(doc)
        columns = {str(k): v for k, v in doc.items() if _long_list(v)}
        if (
            columns
            and len({len(v) for v in columns.values()}) == 1
            and all(_scalar(v) for k, v in doc.items() if str(k) not in columns)
        ):
            return pd.DataFrame(columns)  # a plotly trace: its points, beside its settings
        numbers = [v for v in values if v is not None]
        if numbers and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers
        ):
            return pd.DataFrame([doc])  # results as one row: {"PC1": 0.12, ...}, {"n": 5000}
        if len(values) >= _MANY and all(_scalar(v) for v in values):
            return pd.DataFrame({"key": list(doc), "value": values})
    return None


def _long_list(value: object) -> bool:
    """A list of :data:`_MANY` scalars or more: a column of values."""
    return isinstance(value, list) and len(value) >= _MANY and all(_scalar(v) for v in value)


def _few_numbers(value: object) -> bool:
    """A list of 2 to :data:`_MANY` numbers (a longer one is a table by itself)."""
    return (
        isinstance(value, list)
        and 2 <= len(value) < _MANY
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    )


def nested_tables(doc: object, path: str = "") -> Iterator[tuple[str, pd.DataFrame]]:
    """(where, table) for every table inside a document that is not one itself."""
    table = as_table(doc) if path else None
    if table is not None:
        yield path, table
        return
    if isinstance(doc, dict):
        for k, v in doc.items():
            where = f"{path}.{k}" if path else str(k)
            if _few_numbers(v):
                # a short list under a name is a column: a histogram's {"counts": [0, 3, 45]}
                yield where, pd.DataFrame({str(k): v})
            elif not _scalar(v):
                yield from nested_tables(v, where)
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            if not _scalar(v):
                yield from nested_tables(v, f"{path}[{i}]")


def is_notebook(doc: object) -> bool:
    """Whether a parsed JSON document is a Jupyter notebook: an object with a list of cells
    (or nbformat 3's worksheets) and an nbformat version at its top level, wherever they are
    in the file."""
    return (
        isinstance(doc, dict)
        and (isinstance(doc.get("cells"), list) or isinstance(doc.get("worksheets"), list))
        and "nbformat" in doc
    )


def check_json(
    doc: object, data: bytes, encoding: str, context: CheckContext, sink: FindingSink
) -> None:
    """A JSON document (``doc``, parsed from ``data``): its tables, and its text."""
    table = as_table(doc)
    if table is not None:
        check_frame(table, context, sink, what="the JSON table")
        return
    scan_text(data, data.decode(encoding), 1, context, sink)
    found = 0
    for where, frame in nested_tables(doc):
        check_frame(frame, context, sink, what=f"the table at {where}")
        found += 1
    for where, text in multiline_strings(doc):
        # escaped in the bytes ('\\n', '\\t'): VCF records, a CSV or a printed table in a
        # string are read as the text they are
        _scan(text, context, sink, f"the string at {where}")
        _text_tables(text, context, sink, f"the string at {where}")
    if not found:
        sink.unrecognised(
            "the JSON document",
            "it holds no table, and JSON documents of other shapes are not a registered kind",
        )


def multiline_strings(doc: object) -> Iterator[tuple[str, str]]:
    """(path, value) of every string of several lines in a JSON document."""
    stack: list[tuple[str, object]] = [("$", doc)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\n" in value:
                yield path, value
        elif isinstance(value, dict):
            stack.extend((f"{path}.{k}", v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(value))))


# -- HTML ---------------------------------------------------------------------------------------

_ACTIVE_HTML = re.compile(
    r"<\s*(script|iframe|object|embed|applet|form|base|meta\s+http-equiv)\b|\son\w+\s*=|"
    r"javascript:|<\s*link\b[^>]*\bhref\s*=\s*[\"']?\s*(https?:)?//",
    re.I,
)


def check_html(data: bytes, encoding: str, context: CheckContext, sink: FindingSink) -> None:
    """HTML: active content blocks, tables are checked, and a reviewer always looks."""
    html = data.decode(encoding)
    if m := _ACTIVE_HTML.search(html):
        sink.add(
            RULE_ACTIVE,
            Verdict.BLOCK,
            f"The HTML contains active content ({m.group().strip()[:40]}): it can run code or "
            "fetch data when opened. Release tables as CSV and text as Markdown instead.",
        )
    text = _with_tags(html)
    tables = read_html_tables(html) if "<table" in html.lower() else []
    numbers = quantity_values(tables)
    scan_text(text.encode("utf-8"), text, 1, context, sink,
              quantities=lambda line, digits: digits in numbers)  # fmt: skip
    html_tables(html, context, sink, "", tables)
    sink.unrecognised(
        "the HTML document",
        "HTML is not a registered kind of output: a reviewer must look at it as a browser "
        "shows it. Release tables as CSV and text as Markdown instead",
    )


def _with_tags(html: str) -> str:
    """An HTML page's text with its tags read as text too: comments and attribute values (a
    title, data-*) leave with the page though a browser does not show them."""
    return re.sub(r"[<>]", " ", html)


# -- notebooks ----------------------------------------------------------------------------------


def _text(value: object) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


def check_notebook(doc: object, context: CheckContext, sink: FindingSink) -> None:
    """A parsed notebook: sources, outputs, metadata and attachments."""
    if isinstance(doc, dict) and isinstance(doc.get("worksheets"), list):
        raise Unreadable("it is a notebook of an old format (nbformat 3, cells in worksheets); "
                         "open it in a current Jupyter and save it again")  # fmt: skip
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise Unreadable("it is not a Jupyter notebook (no list of cells); save it again")
    outputs = images = 0
    _scan_metadata(doc.get("metadata"), context, sink, "notebook metadata")
    for i, cell in enumerate(doc["cells"], start=1):
        if not isinstance(cell, dict):
            continue
        source = _text(cell.get("source"))
        _scan(source, context, sink, f"cell {i} source")
        if cell.get("cell_type") in ("markdown", "raw"):  # a results table typed as text
            _text_tables(source, context, sink, f"cell {i} source")
        _scan_metadata(cell.get("metadata"), context, sink, f"cell {i} metadata")
        attachments = cell.get("attachments") if isinstance(cell.get("attachments"), dict) else {}
        for name, bundle in attachments.items():  # pasted into a Markdown cell
            if isinstance(bundle, dict):
                images += _bundle(bundle, context, sink, f"cell {i} attachment {name}")
        for j, output in enumerate(cell.get("outputs") or [], start=1):
            if not isinstance(output, dict):
                continue
            outputs += 1
            where = f"cell {i} output {j}"
            _scan(_text(output.get("text")), context, sink, where)
            _text_tables(_text(output.get("text")), context, sink, where)
            traceback = _ANSI.sub("", "\n".join(_text(t) for t in output.get("traceback") or []))
            _scan(traceback, context, sink, where)
            _text_tables(traceback, context, sink, where)  # a frame printed in an error
            _scan_metadata(output.get("metadata"), context, sink, where)
            if isinstance(output.get("data"), dict):
                images += _bundle(output["data"], context, sink, where)
    sink.add(
        RULE_NOTEBOOK,
        Verdict.REVIEW,
        f"Notebooks need a human: a reviewer reads the code and every output ({outputs} "
        f"outputs, {images} images). Clear outputs that are not needed before submitting.",
    )


def _bundle(bundle: dict, context: CheckContext, sink: FindingSink, where: str) -> int:
    """An output's or attachment's representations (MIME type -> value) checked; returns how
    many are images."""
    images = 0
    for mime, value in bundle.items():
        if mime.startswith("image/"):
            images += 1
            if mime in ("image/png", "image/svg+xml") and isinstance(value, (str, list)):
                from airlock.checks import media, pngs

                with sink.at(where):  # as the file would be: what a viewer skips, scripts
                    if mime == "image/png":
                        media.png_findings(pngs.embedded(_text(value)), context, sink)
                    else:
                        media.check_svg(_text(value).encode("utf-8"), context, sink)
        elif "javascript" in mime:
            sink.add(
                RULE_ACTIVE,
                Verdict.REVIEW,
                f"{where} holds JavaScript ({mime}); a reviewer must check what it "
                "shows. Clear widget and JavaScript outputs you do not need.",
            )
        elif mime == "text/html":
            html = _text(value)
            _scan(_with_tags(html), context, sink, where)
            if "<table" in html:
                html_tables(html, context, sink, where)
        elif mime.startswith("text/") or mime.endswith("json"):
            text = _text(value) if mime.startswith("text/") else json.dumps(value)
            _scan(text, context, sink, where)
            plain = mime == "text/plain" and "text/html" not in bundle
            if plain or mime in _TABLE_TEXTS:
                _text_tables(text, context, sink, where)
            elif not mime.startswith("text/"):
                _json_tables(value, context, sink, where)  # a plotly figure's points
        else:  # bytes as base64 (application/octet-stream, a PDF): no one sees them
            sink.add(
                RULE_HIDDEN,
                Verdict.BLOCK,
                f"{where} holds {mime} data, which a notebook does not show: clear the output "
                "(or release the file it holds on its own).",
            )
    return images


#: an output's text types whose tables are read (a displayed Markdown or LaTeX table, CSV)
_TABLE_TEXTS = ("text/csv", "text/tab-separated-values", "text/markdown", "text/latex")


def _scan_metadata(value: object, context: CheckContext, sink: FindingSink, where: str) -> None:
    """Metadata (the kernel, tags, anything a tool or a person stored): not shown, but in the
    file."""
    if isinstance(value, dict) and value:
        _scan(json.dumps(value, ensure_ascii=False), context, sink, where)


#: a terminal's colour codes, as IPython writes them into a traceback
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _json_tables(value: object, context: CheckContext, sink: FindingSink, where: str) -> None:
    """The tables in a JSON output (a plotly or vega figure's data: one point per person)."""
    table = as_table(value)
    found = [("the JSON output", table)] if table is not None else [
        (f"the table at {path}", frame) for path, frame in nested_tables(value)]  # fmt: skip
    for what, frame in found:
        check_frame(frame, context, sink, where=where, what=what)


def _scan(text: str, context: CheckContext, sink: FindingSink, where: str) -> None:
    if text:
        scan_text(text.encode("utf-8"), text, 1, context, sink, column=where)


def _text_tables(text: str, context: CheckContext, sink: FindingSink, where: str) -> None:
    if text:
        with sink.at(where):
            check_tables_in(text, 1, context, sink)
