"""JSON documents and notebooks: tables inside them get the table rules; notebooks always need
a reviewer."""

from __future__ import annotations

import json

import nbformat
import pandas as pd

from airlock.checks import Verdict
from tests.checks_support import cells, check, finding, rules, write


def test_json__records_are_a_table(tmp_path):
    records = [{"group": "a", "n": 4}, {"group": "b", "n": 40}]
    report = check(write(tmp_path, "r.json", json.dumps(records)))
    assert cells(report, "min-cell-count") == {(1, "n")}


def test_json__pandas_split_and_columns_layouts(tmp_path):
    frame = pd.DataFrame({"group": ["a", "b"], "n": [40, 3]})
    for orient in ("split", "columns", "table", "records"):
        path = write(tmp_path, f"{orient}.json", frame.to_json(orient=orient))
        assert {r for r, _ in cells(check(path), "min-cell-count")} == {2}, orient


def test_json__lines_are_a_table(tmp_path):
    text = '{"group": "a", "n": 40}\n{"group": "b", "n": 2}\n'
    assert cells(check(write(tmp_path, "r.jsonl", text)), "min-cell-count") == {(2, "n")}


def test_json__other_documents_are_scanned_as_text(tmp_path):
    doc = {"model": "ldl ~ age", "excluded": ["DK000002"], "contact": "401 023 2137"}
    report = check(write(tmp_path, "d.json", json.dumps(doc, indent=1)), sample_ids=["DK000002"])
    assert {"individual-level.sample-id", "personal-id.nhs"} <= rules(report, Verdict.BLOCK)


def _notebook(tmp_path, outputs_cell) -> object:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Allele counts"), outputs_cell]
    path = tmp_path / "analysis.ipynb"
    nbformat.write(nb, path)
    return path


def test_notebook__always_needs_review(tmp_path):
    cell = nbformat.v4.new_code_cell("print('done')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="done\n")]
    report = check(_notebook(tmp_path, cell))
    assert report.verdict is Verdict.REVIEW and "notebook" in rules(report)


def test_notebook__dataframe_output_gets_the_table_rules(tmp_path):
    frame = pd.DataFrame({"n": [30, 4]}, index=pd.Index(["dk", "se"], name="cohort"))
    cell = nbformat.v4.new_code_cell("counts")
    cell.outputs = [
        nbformat.v4.new_output(
            "execute_result",
            data={"text/html": frame.to_html(), "text/plain": frame.to_string()},
            execution_count=1,
        )
    ]
    report = check(_notebook(tmp_path, cell))
    f = finding(report, "min-cell-count")
    assert f.location.row == 2 and f.location.column == "cell 2 output 1 table 1: n"
    assert report.verdict is Verdict.BLOCK


def test_notebook__identifiers_in_outputs_and_code(tmp_path):
    cell = nbformat.v4.new_code_cell("drop = ['811218-9876']")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="NHS 401 023 2137\n")]
    report = check(_notebook(tmp_path, cell))
    where = {f.rule: f.location.column for f in report.findings if f.location}
    assert where["personal-id.personnummer"] == "cell 2 source"
    assert where["personal-id.nhs"] == "cell 2 output 1"


def test_notebook__too_large_to_parse_blocks(tmp_path):
    cell = nbformat.v4.new_code_cell("x = 1")
    report = check(_notebook(tmp_path, cell), max_parse_bytes=100)
    assert "larger than" in finding(report, "malformed").message


def test_html__tables_are_checked_and_a_reviewer_always_looks(tmp_path):
    def page(frame: pd.DataFrame, extra: str = "") -> str:
        return f"<!DOCTYPE html><html><body>{extra}{frame.to_html(index=False)}</body></html>"

    safe = pd.DataFrame({"region": ["north", "south"], "n": [55, 40]})
    report = check(write(tmp_path, "safe.html", page(safe)))
    assert report.verdict is Verdict.REVIEW and "unrecognised-kind" in rules(report)
    small = pd.DataFrame({"region": ["north", "south"], "n": [55, 4]})
    assert cells(check(write(tmp_path, "small.html", page(small))), "min-cell-count") == {(2, "n")}
    scripted = check(write(tmp_path, "s.html", page(safe, "<script>alert(1)</script>")))
    assert "active-content" in rules(scripted, Verdict.BLOCK)


def test_notebook__what_jupyter_does_not_show_is_checked(tmp_path):
    import base64

    import numpy as np

    blob = base64.b64encode(np.random.default_rng(3).bytes(600)).decode()  # packed bytes
    # metadata (the notebook's, a cell's) is in the file, not on the screen
    book = nbformat.v4.new_notebook()
    book.metadata["note"] = blob
    book.cells.append(nbformat.v4.new_code_cell("x = 1"))
    report = check(write(tmp_path, "m.ipynb", nbformat.writes(book)))
    assert "individual-level.encoded-data" in rules(report, Verdict.BLOCK)
    # a table pasted into a Markdown cell as an attachment is a table
    book = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_markdown_cell("![t](attachment:t.csv)")
    cell.attachments = {"t.csv": {"text/csv": "group,n\ncases,3\ncontrols,297\n"}}
    book.cells.append(cell)
    report = check(write(tmp_path, "a.ipynb", nbformat.writes(book)))
    assert "min-cell-count" in rules(report, Verdict.BLOCK), report.findings
    # bytes in an output a notebook cannot show
    book = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("blob")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"application/octet-stream": blob})]
    book.cells.append(cell)
    f = finding(check(write(tmp_path, "o.ipynb", nbformat.writes(book))), "hidden-content")
    assert "application/octet-stream" in f.message


def test_html__comments_and_attributes_are_read_as_text(tmp_path):
    for page in (
        "<html><body><p>n = 55</p><!-- dropped DK000017 --></body></html>",
        '<html><body><p title="DK000017">n = 55</p></body></html>',
    ):
        report = check(write(tmp_path, "r.html", page), sample_ids=["DK000017"])
        assert "individual-level.sample-id" in rules(report, Verdict.BLOCK), page


def test_notebook__an_svg_output_is_checked_as_an_svg_file(tmp_path):
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><rect width="5" height="5"/>{}</svg>'
    for extra, rule in (("<script>fetch('//x')</script>", "active-content"),
                        ("<!-- dropped DK000017 -->", "individual-level.sample-id")):  # fmt: skip
        book = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("plot()")
        data = {"image/svg+xml": svg.format(extra), "text/plain": "<Figure>"}
        cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
        book.cells.append(cell)
        report = check(write(tmp_path, "s.ipynb", nbformat.writes(book)), sample_ids=["DK000017"])
        assert rule in rules(report, Verdict.BLOCK), report.findings


def test_notebook__tables_in_markdown_cells_and_displayed_markdown_are_tables(tmp_path):
    table = "| group | n |\n|---|---|\n| cases | 3 |\n| controls | 297 |\n"
    typed = nbformat.v4.new_notebook()
    typed.cells.append(nbformat.v4.new_markdown_cell("Results:\n\n" + table))
    shown = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("display(Markdown(df.to_markdown()))")
    data = {"text/markdown": table, "text/plain": "<IPython.core.display.Markdown object>"}
    cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
    shown.cells.append(cell)
    for book in (typed, shown):
        report = check(write(tmp_path, "t.ipynb", nbformat.writes(book)))
        assert "min-cell-count" in rules(report, Verdict.BLOCK), report.findings
