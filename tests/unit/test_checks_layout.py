"""Nothing hides where readers skip: bytes between a Parquet file's column chunks or in its
footer's unknown fields block, while what pyarrow writes with any option passes; many
characters that take no space block in any text."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airlock.checks import Verdict, check_file
from tests.checks_corpus import corpus_context, sample_ids
from tests.checks_support import finding, rules, write


def crosstab(**options) -> bytes:
    table = pa.table({"region": ["north", "south"], "cases": [55, 40], "controls": [120, 115]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **options)
    return buffer.getvalue()


def footer(data: bytes) -> int:
    """Where the footer starts."""
    return len(data) - 8 - int.from_bytes(data[-8:-4], "little")


def checked(tmp_path, data: bytes):
    return check_file(write(tmp_path, "crosstab.parquet", data), corpus_context())


SECRET = "\n".join(f"{i},0120010201" for i in sample_ids("dk")).encode()


@pytest.mark.parametrize("hide", [lambda s: s, zlib.compress], ids=["plain", "deflated"])
def test_parquet_layout__bytes_between_the_chunks_and_the_footer_block(tmp_path, hide):
    data = crosstab()
    at = footer(data)
    assert pq.read_table(io.BytesIO(data[:at] + hide(SECRET) + data[at:])).num_rows == 2
    report = checked(tmp_path, data[:at] + hide(SECRET) + data[at:])
    f = finding(report, "hidden-content")
    assert f.verdict is Verdict.BLOCK and "belong to no column" in f.message, f.message


def test_parquet_layout__an_unknown_footer_field_blocks(tmp_path):
    data = crosstab()
    at = footer(data)
    meta = data[at:-8]
    assert meta[-1] == 0  # the FileMetaData struct's stop byte
    # a Thrift compact binary field of id 99 before it: readers skip it
    payload = b"DK000017 0120010201"
    field = bytes([0x08, 0xC6, 0x01, len(payload)]) + payload
    meta = meta[:-1] + field + b"\x00"
    forged = data[:at] + meta + len(meta).to_bytes(4, "little") + b"PAR1"
    assert pq.read_table(io.BytesIO(forged)).num_rows == 2
    f = finding(checked(tmp_path, forged), "hidden-content")
    assert "footer" in f.message, f.message


def test_parquet_layout__the_writer_name_is_read_as_text(tmp_path):
    data = crosstab()
    forged = data.replace(b"parquet-cpp-arrow", b"DK000017-cp-arrow")
    assert len(forged) == len(data)
    assert "individual-level.sample-id" in rules(checked(tmp_path, forged))


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"write_page_index": True, "data_page_size": 1024},
        {"data_page_version": "2.0", "compression": "zstd"},
        {"row_group_size": 1, "use_dictionary": False},
        {"bloom_filter_options": {"region": {"ndv": 10}}},
        {"write_statistics": False, "store_schema": False},
        {"write_page_checksum": True, "version": "1.0"},
    ],
)
def test_parquet_layout__what_pyarrow_writes_has_nothing_hidden(tmp_path, options):
    assert "hidden-content" not in rules(checked(tmp_path, crosstab(**options)))


def test_parquet_layout__a_large_table_with_small_indexed_pages_has_nothing_hidden(tmp_path):
    rng = np.random.default_rng(7)
    n = 50_000
    table = pa.table({"ID": [f"rs{i}" for i in range(n)], "P": rng.uniform(size=n)})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, write_page_index=True, data_page_size=1024)
    path = write(tmp_path, "sumstats.parquet", buffer.getvalue())
    assert "hidden-content" not in rules(check_file(path, corpus_context()))


def test_invisible_characters__many_in_a_text_or_a_table_block(tmp_path):
    bits = np.random.default_rng(4).integers(0, 2, 600)
    hidden = "".join("\u200c" if b else "\u200b" for b in bits)
    note = f"We fitted a linear model of LDL on age.{hidden}\n"
    assert "hidden-content" in rules(check_file(write(tmp_path, "m.md", note), corpus_context()))
    table = f"region,cases,controls\nnorth{hidden},55,120\nsouth,40,115\n"
    report = check_file(write(tmp_path, "t.csv", table), corpus_context())
    assert "hidden-content" in rules(report), report.findings
    # variation selectors carry a byte each ('emoji smuggling'); emoji's own ones are fine
    smuggled = "ok" + "".join(chr(0xE0100 + b) for b in range(100))
    assert "hidden-content" in rules(
        check_file(write(tmp_path, "s.md", smuggled), corpus_context())
    )
    emoji = "Done \u2764\ufe0f, thanks \U0001f468\u200d\U0001f469\u200d\U0001f467! " * 20
    assert "hidden-content" not in rules(
        check_file(write(tmp_path, "e.md", emoji), corpus_context())
    )
