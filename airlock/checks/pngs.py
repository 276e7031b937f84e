"""PNG images walked chunk by chunk: what a viewer shows, and what it skips. A figure released
as a file, or embedded in a notebook, Markdown, HTML or an SVG, may carry data where no viewer
looks: chunks of types viewers skip, known chunks larger than they need to be, pixel rows past
the image's height, bytes after the compressed pixels or after the image's end. Text chunks
(and EXIF's strings) are handed back to be read as text.
"""

from __future__ import annotations

import dataclasses
import io
import re
import struct
import zlib
from typing import BinaryIO

from airlock.checks.reading import Unreadable

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_TEXT_CHUNK_LIMIT = 1024 * 1024
_SAVE = "Save the figure again from your plotting library."


@dataclasses.dataclass
class PngReport:
    #: (chunk type, text) of the text chunks and EXIF, to be read as text
    texts: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    #: what the image holds that no viewer shows, each said for a researcher
    hidden: list[str] = dataclasses.field(default_factory=list)


def inspect(f: BinaryIO, size: int) -> PngReport:
    """Walk the PNG image in ``f`` (``size`` bytes); raises Unreadable when it is truncated or
    damaged."""
    report = PngReport()
    f.seek(8)
    pixels = _PngPixels()
    while True:
        header = f.read(8)
        if len(header) < 8:
            raise Unreadable(
                "the PNG image is truncated (it ends before its IEND chunk); save it again"
            )
        length, kind = struct.unpack(">I4s", header)
        if kind not in _PNG_CHUNKS or length > _PNG_CHUNKS[kind]:
            what = kind.decode("latin-1")
            why = "larger than such a chunk needs" if kind in _PNG_CHUNKS else "which viewers skip"
            report.hidden.append(
                f"The PNG image has a '{what}' chunk of {length:,} bytes, {why}: data no "
                f"reviewer would see. {_SAVE}"
            )
        elif kind in (b"tEXt", b"zTXt", b"iTXt", b"eXIf"):
            data = f.read(length)
            f.seek(4, 1)
            report.texts.append((kind.decode(), _png_text(kind, data)))
            continue
        elif kind in (b"IHDR", b"IDAT"):
            data = f.read(length)
            f.seek(4, 1)
            pixels.header(data) if kind == b"IHDR" else pixels.data(data)
            continue
        if kind == b"IEND":
            end = f.seek(length + 4, 1)
            if end < size:
                report.hidden.append(
                    f"{size - end:,} bytes follow the end of the PNG image: data hidden behind "
                    f"a picture. {_SAVE}"
                )
            if (extra := pixels.extra()) is not None:
                report.hidden.append(
                    f"The PNG image's pixel data holds {extra}, which no viewer shows: data "
                    f"hidden in a picture. {_SAVE}"
                )
            return report
        if f.seek(length + 4, 1) > size:
            raise Unreadable("the PNG image is truncated; save it again")


def embedded(payload: str | bytes) -> PngReport:
    """:func:`inspect` of a base64 PNG image embedded in a notebook, a page or an SVG; an image
    that is not a whole PNG is reported as hidden content (its bytes show nothing)."""
    import base64

    try:
        data = base64.b64decode(re.sub(rb"\s+", b"", _bytes(payload)), validate=True)
    except ValueError:
        data = b""
    report = inspect_bytes(data)
    if report is None:
        return PngReport(hidden=[f"An embedded PNG image is not a whole PNG image: {_SAVE}"])
    return report


def _bytes(payload: str | bytes) -> bytes:
    return payload.encode("latin-1", "replace") if isinstance(payload, str) else payload


def inspect_bytes(data: bytes) -> PngReport | None:
    """:func:`inspect` of a PNG image held in memory (embedded in a notebook or a page); None
    when it is not a whole PNG image."""
    if not data.startswith(PNG_MAGIC):
        return None
    try:
        return inspect(io.BytesIO(data), len(data))
    except Unreadable:
        return None


