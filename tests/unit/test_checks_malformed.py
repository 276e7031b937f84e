"""Awkward and malformed input: read correctly when it is a table, a readable block when it is
not, never a traceback."""

from __future__ import annotations

import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airlock.checks import Verdict, check_file
from tests.checks_support import cells, check, finding, rules, write


def test_bom__csv_with_byte_order_mark_is_read_as_a_table(tmp_path):
    path = write(tmp_path, "bom.csv", "\ufeffgroup,n\na,4\nb,20\n")
    report = check(path)
    assert cells(report, "min-cell-count") == {(1, "n")}  # the header is 'group', not '\ufeffgroup'
    assert "encoding" not in rules(report)


def test_latin1__read_as_latin1_with_a_review_and_still_checked(tmp_path):
    path = write(tmp_path, "l.csv", "kommune,n\nKøbenhavn,3\nÅrhus,40\n", encoding="latin-1")
    report = check(path)
    assert "encoding" in rules(report, Verdict.REVIEW)
    f = next(f for f in report.findings if f.rule == "min-cell-count")
    assert (f.location.row, f.location.column) == (1, "n")
    assert "København" in f.message


def test_latin1__non_utf8_bytes_far_into_the_file_are_read_again_as_latin1(tmp_path):
    body = "".join(f"g{i},{20 + i % 5 * 5}\n" for i in range(20_000))
    path = write(tmp_path, "l.csv", "group,n\n" + body + "Møn,3\n", encoding="latin-1")
    assert os.path.getsize(path) > 64 * 1024
    report = check(path)
    assert "encoding" in rules(report, Verdict.REVIEW)
    assert cells(report, "min-cell-count") == {(20_001, "n")}


def test_semicolons__with_decimal_commas(tmp_path):
    path = write(tmp_path, "s.csv", "gruppe;n;andel\nA;4;0,25\nB;30;0,75\n")
    report = check(path)
    assert cells(report, "min-cell-count") == {(1, "n")}


def test_quoted_newlines__rows_are_records_not_lines(tmp_path):
    path = write(tmp_path, "q.csv", 'label,n\n"first\nline",20\n"second, with comma",25\nthird,3\n')
    report = check(path)
    assert cells(report, "min-cell-count") == {(3, "n")}


def test_quoted_newlines__across_read_blocks(tmp_path, monkeypatch):
    from airlock.checks import reading

    monkeypatch.setattr(reading, "BLOCK_BYTES", 64)
    rows = "".join(f'"row {i}\nhas two lines",{20 if i != 37 else 4}\n' for i in range(60))
    report = check(write(tmp_path, "q.csv", "label,n\n" + rows))
    assert cells(report, "min-cell-count") == {(38, "n")}


def test_crlf__windows_line_endings(tmp_path):
    path = write(tmp_path, "w.csv", "group,n\r\na,4\r\nb,20\r\n")
    assert cells(check(path), "min-cell-count") == {(1, "n")}


def test_empty_file__blocks_with_a_reason(tmp_path):
    report = check(write(tmp_path, "e.csv", b""))
    assert report.verdict is Verdict.BLOCK
    assert "empty" in finding(report, "file-type").message


def test_header_only__passes(tmp_path):
    assert check(write(tmp_path, "h.csv", "group,n\n")).verdict is Verdict.PASS


def test_single_50mb_line__blocks_with_a_reason(tmp_path):
    path = tmp_path / "long.csv"
    with open(path, "wb") as f:
        f.write(b"a," * (25 * 1024 * 1024))
    report = check(path)
    assert report.verdict is Verdict.BLOCK
    message = finding(report, "malformed").message
    assert "longer than 1,048,576 bytes" in message
    assert "file-size" in rules(report)


def test_long_line_after_short_ones__names_its_line(tmp_path):
    path = write(tmp_path, "l.txt", "short\n" * 10 + "x" * 2000 + "\nshort\n")
    report = check(path, max_line_bytes=1000)
    f = finding(report, "malformed")
    assert "line 11" in f.message and f.verdict is Verdict.BLOCK


def test_ragged_rows__block_naming_the_line(tmp_path):
    path = write(tmp_path, "r.csv", "a,b\n1,2\n3,4,5\n")
    f = finding(check(path), "malformed")
    assert "line 3 has 3 fields but the header has 2" in f.message


def test_unclosed_quote__blocks(tmp_path):
    path = write(tmp_path, "u.csv", 'a,b\n1,"never closed\n2,3\n')
    report = check(path)
    assert report.verdict is Verdict.BLOCK
    assert "quote" in finding(report, "malformed").message


