"""A gzip, bzip2 or xz stream, UTF-16 or UTF-32 text or text with lines ended by CR alone is
checked for what it holds, not blocked for its wrapping.

A researcher's tools write summary statistics as ``.tsv.gz`` and Excel writes "Unicode text"
as UTF-16: blocking them would block safe files for their form (issue 14: a safe file is never
blocked; changing the encoding never lowers a verdict). The content is decompressed or
re-encoded as UTF-8, in a stream, into a temporary file (at most
``max_summary_statistics_bytes``: a larger one is blocked, so a decompression bomb costs
nothing), which every rule then reads as if it were the file. A gzip stream of a genomic format
(a bgzipped VCF, BCF, BAM) is still blocked by its name (airlock.checks.filetypes); a gzip
inside a gzip is blocked there too, as only one layer is taken off.
"""

from __future__ import annotations

import bz2
import codecs
import lzma
import re
import tempfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from airlock.checks.filetypes import GZIP_MAGIC, gzip_genomic

_BLOCK = 1 << 20


_BZIP2_MAGIC = re.compile(rb"BZh[1-9]1AY&SY")
_XZ_MAGIC = b"\xfd7zXZ\x00"
#: what each compressed form's file name ends with
SUFFIXES = {"gzip": ".gz", "bzip2": ".bz2", "xz": ".xz"}


class TooLarge(Exception):
    """The unwrapped content is larger than the limit."""


#: lines ended by CR alone, as classic Mac OS and Excel's "CSV (Macintosh)" write them
CR_LINES = "CR line endings"


def wrapping(head: bytes) -> str | None:
    """'gzip', 'UTF-32', 'UTF-16' (with a byte-order mark, else 'UTF-16-LE' or 'UTF-16-BE') or
    :data:`CR_LINES` when the file is one to unwrap, else None."""
    if head.startswith(GZIP_MAGIC) and gzip_genomic(head) is None:
        return "gzip"
    if _BZIP2_MAGIC.match(head):
        return "bzip2"
    if head.startswith(_XZ_MAGIC):
        return "xz"
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):  # before UTF-16's
        return "UTF-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    even, odd = head[0:256:2], head[1:256:2]
    if len(head) >= 16 and len(head) % 2 == 0:
        # UTF-16 without its byte-order mark (Python's encode('utf-16-le')): ASCII text with
        # a zero byte beside every character
        if odd.count(0) == len(odd) and _printable(even):
            return "UTF-16-LE"
        if even.count(0) == len(even) and _printable(odd):
            return "UTF-16-BE"
    if b"\n" not in head and head.count(b"\r") >= 2 and b"\x00" not in head:
        return CR_LINES
    if head.count(b"\r") - head.count(b"\r\n") >= 2 and _text(head):
        return CR_LINES  # some lines end with CR alone, others with LF (edited on two systems)
    return None


def _text(head: bytes) -> bool:
    """UTF-8 text without control characters other than tabs, line ends and form feeds (not a
    PDF, whose lines may end with CR, nor any binary format)."""
    if head.startswith(b"%PDF") or any(b < 32 and b not in (9, 10, 12, 13) for b in head):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= len(head) - 3  # a character cut at the end of the head
    return True


def _printable(data: bytes) -> bool:
    """ASCII text: printable characters, tabs and line ends only."""
    return all(32 <= b < 127 or b in (9, 10, 13) for b in data)