#: the chunks a PNG image may have, with the largest each may be: what a viewer shows, and
#: metadata that is read as text (the text chunks, EXIF) or is too small to hide much (a
#: colour profile); viewers skip any other chunk, so it could carry anything (an animated
#: PNG's frames, which a still figure does not need, included)
_PNG_CHUNKS = {
    b"IHDR": 13,
    b"PLTE": 768,
    b"IDAT": 1 << 31,
    b"IEND": 0,
    b"tRNS": 256,
    b"cHRM": 32,
    b"gAMA": 4,
    b"sBIT": 4,
    b"sRGB": 1,
    b"cICP": 4,
    b"mDCV": 24,
    b"cLLI": 8,
    b"bKGD": 6,
    b"hIST": 512,
    b"pHYs": 9,
    b"tIME": 7,
    b"iCCP": 16 * 1024,
    b"tEXt": 1 << 20,
    b"zTXt": 1 << 20,
    b"iTXt": 1 << 20,
    b"eXIf": 16 * 1024,
}


#: samples per pixel by PNG colour type
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
#: Adam7's passes: (first column, first row, column step, row step)
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2))  # fmt: skip


class _PngPixels:
    """The pixel data of the IDAT chunks, decompressed as it comes and counted against what the
    header's size and format need: a viewer ignores rows past the image's height and bytes
    after the compressed stream, so they could carry anything."""

    def __init__(self) -> None:
        self.expected: int | None = None
        self.inflate = zlib.decompressobj()
        self.inflated = 0
        self.after = 0  # compressed bytes after the stream's end

    def header(self, data: bytes) -> None:
        if len(data) != 13:
            raise Unreadable("the PNG image's header is damaged; save it again")
        width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data)
        bits = depth * _PNG_CHANNELS.get(colour, 4)
        passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
        self.expected = 0
        for x0, y0, dx, dy in passes:
            w, h = -(-(width - x0) // dx), -(-(height - y0) // dy)
            if w > 0 and h > 0:
                self.expected += h * (1 + -(-(w * bits) // 8))

    def data(self, data: bytes) -> None:
        if self.inflate.eof:
            self.after += len(data)
            return
        try:
            while data and not self.inflate.eof:
                self.inflated += len(self.inflate.decompress(data, 1 << 20))
                data = self.inflate.unconsumed_tail
        except zlib.error as e:
            raise Unreadable(f"the PNG image's pixels are damaged ({e}); save it again") from None
        self.after += len(self.inflate.unused_data)

    def extra(self) -> str | None:
        """What the pixel data holds beyond the image, in words; None when nothing."""
        if self.expected is None:
            raise Unreadable("the PNG image has no header chunk; save it again")
        if self.inflated > self.expected:
            return f"{self.inflated - self.expected:,} bytes more than its width and height need"
        if self.after:
            return f"{self.after:,} bytes after its compressed stream"
        return None


def _png_text(kind: bytes, data: bytes) -> str:
    if kind == b"eXIf":  # its strings (camera, software, comment) among binary fields
        return "EXIF: " + " ".join(re.findall(r"[ -~]{4,}", data.decode("latin-1")))
    key, _, rest = data.partition(b"\x00")
    try:
        if kind == b"zTXt":
            rest = zlib.decompressobj().decompress(rest[1:], _TEXT_CHUNK_LIMIT)
            value = rest.decode("latin-1")
        elif kind == b"iTXt":
            flag, rest = rest[0], rest[2:]
            _, _, rest = rest.partition(b"\x00")  # language tag
            _, _, rest = rest.partition(b"\x00")  # translated keyword
            if flag:
                rest = zlib.decompressobj().decompress(rest, _TEXT_CHUNK_LIMIT)
            value = rest.decode("utf-8", "replace")
        else:
            value = rest.decode("latin-1")
    except (zlib.error, IndexError):
        value = ""
    return f"{key.decode('latin-1')}: {value}"
