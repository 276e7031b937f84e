"""Every byte of a container file belongs to what its readers show: a reader finds the parts
through an index and skips whatever lies between them, so a safe-looking file could carry
anything in those bytes past the rules and the reviewers (as bytes after a PNG's end could).

**Parquet**: readers find the column chunks through the footer's offsets, and skip a footer's
fields unknown to them.
The column chunks (and bloom filters, whose places the footer gives) must tile the file from
its magic to its footer; page indexes (written after the row groups by parquet-mr and by
pyarrow's ``write_page_index``), whose places pyarrow does not give, are allowed a small share
of their chunks' size. The footer must be as long as pyarrow writes the metadata it read from
it. Not looked at: bytes inside a page past its values, and statistics that do not match the
values (a hand-made writer could put data there).

**ZIP** (an Excel workbook): the entries' local headers and data, the central directory and its
end record must tile the archive; an extra field (in a local header or the directory) other
than the small ones zip tools write, and bytes before, between or after the entries, are data
that unzipping skips. The archive's and the entries' comments are text for the text rules.
"""

from __future__ import annotations

import io
import struct
import zipfile

import pyarrow.parquet as pq

from airlock.checks.findings import RULE_HIDDEN, FindingSink, Verdict

#: what the page indexes of one column chunk may take, beyond ``_INDEX_SHARE`` of its size
_INDEX_BYTES = 256
_INDEX_SHARE = 0.01
#: how much longer than pyarrow's rewrite another writer's footer may be (field order and
#: varint widths of other Thrift libraries); pyarrow's own must be as long
_FOOTER_SLACK = 64
_PYARROW = "parquet-cpp-arrow"


def check_parquet_layout(
    pf: pq.ParquetFile, size: int, footer_length: int, sink: FindingSink
) -> None:
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
    gaps = uncovered(ranges, 4, footer_start)
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


def uncovered(ranges: list[tuple[int, int]], start: int, end: int) -> int:
    """The bytes of [start, end) in none of ``ranges``."""
    uncovered, at = 0, start
    for lo, hi in sorted(ranges):
        if lo > at:
            uncovered += min(lo, end) - at
        at = max(at, hi)
        if at >= end:
            break
    return uncovered + max(0, end - at)


#: extra fields zip tools write, with the most each holds: Zip64 sizes, NTFS and Unix times,
#: Info-ZIP's Unix ids
_ZIP_EXTRAS = {0x0001: 28, 0x000A: 32, 0x5455: 13, 0x7875: 11, 0x5855: 12}


def zip_hidden_bytes(data: bytes, entries: list[zipfile.ZipInfo]) -> str | None:
    """What of a ZIP archive unzipping skips, in words (bytes outside its entries, central
    directory and end record; unknown or oversized extra fields); None when nothing."""
    ranges: list[tuple[int, int]] = []
    extras = 0
    for e in entries:
        at = e.header_offset
        if data[at : at + 4] != b"PK\x03\x04":
            return f"an entry ({e.filename}) that does not start where the directory says"
        name_length, extra_length = struct.unpack("<HH", data[at + 26 : at + 30])
        extra_at = at + 30 + name_length
        extras += _unknown_extras(data[extra_at : extra_at + extra_length])
        extras += _unknown_extras(e.extra)
        end = at + 30 + name_length + extra_length + e.compress_size
        if e.flag_bits & 0x08:  # a data descriptor after the data (signature optional)
            zip64 = e.file_size >= 0xFFFFFFFF or e.compress_size >= 0xFFFFFFFF
            end += (20 if zip64 else 12) + (4 if data[end : end + 4] == b"PK\x07\x08" else 0)
        ranges.append((at, end))
    eocd = data.rfind(b"PK\x05\x06")
    if eocd < 0:
        return "no end record"
    directory_size, directory_offset, comment_length = struct.unpack(
        "<IIH", data[eocd + 12 : eocd + 22]
    )
    if directory_offset == 0xFFFFFFFF:  # Zip64: the directory's place is in its own records
        locator = data.rfind(b"PK\x06\x07", 0, eocd)
        record = int.from_bytes(data[locator + 8 : locator + 16], "little")
        directory_size, directory_offset = struct.unpack("<QQ", data[record + 40 : record + 56])
        ranges.append((record, eocd))
    ranges.append((directory_offset, directory_offset + directory_size))
    ranges.append((eocd, eocd + 22 + comment_length))
    gaps = uncovered(ranges, 0, len(data))
    if gaps:
        return f"{gaps:,} bytes outside its entries"
    if extras:
        return f"{extras:,} bytes in extra fields of its entries"
    return None


def _unknown_extras(extra: bytes) -> int:
    """The bytes of an entry's extra field that are not a field zip tools write."""
    unknown, at = 0, 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack("<HH", extra[at : at + 4])
        if _ZIP_EXTRAS.get(kind, -1) < length:
            unknown += 4 + length
        at += 4 + length
    return unknown + max(0, len(extra) - at)