def unwrapped(
    f: BinaryIO, what: str, limit: int, header_texts: list[bytes] | None = None
) -> tuple[BinaryIO, int]:
    """The content of ``f`` (a gzip stream, UTF-16 text re-encoded as UTF-8, or lines ended by
    CR given LF) in a temporary file at its start, and its size; raises TooLarge past
    ``limit`` bytes, zlib.error or UnicodeDecodeError for a corrupt stream. The file names and
    comments of a gzip stream's members are added to ``header_texts``."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    try:
        size = 0
        texts = header_texts if header_texts is not None else []
        for data in _content(f, what, texts):  # piece by piece: a bomb stops at the limit
            size += len(data)
            if size > limit:
                raise TooLarge
            out.write(data)
        out.seek(0)
        return out, size
    except BaseException:
        out.close()
        raise


def _content(f: BinaryIO, what: str, header_texts: list[bytes]) -> Iterator[bytes]:
    """The unwrapped content of ``f``, in pieces of about :data:`_BLOCK` bytes."""
    if what == "gzip":
        chunk = f.read(_BLOCK)
        while chunk:  # a member (bgzip writes one per 64 KiB)
            while (texts := gzip_member_texts(chunk)) is None and (more := f.read(_BLOCK)):
                chunk += more
            if texts is None:
                raise zlib.error("the gzip stream is truncated in a member's header")
            header_texts.extend(texts)
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while chunk and not inflate.eof:
                yield inflate.decompress(chunk, _BLOCK)
                chunk = inflate.unconsumed_tail or (b"" if inflate.eof else f.read(_BLOCK))
            if not inflate.eof:
                raise zlib.error("the gzip stream is truncated")
            chunk = inflate.unused_data + chunk
            if len(chunk) < 10:
                chunk += f.read(_BLOCK)
            if chunk and not chunk.startswith(GZIP_MAGIC):
                raise zlib.error("there are bytes after the gzip stream")
    elif what in ("bzip2", "xz"):
        try:
            yield from _streams(f, what)
        except (OSError, lzma.LZMAError) as e:
            raise zlib.error(str(e)) from None
    elif what == CR_LINES:
        while chunk := f.read(_BLOCK):
            yield chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    else:
        decoder = codecs.getincrementaldecoder(what.lower())("strict")
        while True:
            chunk = f.read(_BLOCK)
            yield decoder.decode(chunk, final=not chunk).encode("utf-8")
            if not chunk:
                break


def _streams(f: BinaryIO, what: str) -> Iterator[bytes]:
    """The content of bzip2 or xz streams one after another (pbzip2 and xz -T write several);
    anything after them but xz's zero padding is an error."""
    bzip2 = what == "bzip2"
    chunk = f.read(_BLOCK)
    while chunk:
        inflate = bz2.BZ2Decompressor() if bzip2 else lzma.LZMADecompressor(lzma.FORMAT_XZ)
        data = chunk
        while not inflate.eof:
            yield inflate.decompress(data, _BLOCK)
            data = b""
            if not inflate.eof and inflate.needs_input and not (data := f.read(_BLOCK)):
                raise zlib.error(f"the {what} stream is truncated")
        chunk = inflate.unused_data
        while not bzip2 and chunk and not chunk.strip(b"\x00"):  # stream padding
            chunk = f.read(_BLOCK)
        if len(chunk) < 8:
            chunk += f.read(_BLOCK)
        if chunk and not (_BZIP2_MAGIC.match(chunk) if bzip2 else chunk.startswith(_XZ_MAGIC)):
            raise zlib.error(f"there are bytes after the {what} stream")


#: the one FEXTRA subfield readers use: bgzip's size of the compressed block
_BGZF_EXTRA = b"BC\x02\x00"


def gzip_member_texts(data: bytes) -> list[bytes] | None:
    """The file name and comment a gzip member's header may carry (``gzip x.tsv``, pandas):
    words the content does not hold, to be checked as text; None when ``data`` ends before the
    header does. Raises zlib.error when the header's extra field holds more than bgzip's block
    size: readers skip it, so it could carry anything no one sees."""
    if len(data) < 10:
        return None if GZIP_MAGIC.startswith(data[:2]) else []
    flags, pos, texts = data[3], 10, []
    if flags & 0x04:  # FEXTRA
        if len(data) < 12:
            return None
        end = pos + 2 + int.from_bytes(data[pos : pos + 2], "little")
        if len(data) < end:
            return None
        extra, pos = data[pos + 2 : end], end
        if extra and not (len(extra) == 6 and extra.startswith(_BGZF_EXTRA)):
            raise zlib.error(
                f"its header carries {len(extra):,} bytes of extra data that readers skip, "
                "which no reviewer would see"
            )
    for flag in (0x08, 0x10):  # FNAME, FCOMMENT: zero-terminated
        if flags & flag:
            end = data.find(b"\x00", pos)
            if end < 0:
                return None
            texts.append(data[pos:end])
            pos = end + 1
    return texts