def test_parquet__is_read_as_a_table(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"group": ["a", "b"], "n": [4, 20]}), path)
    assert cells(check(path), "min-cell-count") == {(1, "n")}


def test_parquet__row_numbers_continue_across_batches(tmp_path):
    path = tmp_path / "t.parquet"
    n = [20] * 70_000
    n[66_000] = 2
    pq.write_table(pa.table({"g": [f"g{i}" for i in range(70_000)], "n": n}), path,
                   row_group_size=10_000)  # fmt: skip
    assert cells(check(path, max_table_rows=100_000), "min-cell-count") == {(66_001, "n")}


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_parquet__blocks_with_a_reason(tmp_path, keep):
    path = tmp_path / "t.parquet"
    frame = pd.DataFrame({"group": [f"g{i}" for i in range(1000)], "n": range(1000)})
    frame.to_parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    report = check(path)
    assert report.verdict is Verdict.BLOCK
    assert "truncated" in report.findings[0].message


def test_parquet_with_broken_footer__blocks_with_a_reason(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"n": [1, 2]}).to_parquet(path)
    data = bytearray(path.read_bytes())
    data[-12:-4] = b"\xff" * 8  # footer length and metadata garbled
    path.write_bytes(bytes(data))
    report = check(path)
    assert report.verdict is Verdict.BLOCK
    assert "damaged or truncated" in finding(report, "malformed").message


def test_malformed_json__blocks_with_a_reason(tmp_path):
    report = check(write(tmp_path, "b.json", '{"a": [1, 2,'))
    assert "not valid JSON" in finding(report, "malformed").message


def test_unexpected_error__blocks_instead_of_raising(tmp_path, monkeypatch):
    from airlock.checks import dispatch

    def explode(*args, **kwargs):
        raise RuntimeError("a bug in a rule")

    monkeypatch.setattr(dispatch, "check_size", explode)
    report = check_file(write(tmp_path, "t.txt", "hello\n"))
    assert report.verdict is Verdict.BLOCK
    assert "RuntimeError: a bug in a rule" in report.findings[0].message


def test_one_column_csv__is_a_table(tmp_path):
    assert cells(check(write(tmp_path, "n.csv", "n\n3\n40\n")), "min-cell-count") == {(1, "n")}


def test_ragged_rows__in_a_long_file_sniffed_by_content(tmp_path):
    body = "".join(f"g{i},{20}\n" for i in range(30))
    path = write(tmp_path, "r.txt", "a,b\n" + body + "x,1,2\n")
    assert "line 32 has 3 fields" in finding(check(path), "malformed").message


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(['"', "\n", ",", "a", "1", '""', "\r\n", "é"]), max_size=120),
    st.integers(1, 40),
)
def test_text_blocks__whole_records_whatever_the_read_size(pieces, block_bytes):
    """Blocks are the file's bytes in order, cut only after a newline outside quotes, and each
    knows its first line, however the reads fall."""
    import io

    from airlock.checks.reading import Unreadable, iter_text_blocks

    data = "".join(pieces).encode()
    try:
        blocks = list(iter_text_blocks(io.BytesIO(data), encoding="utf-8", max_line_bytes=10**6,
                                       quoted=True, block_bytes=block_bytes))  # fmt: skip
    except Unreadable:
        assert data.count(b'"') % 2 == 1  # a quote never closed
        return
    assert b"".join(b.raw for b in blocks) == data
    line = 1
    for b in blocks[:-1]:
        assert b.raw.endswith(b"\n") and b.raw.count(b'"') % 2 == 0
        assert b.first_line == line
        line += b.raw.count(b"\n")


@pytest.mark.parametrize("block_bytes", [64, 1 << 20])
def test_text_blocks__an_unfinished_last_line_stays_with_the_lines_before_it(block_bytes):
    """pandas' to_markdown() writes no newline at the end: the table's last row was read as a
    block of its own, so a count of 3 in it was not seen as the table's."""
    import io

    from airlock.checks.reading import iter_text_blocks

    data = b"| group | n |\n|---|---|\n| a | 250 |\n| b | 3 |"
    blocks = list(iter_text_blocks(io.BytesIO(data), encoding="utf-8", max_line_bytes=10**6,
                                   quoted=False, block_bytes=block_bytes))  # fmt: skip
    assert b"".join(b.raw for b in blocks) == data
    assert blocks[-1].raw.endswith(b"| b | 3 |") and blocks[-1].raw.count(b"\n") >= 1


def test_markdown_without_a_final_newline__its_last_row_is_checked(tmp_path):
    path = write(tmp_path, "t.md", "| group | n |\n|---|--:|\n| a | 250 |\n| b | 47 |\n| c | 3 |")
    assert check(path).verdict is Verdict.BLOCK
