"""Reviewer previews: cells the checks point at are marked; content is data, never markup."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq

from airlock.web.previews import make_preview


def finding(row=None, column=None, verdict="block", message="too small"):
    return {"rule": "r", "verdict": verdict, "message": message,
            "location": {"row": row, "column": column, "value": None}}  # fmt: skip


def flagged_cells(preview):
    return {
        (row.number, preview.header[i].text)
        for row in preview.rows
        if row is not None
        for i, cell in enumerate(row.cells)
        if cell.flags
    }


def test_make_preview__table_marks_the_cell_row_and_column():
    data = b"variant,ALT_CT,OBS_CT\n1:1:A:G,40,600\n1:2:C:T,3,600\n1:3:G:A,25,600\n"
    preview = make_preview(
        "freq.csv",
        data,
        [
            finding(2, "ALT_CT", message="minor allele count 3 < 10"),
            finding(3),
            finding(None, "OBS_CT", "review"),
        ],
    )
    assert preview.kind == "table" and preview.total_rows == 3
    assert [c.text for c in preview.header] == ["variant", "ALT_CT", "OBS_CT"]
    assert flagged_cells(preview) == {(2, "ALT_CT")}
    assert preview.rows[1].cells[1].flags == ("block: minor allele count 3 < 10",)
    assert preview.rows[2].flags and not preview.rows[0].flags
    assert preview.header[2].flags and not preview.header[1].flags


def test_make_preview__column_by_index_tab_separated():
    data = b"a\tb\n1\t2\n3\t4\n"
    preview = make_preview("t.tsv", data, [finding(1, "2")])
    assert flagged_cells(preview) == {(1, "b")}


def test_make_preview__far_flagged_row_is_shown_after_a_gap():
    rows = "".join(f"{i},{i}\n" for i in range(1, 1001))
    preview = make_preview("big.csv", ("k,v\n" + rows).encode(), [finding(900, "v")])
    numbers = [r.number if r else None for r in preview.rows]
    assert numbers[:3] == [1, 2, 3] and 900 in numbers and None in numbers
    assert numbers.index(None) < numbers.index(900)
    assert (900, "v") in flagged_cells(preview)


def test_make_preview__formula_and_markup_stay_text():
    data = b'name,value\n"=HYPERLINK(""http://x"")",1\n<script>alert(1)</script>,2\n'
    preview = make_preview("f.csv", data, [])
    texts = [c.text for r in preview.rows for c in r.cells]
    assert '=HYPERLINK("http://x")' in texts and "<script>alert(1)</script>" in texts


def test_make_preview__images_pdf_binary_text():
    assert make_preview("p.png", b"\x89PNG\r\n\x1a\n....", []).image_type == "image/png"
    svg = make_preview(
        "p.svg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', []
    )
    assert svg.kind == "image" and svg.image_type == "image/svg+xml" and "<svg" in svg.text
    assert make_preview("r.pdf", b"%PDF-1.7 ...", []).kind == "pdf"
    assert make_preview("x.bin", bytes(range(256)), []).kind == "binary"
    text = make_preview("notes.md", "# Résumé\nline two\n".encode(), [finding(2)])
    assert text.kind == "text" and text.rows[1].flags and text.rows[0].cells[0].text == "# Résumé"
    assert make_preview("e.csv", b"", []).kind == "empty"


def test_make_preview__parquet_table():
    buffer = io.BytesIO()
    pq.write_table(pa.table({"variant": ["a", "b"], "ALT_CT": [12, 4]}), buffer)
    preview = make_preview("freq.parquet", buffer.getvalue(), [finding(2, "ALT_CT")])
    assert preview.kind == "table" and flagged_cells(preview) == {(2, "ALT_CT")}
    broken = make_preview("bad.parquet", buffer.getvalue()[:20], [])
    assert broken.kind == "binary" and "cannot be read" in broken.note


def test_make_preview__never_fails_deep_nesting_gives_the_size_and_a_note():
    """json.loads raises RecursionError on deep nesting (not a ValueError): the preview says
    so, with the raw size, instead of failing the reviewer's page (issue 12, defect 4)."""
    nested = b"[" * 100_000 + b"]" * 100_000
    for name, data in (("deep.json", nested), ("deep.ipynb", b'{"cells": ' + nested + b"}")):
        preview = make_preview(name, data, [])
        assert preview.kind == "unavailable"
        assert f"{len(data)} bytes" in preview.note and "RecursionError" in preview.note
        assert "download" in preview.note.lower()
