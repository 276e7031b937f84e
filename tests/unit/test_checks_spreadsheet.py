"""Excel workbooks: each sheet (hidden ones too) through the table rules, comments and sheet
names as text, never a pass on their own; macros, embedded files, entity declarations and
ZIP archives that are not workbooks block."""

from __future__ import annotations

import io
import zipfile

import openpyxl
from openpyxl.comments import Comment

from airlock.checks import Verdict
from airlock.checks.spreadsheet import RULE_SPREADSHEET
from tests.checks_support import check, rules

COUNTS = [["group", "n", "mean_age"], ["cases", 120, 54.2], ["controls", 245, 53.9]]


def _book(tmp_path, name, rows=COUNTS, edit=None):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    if edit is not None:
        edit(book)
    path = tmp_path / name
    book.save(path)
    return path


def _add(path, entry, data):
    with zipfile.ZipFile(path, "a") as z:
        z.writestr(entry, data)
    return path


def test_workbook__safe_counts_get_review_not_block(tmp_path):
    report = check(_book(tmp_path, "table1.xlsx"))
    assert report.verdict is Verdict.REVIEW
    assert RULE_SPREADSHEET in rules(report, Verdict.REVIEW)


def test_workbook__a_small_count_blocks(tmp_path):
    report = check(_book(tmp_path, "t.xlsx", [["group", "n"], ["cases", 3], ["controls", 245]]))
    assert report.verdict is Verdict.BLOCK
    assert "min-cell-count" in rules(report, Verdict.BLOCK)


def test_workbook__sample_ids_in_a_hidden_sheet_or_a_comment_block(tmp_path):
    def hidden(book):
        sheet = book.create_sheet("kept")
        sheet.sheet_state = "hidden"
        for row in [["id", "x"], ["DK000017", 1], ["DK000018", 2]]:
            sheet.append(row)

    def comment(book):
        book.active["A2"].comment = Comment("excluded DK000017", "me")

    for name, edit in (("hidden.xlsx", hidden), ("comment.xlsx", comment)):
        report = check(_book(tmp_path, name, edit=edit), sample_ids=["DK000017", "DK000018"])
        assert "individual-level.sample-id" in rules(report, Verdict.BLOCK), name


def test_workbook__per_person_rows_block(tmp_path):
    rows = [["IID", "PC1", "PC2"], *([i, 0.01 * i, -0.02 * i] for i in range(1, 301))]
    assert check(_book(tmp_path, "pcs.xlsx", rows)).verdict is Verdict.BLOCK


def test_workbook__macros_embedded_files_and_entities_block(tmp_path):
    macro = _add(_book(tmp_path, "m.xlsm"), "xl/vbaProject.bin", b"\x00" * 64)
    embedded = _add(_book(tmp_path, "e.xlsx"), "xl/embeddings/oleObject1.bin", b"\x00" * 64)
    entity = _add(_book(tmp_path, "d.xlsx"), "xl/custom.xml",
                  b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')  # fmt: skip
    for path, rule in ((macro, "file-type"), (embedded, "file-type"), (entity, "malformed")):
        report = check(path)
        assert report.verdict is Verdict.BLOCK and rule in rules(report, Verdict.BLOCK), path


def test_zip_that_is_no_workbook__blocks(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    path = tmp_path / "doc.docx"
    path.write_bytes(buffer.getvalue())
    report = check(path)
    assert report.verdict is Verdict.BLOCK and "file-type" in rules(report, Verdict.BLOCK)
    # the researcher is told what the file is and what to release instead
    message = next(f.message for f in report.findings if f.rule == "file-type")
    assert "Word document" in message and "CSV" in message, message


def test_workbook__a_sample_id_inside_a_formula_blocks(tmp_path):
    # openpyxl saves no computed value, so the sheet's values show nothing in C1
    def edit(book):
        book.active["C1"] = '="DK000017"'

    report = check(_book(tmp_path, "f.xlsx", edit=edit), sample_ids=["DK000017"])
    assert report.verdict is Verdict.BLOCK
    assert "individual-level.sample-id" in rules(report, Verdict.BLOCK)


def test_workbook__formulas_without_saved_values_are_named_for_the_reviewer(tmp_path):
    def edit(book):
        book.active["B2"] = "=1+2"  # a count the table rules cannot see

    report = check(_book(tmp_path, "f.xlsx", edit=edit))
    assert report.verdict is Verdict.REVIEW
    messages = [f.message for f in report.findings if f.rule == RULE_SPREADSHEET]
    assert any(
        m.startswith("Cell B2 of part xl/worksheets/sheet1.xml is a formula") for m in messages
    )
    # a workbook of plain values has no such finding
    assert len([f for f in check(_book(tmp_path, "v.xlsx")).findings
                if f.rule == RULE_SPREADSHEET]) == 1  # fmt: skip


def _rezip(path, *, comment: bytes = b"", before_directory: bytes = b"", extra: bytes = b""):
    """The workbook's ZIP written again with a comment, bytes before its central directory,
    or an extra field on its first entry."""
    import io
    import struct

    source = zipfile.ZipFile(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for i, entry in enumerate(source.infolist()):
            if i == 0 and extra:
                entry.extra = struct.pack("<HH", 0xCAFE, len(extra)) + extra
            z.writestr(entry, source.read(entry))
        z.comment = comment
    data = buffer.getvalue()
    if before_directory:
        end = data.rfind(b"PK\x05\x06")
        at = int.from_bytes(data[end + 16 : end + 20], "little")
        moved = (at + len(before_directory)).to_bytes(4, "little")
        data = data[:at] + before_directory + data[at : end + 16] + moved + data[end + 20 :]
    path.write_bytes(data)
    return path


def test_workbook__what_excel_skips_blocks(tmp_path):
    import zlib

    secret = zlib.compress(b"DK000017,0120010201\n" * 300)
    cases = {
        "gap.xlsx": lambda p: _rezip(p, before_directory=secret),
        "extra.xlsx": lambda p: _rezip(p, extra=secret[:2000]),
        "part.xlsx": lambda p: _add(p, "xl/data.bin", secret),
        # a pivot table's cache keeps the rows it summarises, also once their sheet is gone
        "pivot.xlsx": lambda p: _add(
            p, "xl/pivotCache/pivotCacheRecords1.xml", b'<pivotCacheRecords><r><n v="54"/></r>'
        ),
    }
    for name, hide in cases.items():
        path = hide(_book(tmp_path, name))
        openpyxl.load_workbook(path)  # Excel's readers open it all the same
        assert "hidden-content" in rules(check(path), Verdict.BLOCK), name
    # comments, custom XML and document properties are text
    for name, hide in {
        "comment.xlsx": lambda p: _rezip(p, comment=b"excluded DK000017"),
        "custom.xlsx": lambda p: _add(p, "customXml/item1.xml", b"<r><n>DK000017</n></r>"),
    }.items():
        report = check(hide(_book(tmp_path, name)), sample_ids=["DK000017"])
        assert "individual-level.sample-id" in rules(report, Verdict.BLOCK), name
    # what Excel and openpyxl write, re-zipped by a tool that adds time stamps, hides nothing
    plain = _book(tmp_path, "plain.xlsx")
    assert "hidden-content" not in rules(check(plain))
