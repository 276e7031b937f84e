"""gzip streams and UTF-16 text are checked for what they hold (airlock.checks.unwrap): a safe
one is never blocked for its wrapping, a disclosive one blocks as its content would."""

from __future__ import annotations

import gzip
import io

from airlock.checks import CheckContext, Verdict, check_file
from tests.checks_support import write

CONTEXT = CheckContext.with_sample_ids([f"DK{i:06d}" for i in range(1, 41)])
SAFE = "region,cases,controls\nnorth,30,120\nsouth,45,130\n"
SMALL = "region,cases,controls\nnorth,3,120\nsouth,45,130\n"


def _rules(report) -> set[str]:
    return {f.rule for f in report.findings}


def test_unwrap__a_gzip_stream_gets_its_contents_verdict(tmp_path):
    safe = check_file(write(tmp_path, "safe.csv.gz", gzip.compress(SAFE.encode())), CONTEXT)
    small = check_file(write(tmp_path, "small.csv.gz", gzip.compress(SMALL.encode())), CONTEXT)
    plain = check_file(write(tmp_path, "small.csv", SMALL), CONTEXT)
    assert safe.verdict is Verdict.PASS, safe.findings
    assert small.verdict is Verdict.BLOCK and _rules(small) == _rules(plain)


def test_unwrap__utf16_text_needs_a_look_at_most_and_keeps_its_contents_verdict(tmp_path):
    safe = check_file(write(tmp_path, "safe.tsv", SAFE.encode("utf-16")), CONTEXT)
    small = check_file(write(tmp_path, "small.tsv", SMALL.encode("utf-16")), CONTEXT)
    assert safe.verdict is Verdict.REVIEW and _rules(safe) == {"encoding"}
    assert small.verdict is Verdict.BLOCK and "min-cell-count" in _rules(small)


def test_unwrap__compressed_utf16_or_cr_lines_and_mixed_line_ends_read_as_plain(tmp_path):
    """A compressed file of UTF-16 text or of CR line ends is unwrapped once more, and lines
    that end with CR alone beside others that end with LF are lines (csv stopped on them)."""
    files = {
        "cr.csv.gz": gzip.compress(SMALL.replace("\n", "\r").encode()),
        "utf16.tsv.gz": gzip.compress(SMALL.encode("utf-16")),
        "mixed.csv": SMALL.replace("\n", "\r", 2).encode(),
    }
    for name, data in files.items():
        report = check_file(write(tmp_path, name, data), CONTEXT)
        assert report.verdict is Verdict.BLOCK, (name, report.findings)
        assert _rules(report) == {"encoding", "min-cell-count", "rounding"}, (name, report)
    safe = check_file(
        write(tmp_path, "safe.csv.gz", gzip.compress(SAFE.replace("\n", "\r").encode())), CONTEXT
    )
    assert safe.verdict is Verdict.REVIEW and _rules(safe) == {"encoding"}, safe.findings


def test_unwrap__bgzip_members_are_read_one_after_another(tmp_path):
    data = gzip.compress(b"region,cases,controls\n") + gzip.compress(b"north,3,120\n")
    assert "min-cell-count" in _rules(check_file(write(tmp_path, "m.csv.gz", data), CONTEXT))


def test_unwrap__the_gzip_headers_file_name_is_checked(tmp_path):
    buffer = io.BytesIO()
    with gzip.GzipFile("DK000007_counts.csv", "wb", fileobj=buffer, mtime=0) as g:
        g.write(SAFE.encode())
    report = check_file(write(tmp_path, "c.csv.gz", buffer.getvalue()), CONTEXT)
    assert report.verdict is Verdict.BLOCK and "individual-level.sample-id" in _rules(report)


