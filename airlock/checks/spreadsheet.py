"""Excel workbooks (.xlsx): every sheet through the table rules, and always a reviewer's look.

Researchers keep Table 1 and count tables in Excel. Blocking every workbook by its ZIP magic
blocked safe tables too, so a workbook is opened (openpyxl, values as Excel last computed them)
after its parts are vetted, read as ZIP entries without extracting anything:

- macros (``vbaProject.bin``), embedded objects and ActiveX controls block: they are programs
  or files inside the file;
- a DTD or entity declaration in any XML part blocks (entity expansion), as in SVG;
- parts that unpack to more than ``max_parse_bytes`` block (a decompression bomb);
- bytes unzipping skips (outside the entries, in unknown extra fields: airlock.checks.layout)
  and parts Excel does not read (anything but XML, pictures, printer settings and a thumbnail)
  block, and so do a pivot table's cached source rows (``pivotCacheRecords``: they stay when the
  source sheet is deleted); the ZIP's comments and every XML part that is not a sheet (the
  workbook's names, its properties, custom XML) are scanned as text;
- links to other workbooks and pictures need review.

Each sheet, hidden or not, is checked as a table (its first row as the header; the first
:data:`MAX_SHEET_ROWS` rows that hold anything), and sheet names, cell comments and the shared
strings of all cells are scanned as text (sample IDs are found past those rows too), and so are
the sheets' formulas; formula cells with no value saved (a workbook a program wrote) are named
for the reviewer, since the table rules did not see their values. A workbook
never passes on its own: formatting, hidden rows and columns and formulas show a reader what
the values do not, so the finding ``spreadsheet`` asks a reviewer to open it.
"""

from __future__ import annotations

import contextlib
import html
import io
import re
import zipfile
from typing import BinaryIO

from airlock.checks.context import CheckContext
from airlock.checks.findings import RULE_HIDDEN, FindingSink, Verdict

RULE_SPREADSHEET = "spreadsheet"
RULE_FILE_TYPE = "file-type"
RULE_MALFORMED = "malformed"

