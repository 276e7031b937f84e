"""Every byte of a Parquet file belongs to its table: readers find the column chunks through the
footer's offsets and skip whatever lies between them, and a footer's fields unknown to the
reader are skipped too, so a safe-looking table could carry anything in those bytes past the
table rules and the reviewers (as bytes after a PNG's end could).

The column chunks (and bloom filters, whose places the footer gives) must tile the file from
its magic to its footer; page indexes (written after the row groups by parquet-mr and by
pyarrow's ``write_page_index``), whose places pyarrow does not give, are allowed a small share
of their chunks' size. The footer must be as long as pyarrow writes the metadata it read from
it. Not looked at: bytes inside a page past its values, and statistics that do not match the
values (a hand-made writer could put data there).
"""

from __future__ import annotations

import io

import pyarrow.parquet as pq

from airlock.checks.findings import FindingSink, Verdict

RULE_HIDDEN = "hidden-content"
#: what the page indexes of one column chunk may take, beyond ``_INDEX_SHARE`` of its size
_INDEX_BYTES = 256
_INDEX_SHARE = 0.01
#: how much longer than pyarrow's rewrite another writer's footer may be (field order and
#: varint widths of other Thrift libraries); pyarrow's own must be as long
_FOOTER_SLACK = 64
_PYARROW = "parquet-cpp-arrow"


def check_layout(pf: pq.ParquetFile, size: int, footer_length: int, sink: FindingSink) -> None:
    md = pf.metadata
    ranges: list[tuple[int, int]] = []
    allowance = 0
    for i in range(md.num_row_groups):
        group = md.row_group(i)
        for j in range(group.num_columns):
            c = group.column(j)
            offsets = [c.data_page_offset]
            if c.has_dictionary_page and c.dictionary_page_offset:
                offsets.append(c.dictionary_page_offset)
            start = min(offsets)
            ranges.append((start, start + c.total_compressed_size))
            if c.bloom_filter_offset is not None and c.bloom_filter_length:
                ranges.append(
                    (c.bloom_filter_offset, c.bloom_filter_offset + c.bloom_filter_length)
                )
            if c.has_column_index or c.has_offset_index:
                allowance += _INDEX_BYTES + int(_INDEX_SHARE * c.total_compressed_size)
    footer_start = size - 8 - footer_length
    gaps = _uncovered(ranges, 4, footer_start)
    if gaps > allowance:
        sink.add(
            RULE_HIDDEN,
            Verdict.BLOCK,
            f"{gaps:,} bytes of this Parquet file belong to no column of its table (they lie "
            "between or after its column chunks, where readers skip them): data no reviewer "
            "would see. Write the table again with pandas' to_parquet or pyarrow.",
        )
    rewritten = io.BytesIO()
    md.write_metadata_file(rewritten)  # 'PAR1', the metadata, its length, 'PAR1'
    extra = footer_length - (len(rewritten.getvalue()) - 12)
    if extra > (0 if (md.created_by or "").startswith(_PYARROW) else _FOOTER_SLACK):
        sink.add(
            RULE_HIDDEN,
            Verdict.BLOCK,
            f"The footer of this Parquet file holds {extra:,} bytes more than its table's "
            "metadata (fields that readers skip): data no reviewer would see. Write the table "
            "again with pandas' to_parquet or pyarrow.",
        )


def _uncovered(ranges: list[tuple[int, int]], start: int, end: int) -> int:
    """The bytes of [start, end) in none of ``ranges``."""
    uncovered, at = 0, start
    for lo, hi in sorted(ranges):
        if lo > at:
            uncovered += min(lo, end) - at
        at = max(at, hi)
        if at >= end:
            break
    return uncovered + max(0, end - at)