def test_unwrap__what_cannot_be_unwrapped_blocks(tmp_path):
    trailing = gzip.compress(SAFE.encode()) + b"hidden DK000001"
    nested = gzip.compress(gzip.compress(SAFE.encode()))
    truncated = gzip.compress(SAFE.encode() * 50)[:-30]
    for name, data, rule in [("t.csv.gz", trailing, "malformed"),
                             ("n.csv.gz", nested, "file-type"),
                             ("c.csv.gz", truncated, "malformed")]:  # fmt: skip
        report = check_file(write(tmp_path, name, data), CONTEXT)
        assert report.verdict is Verdict.BLOCK and rule in _rules(report), (name, report)


def test_unwrap__a_stream_larger_than_the_limit_blocks_without_being_kept(tmp_path):
    config = CONTEXT.config.model_copy(update={"max_summary_statistics_bytes": 1000})
    context = CheckContext(config, CONTEXT.datasets)
    bomb = gzip.compress(b"0" * 50_000)
    report = check_file(write(tmp_path, "b.csv.gz", bomb), context)
    assert report.verdict is Verdict.BLOCK and _rules(report) == {"file-size"}


def _member(data: bytes, *, extra: bytes = b"", comment: bytes = b"") -> bytes:
    """One gzip member with an extra field or a comment in its header (RFC 1952)."""
    import struct
    import zlib

    flags = (0x04 if extra else 0) | (0x10 if comment else 0)
    header = b"\x1f\x8b\x08" + bytes([flags]) + b"\x00" * 5 + b"\xff"
    if extra:
        header += struct.pack("<H", len(extra)) + extra
    if comment:
        header += comment + b"\x00"
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = deflate.compress(data) + deflate.flush()
    return header + body + struct.pack("<II", zlib.crc32(data), len(data))


def test_unwrap__what_a_gzip_header_carries_beside_the_content_is_seen(tmp_path):
    import pysam

    # bgzip's extra field (the block size) is what readers use, and passes
    plain = write(tmp_path, "safe.csv", SAFE)
    pysam.tabix_compress(str(plain), str(tmp_path / "safe.csv.gz"))
    assert check_file(tmp_path / "safe.csv.gz", CONTEXT).verdict is Verdict.PASS
    # any other extra field is skipped by readers: it could carry anything
    hidden = _member(SAFE.encode(), extra=b"XX" + (8000).to_bytes(2, "little") + b"\x01" * 8000)
    report = check_file(write(tmp_path, "hidden.csv.gz", hidden), CONTEXT)
    assert report.verdict is Verdict.BLOCK and "extra data" in report.findings[0].message
    # a later member's comment is text, as the first one's name is
    named = _member(SAFE.encode()) + _member(b"", comment=b"dropped DK000017")
    report = check_file(write(tmp_path, "named.csv.gz", named), CONTEXT)
    assert "individual-level.sample-id" in _rules(report)


def test_unwrap__bzip2_xz_and_utf32_are_read_as_gzip_and_utf16_are(tmp_path):
    import bz2
    import lzma

    for name, wrap in (("c.tsv.bz2", bz2.compress), ("c.tsv.xz", lzma.compress)):
        safe = check_file(write(tmp_path, name, wrap(SAFE.encode())), CONTEXT)
        small = check_file(write(tmp_path, name, wrap(SMALL.encode())), CONTEXT)
        assert safe.verdict is Verdict.PASS, safe.findings
        assert "min-cell-count" in _rules(small)
        # several streams (pbzip2, xz -T) are one content; anything after them blocks
        two = wrap(SAFE[:30].encode()) + wrap(SAFE[30:].encode())
        assert check_file(write(tmp_path, name, two), CONTEXT).verdict is Verdict.PASS
        trailing = check_file(write(tmp_path, name, wrap(SAFE.encode()) + b"DK000001"), CONTEXT)
        assert "malformed" in _rules(trailing)
    safe = check_file(write(tmp_path, "c.tsv", SAFE.encode("utf-32")), CONTEXT)
    small = check_file(write(tmp_path, "c.tsv", SMALL.encode("utf-32")), CONTEXT)
    assert safe.verdict is Verdict.REVIEW and _rules(safe) == {"encoding"}, safe.findings
    assert "min-cell-count" in _rules(small)