#: ZIP entries that are programs or files inside the workbook: never released
_EMBEDDED = re.compile(r"(^|/)(vbaProject\.bin|embeddings/|activeX/)", re.I)
#: entries that need a reviewer's look: links to other workbooks, pictures
_LOOK_AT = re.compile(r"(^|/)(externalLinks/|media/)", re.I)
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.I)
#: the parts that hold text: cell comments and notes (Excel's comments1.xml, openpyxl's
#: comments/comment1.xml, threaded comments) and the shared strings of every sheet's cells
#: (past the rows the table rules read, sample IDs are still looked for)
_TEXT_PARTS = re.compile(r"(comment[^/]*|sharedStrings)\.xml$", re.I)
_TEXT = re.compile(r"<(?:\w+:)?t(?:\s[^>]*)?>([^<]*)</(?:\w+:)?t>")
#: a sheet's part, whose formulas are read as text ('="DK000017"' holds a sample ID the values
#: do not show when Excel has not computed it)
_SHEET_PART = re.compile(r"(^|/)worksheets/[^/]+\.xml$", re.I)
#: a cell and what it holds: <c r="B3" ...><f>1+2</f><v>3</v></c>
_CELL = re.compile(r"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_FORMULA = re.compile(r"<(?:\w+:)?f\b[^>]*?(?:/>|>([^<]*)</(?:\w+:)?f>)")
_REFERENCE = re.compile(r"\br=\"([A-Z]+[0-9]+)\"")
_VALUE = re.compile(r"<(?:\w+:)?v>[^<]|<(?:\w+:)?is\b")  # openpyxl writes an empty <v></v>
#: rows of a sheet read for the table rules; a longer sheet needs a reviewer anyway
MAX_SHEET_ROWS = 100_000


#: the main part of a ZIP-based office file -> what it is and how to release its content
_OFFICE_PARTS = {
    "word/document.xml": ("a Word document (.docx)", "save its tables as CSV and its text as "
                          "Markdown or PDF, and release those"),
    "ppt/presentation.xml": ("a PowerPoint presentation (.pptx)", "save its slides as PDF and "
                             "its tables as CSV, and release those"),
}  # fmt: skip


def _not_a_workbook(archive: zipfile.ZipFile, names: list[str]) -> str:
    """What a ZIP that is not a workbook is, said so a researcher knows what to release."""
    for part, (what, hint) in _OFFICE_PARTS.items():
        if part in names:
            return f"This is {what}, not an Excel workbook: its parts cannot be checked; {hint}."
    if "mimetype" in names and "content.xml" in names:
        with contextlib.suppress(KeyError, OSError, zipfile.BadZipFile, RuntimeError):
            kind = archive.read("mimetype")[:80].decode("ascii", "replace")
            return (f"This is an OpenDocument file ({kind}), not an Excel workbook: it cannot be "
                    "checked; save its tables as CSV and its text as Markdown or PDF.")  # fmt: skip
    return ("This is a ZIP archive, not an Excel workbook (.xlsx): archives cannot be checked; "
            "release the files in it one by one.")  # fmt: skip


def check_workbook(f: BinaryIO, size: int, context: CheckContext, sink: FindingSink) -> None:
    """The workbook's parts vetted, then its sheets as tables and its comments as text."""
    if size > context.config.max_parse_bytes:
        sink.add(RULE_MALFORMED, Verdict.BLOCK,
                 f"A workbook is checked as a whole, and this one is larger than "
                 f"{context.config.max_parse_bytes / 1024 / 1024:,.0f} MB; release its tables "
                 "as CSV.")  # fmt: skip
        return
    data = f.read()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        sink.add(RULE_MALFORMED, Verdict.BLOCK,
                 f"This is not a readable workbook ({e}); save it again, or as CSV.")  # fmt: skip
        return
    names = [e.filename for e in entries]
    if "xl/workbook.xml" not in names:
        sink.add(RULE_FILE_TYPE, Verdict.BLOCK, _not_a_workbook(archive, names))
        return
    embedded = [n for n in names if _EMBEDDED.search(n)]
    if embedded:
        sink.add(RULE_FILE_TYPE, Verdict.BLOCK,
                 f"This workbook holds macros or embedded files ({', '.join(embedded[:3])}): "
                 "programs and files inside a file cannot be checked. Save the sheets as CSV, "
                 "or the workbook as .xlsx without them.")  # fmt: skip
        return
    if not _vetted_container(data, archive, entries, context, sink):
        return
    unpacked = sum(e.file_size for e in entries)
    if unpacked > context.config.max_parse_bytes:
        sink.add(RULE_MALFORMED, Verdict.BLOCK,
                 f"This workbook unpacks to {unpacked / 1024 / 1024:,.0f} MB, more than the "
                 f"{context.config.max_parse_bytes / 1024 / 1024:,.0f} MB a workbook is checked "
                 "as; release its tables as CSV.")  # fmt: skip
        return
    texts: dict[str, bytes] = {}  # the parts that hold text, kept as read here
    for entry in entries:
        if entry.filename.lower().endswith((".xml", ".rels", ".vml")):
            try:
                part = archive.read(entry)  # at most its declared size: bounded above
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as e:
                sink.add(RULE_MALFORMED, Verdict.BLOCK,
                         f"Part {entry.filename} of this workbook cannot be read ({e}); save "
                         "it again, or as CSV.")  # fmt: skip
                return
            if _DTD.search(part):
                sink.add(RULE_MALFORMED, Verdict.BLOCK,
                         f"Part {entry.filename} of this workbook declares a DTD or entities, "
                         "which Excel never writes; save the workbook again.")  # fmt: skip
                return
            if _TEXT_PARTS.search(entry.filename):
                texts[entry.filename] = part
            elif _SHEET_PART.search(entry.filename):
                _formulas(entry.filename, part, context, sink)
            else:  # the workbook's names, properties, custom XML: text no sheet shows
                text = part.decode("utf-8", "replace")
                _scan(text, f"part {entry.filename}", context, sink)
    looked = [n for n in names if _LOOK_AT.search(n)]
    _texts(texts, context, sink)
    _read_sheets(data, context, sink)
    sink.add(
        RULE_SPREADSHEET,
        Verdict.REVIEW,
        "A workbook can show a reader what its values do not (formatting, hidden rows, columns "
        "and sheets, formulas"
        + (f", and it has {', '.join(sorted({_part(n) for n in looked}))}" if looked else "")
        + "): a reviewer must open it. Its sheets were checked as tables; save them as CSV "
        "files to have them checked without a reviewer's look.",
    )


def _vetted_container(
    data: bytes,
    archive: zipfile.ZipFile,
    entries: list[zipfile.ZipInfo],
    context: CheckContext,
    sink: FindingSink,
) -> bool:
    """Whether the ZIP holds nothing Excel skips: every byte in an entry (airlock.checks.layout),
    every part one Excel reads (XML, pictures, printer settings); its comments are text."""
    from airlock.checks.layout import zip_hidden_bytes

    comments = [archive.comment, *(e.comment for e in entries)]
    if any(comments):
        text = b"\n".join(c for c in comments if c).decode("utf-8", "replace")
        _scan(text, "ZIP comments", context, sink)
    hidden = zip_hidden_bytes(data, entries)
    if hidden is None and any(c and not _plain_text(c) for c in comments):
        hidden = "a comment that is not text"
    pivots = [e.filename for e in entries if _PIVOT_RECORDS.search(e.filename)]
    if pivots:
        sink.add(RULE_HIDDEN, Verdict.BLOCK,
                 f"This workbook keeps the source rows of its pivot tables ({pivots[0]}): "
                 "Excel copies every row a pivot table summarises into the file, and they "
                 "stay when the source sheet is deleted. Save the pivot table's values as "
                 "CSV.")  # fmt: skip
        return False
    others = [
        e.filename
        for e in entries
        if not (_KNOWN_PART.search(e.filename) or (e.is_dir() and e.file_size == 0))
    ]
    if hidden is None and not others:
        return True
    what = hidden or f"parts Excel does not read ({', '.join(others[:3])})"
    sink.add(RULE_HIDDEN, Verdict.BLOCK,
             f"This workbook's ZIP holds {what}: data no reviewer would see. Save the "
             "workbook again from Excel, or its sheets as CSV.")  # fmt: skip
    return False


def _plain_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\t\r\n" for c in text)


_PIVOT_RECORDS = re.compile(r"(^|/)pivotCacheRecords[^/]*\.xml$", re.I)
#: the parts a workbook may have: XML, pictures, printer settings, a thumbnail
_KNOWN_PART = re.compile(
    r"(\.(xml|rels|vml)|^xl/media/[^/]+\.(png|jpe?g|gif|bmp|tiff?|emf|wmf|svg)"
    r"|^xl/printerSettings/[^/]+\.bin|^docProps/thumbnail\.(jpe?g|png|emf|wmf))$",
    re.I,
)


def _part(name: str) -> str:
    return "pictures" if "media/" in name.lower() else "links to other workbooks"


def _read_sheets(data: bytes, context: CheckContext, sink: FindingSink) -> None:
    import warnings

    import openpyxl
    import pandas as pd

    from airlock.checks.frames import check_frame

    try:
        # streamed (read-only), values as Excel last computed them: 200,000 rows took 46 s
        # loaded whole, and several times the memory
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # extensions openpyxl does not read (validation)
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheets = [(sheet.title, sheet.sheet_state, _rows(sheet)) for sheet in book.worksheets]
    except Exception as e:  # openpyxl raises many kinds on a damaged file
        sink.add(RULE_MALFORMED, Verdict.BLOCK,
                 f"This workbook cannot be read ({type(e).__name__}: {e}); save it again, or "
                 "as CSV.")  # fmt: skip
        return
    for title, state, rows in sheets:
        where = f"sheet {title}" + (" (hidden)" if state != "visible" else "")
        _scan(title, where, context, sink)
        if len(rows) < 2:
            sink.recognised(where, "text")  # a title or a note: scanned as text
            continue
        header = [("" if v is None else str(v)) for v in rows[0]]
        width = max(len(r) for r in rows)
        header += [""] * (width - len(header))
        frame = pd.DataFrame([list(r) + [None] * (width - len(r)) for r in rows[1:]])
        frame.columns = [h or f"column {j + 1}" for j, h in enumerate(header)]
        check_frame(frame, context, sink, where=where, what=f"the {where}")


def _rows(sheet) -> list[tuple]:
    """The sheet's rows that hold anything, the first :data:`MAX_SHEET_ROWS`."""
    rows = []
    for row in sheet.iter_rows(values_only=True):
        if any(v is not None and str(v).strip() for v in row):
            rows.append(row)
            if len(rows) >= MAX_SHEET_ROWS:
                break
    return rows


def _texts(parts: dict[str, bytes], context: CheckContext, sink: FindingSink) -> None:
    """The text of comments, notes and shared strings (``parts``: name -> XML), scanned as
    text (one per line)."""
    for name, part in parts.items():
        text = "\n".join(_TEXT.findall(part.decode("utf-8", "replace")))
        _scan(text, f"part {name}", context, sink)


def _formulas(name: str, part: bytes, context: CheckContext, sink: FindingSink) -> None:
    """A sheet's formulas scanned as text (one per line), and its formula cells with no value
    Excel computed (a workbook written by a program: openpyxl's '=1+2'), whose values the
    table rules could not see."""
    xml = part.decode("utf-8", "replace")
    if "<f" not in xml and ":f" not in xml:
        return
    formulas: list[str] = []
    uncomputed: list[str] = []
    for cell in _CELL.finditer(xml):
        inner = cell.group(2) or ""
        if (f := _FORMULA.search(inner)) is None:
            continue
        formulas.append(html.unescape(f.group(1) or ""))
        if not _VALUE.search(inner):
            ref = _REFERENCE.search(cell.group(1))
            uncomputed.append(ref.group(1) if ref else "?")
    if any(formulas):
        _scan("\n".join(formulas), f"the formulas of part {name}", context, sink)
    if uncomputed:
        shown = ", ".join(uncomputed[:5]) + (f" and {len(uncomputed) - 5:,} more" if
                                             len(uncomputed) > 5 else "")  # fmt: skip
        cells = f"Cells {shown} of part {name} are formulas" if len(uncomputed) > 1 else (
            f"Cell {shown} of part {name} is a formula"
        )  # fmt: skip
        sink.add(RULE_SPREADSHEET, Verdict.REVIEW,
                 f"{cells} with no value saved (the workbook "
                 "was written by a program, not saved by Excel), so their values were not "
                 "checked. Open and save the workbook in a spreadsheet, or release the sheet as "
                 "CSV.")  # fmt: skip


def _scan(text: str, where: str, context: CheckContext, sink: FindingSink) -> None:
    from airlock.checks.text import scan_text

    with sink.at(where):
        scan_text(text.encode("utf-8", "replace"), text, 1, context, sink)
