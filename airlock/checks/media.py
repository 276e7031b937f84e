"""Images and documents: PNG, SVG and PDF always need a human (review); what can be checked
automatically is checked, and hidden or active content blocks.

- PNG: text chunks (and EXIF's strings) are scanned for identifiers and sample IDs; a truncated
  file, data after the end of the image (a second file hidden behind it), chunks viewers skip,
  and pixel data beyond what the image's size needs (rows past its height, bytes after the
  compressed stream) block.
- SVG: parsed without DTDs or entities (defusedxml); scripts, event handlers, ``javascript:``
  links, ``foreignObject``, references outside the file and non-image ``data:`` URIs block;
  embedded raster images are pointed out to the reviewer; text is scanned.
- PDF: JavaScript, launch actions, embedded files, rich media, XFA forms and encryption block;
  a file without an end-of-file marker is truncated; bytes after the last one, and incremental
  updates (earlier revisions kept in the file; a linearized file has two markers), block. The
  text of a PDF is usually compressed, so only a reviewer can read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from airlock.checks import pngs
from airlock.checks.content import RULE_IMAGE
from airlock.checks.context import CheckContext
from airlock.checks.findings import RULE_HIDDEN, FindingSink, Location, Verdict
from airlock.checks.reading import Unreadable
from airlock.checks.text import scan_text

RULE_PDF = "pdf"
RULE_ACTIVE = "active-content"
RULE_SVG_DATA = "svg.embedded-data"


def check_png(f: BinaryIO, size: int, context: CheckContext, sink: FindingSink) -> None:
    sink.add(
        RULE_IMAGE,
        Verdict.REVIEW,
        "Images need a human: a reviewer must look at this figure for small counts, outliers "
        "and points that stand for single people (scatter plots of individuals).",
    )
    png_findings(pngs.inspect(f, size), context, sink)  # Unreadable when truncated, damaged


def png_findings(png: pngs.PngReport, context: CheckContext, sink: FindingSink) -> None:
    """A walked PNG image's findings (a file, or a notebook's figure): its text chunks read as
    text, and what a viewer skips blocked."""
    for kind, text in png.texts:
        scan_text(text.encode("utf-8"), text, 0, context, sink, column=f"PNG {kind}")
    for hidden in png.hidden:
        sink.add(RULE_HIDDEN, Verdict.BLOCK, hidden)


# -- SVG ----------------------------------------------------------------------------------------

_XLINK = "{http://www.w3.org/1999/xlink}href"
_EXTERNAL = re.compile(r"^\s*([a-z][a-z0-9+.-]*:|//)", re.I)
_URL_IN_CSS = re.compile(r"url\(\s*['\"]?\s*([^)'\"]+)|@import", re.I)
_PDF_EOF = re.compile(rb"%%EOF")
_PNG_URI = re.compile(r"^\s*data:image/png;base64,", re.I)
_DATA_IMAGE = re.compile(r"^\s*data:image/(png|jpeg|gif|webp)[;,]", re.I)


def check_svg(data: bytes, context: CheckContext, sink: FindingSink) -> None:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    sink.add(
        RULE_IMAGE,
        Verdict.REVIEW,
        "Images need a human: a reviewer must look at this figure for small counts, outliers "
        "and points that stand for single people (scatter plots of individuals).",
    )
    try:
        root = fromstring(data)  # a DOCTYPE is fine; entities and external refs are not
    except DefusedXmlException:
        raise Unreadable(
            "the SVG declares entities or external references, which can expand without limit "
            "or pull in other files; save the figure again from your plotting library"
        ) from None
    except ParseError as e:
        raise Unreadable(f"the SVG is not well-formed XML ({e}); save it again") from None
    images = 0
    texts: list[str] = []
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""
        if tag == "script":
            _active(sink, "a <script> element")
        elif tag == "foreignObject":
            _active(sink, "a <foreignObject> element (embedded HTML)")
        for attribute, value in element.attrib.items():
            name = attribute.rsplit("}", 1)[-1]
            if name.lower().startswith("on"):
                _active(sink, f"an event handler attribute ({name})")
            elif attribute in ("href", _XLINK) or name == "href":
                if _DATA_IMAGE.match(value):
                    images += 1
                    if (png := _PNG_URI.match(value)) is not None:
                        embedded = pngs.embedded(value[png.end() :])
                        for hidden in embedded.hidden:
                            sink.add(RULE_HIDDEN, Verdict.BLOCK, hidden)
                        texts.extend(text for _, text in embedded.texts)
                elif value.strip().lower().startswith("javascript:"):
                    _active(sink, "a javascript: link")
                elif value.strip().lower().startswith("data:"):
                    sink.add(
                        RULE_SVG_DATA,
                        Verdict.BLOCK,
                        f"The SVG embeds data that is not an image ({value[:40]}...): hidden "
                        "content. Save the figure again without it.",
                    )
                elif _EXTERNAL.match(value):
                    _external(sink, value)
            elif name == "style":
                _css(sink, value)
        if tag == "style" and element.text:
            _css(sink, element.text)
        if element.text and element.text.strip() and tag not in ("style", "script"):
            texts.append(element.text)
        if element.tail and element.tail.strip():
            texts.append(element.tail)
    if images:
        sink.add(
            RULE_SVG_DATA,
            Verdict.REVIEW,
            f"The SVG embeds {images} raster image(s); the reviewer must look at them as well "
            "(a heat map of individuals is individual-level data).",
        )
    # comments and processing instructions: not in the tree, not drawn, but in the file
    texts.extend(_undrawn(data.decode("utf-8", "replace")))
    text = "\n".join(texts)
    scan_text(text.encode("utf-8"), text, 1, context, sink, column="SVG text")


def _undrawn(svg: str) -> Iterator[str]:
    """The text of comments and processing instructions, found by a walk from each opening to
    its close (a pattern would go back over the rest of the file for each unclosed one)."""
    for opening, closing in (("<!--", "-->"), ("<?", "?>")):
        at = svg.find(opening)
        while at >= 0:
            end = svg.find(closing, at + len(opening))
            stop = len(svg) if end < 0 else end
            yield svg[at + len(opening) : stop]
            at = -1 if end < 0 else svg.find(opening, end + len(closing))


def _active(sink: FindingSink, what: str) -> None:
    sink.add(
        RULE_ACTIVE,
        Verdict.BLOCK,
        f"The SVG contains {what}, which runs code when the image is opened. Save the figure "
        "again from your plotting library without scripts.",
    )


def _external(sink: FindingSink, url: str) -> None:
    sink.add(
        RULE_ACTIVE,
        Verdict.BLOCK,
        f"The SVG refers to something outside the file ({url[:60]}): opening it would fetch "
        "or reveal data. Embed only what the figure needs.",
        Location(value=url[:200]),
    )


def _css(sink: FindingSink, css: str) -> None:
    for m in _URL_IN_CSS.finditer(css):
        target = m.group(1) or "@import"
        if target == "@import" or (_EXTERNAL.match(target) and not _DATA_IMAGE.match(target)):
            _external(sink, target)


# -- PDF ----------------------------------------------------------------------------------------

_PDF_ACTIVE = {
    b"/JavaScript": "JavaScript",
    b"/JS": "JavaScript",
    b"/Launch": "an action that starts a program",
    b"/EmbeddedFile": "an embedded file",
    b"/EmbeddedFiles": "embedded files",
    b"/RichMedia": "embedded rich media",
    b"/XFA": "an XFA form",
    b"/Encrypt": "encryption (a reviewer could not read it)",
}
_PDF_NAME = re.compile(rb"/[A-Za-z0-9#]+")


def check_pdf(f: BinaryIO, size: int, sink: FindingSink) -> None:
    sink.add(
        RULE_PDF,
        Verdict.REVIEW,
        "PDF documents need a human: their text and figures cannot be checked automatically. "
        "Prefer releasing the tables (CSV) and figures (PNG, SVG) themselves.",
    )
    found: dict[str, None] = {}
    tail = b""
    ends, last_end, linearized, at = 0, -1, False, 0
    f.seek(0)
    while block := f.read(4 * 1024 * 1024):
        data = tail + block
        for m in _PDF_NAME.finditer(data) if b"#" in data else ():
            name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda h: bytes([int(h.group(1), 16)]), m.group())
            if name in _PDF_ACTIVE:
                found[_PDF_ACTIVE[name]] = None
        for token, what in _PDF_ACTIVE.items():
            if re.search(re.escape(token) + rb"(?![A-Za-z0-9])", data):
                found[what] = None
        for m in _PDF_EOF.finditer(data):
            if m.end() > len(tail):  # not counted in the block before
                ends, last_end = ends + 1, at - len(tail) + m.end()
        linearized = linearized or b"/Linearized" in data
        at += len(block)
        tail = data[-64:]
    if last_end < 0:
        raise Unreadable("the PDF is truncated (it has no end-of-file marker); save it again")
    f.seek(last_end)
    after = f.read(4096)
    if after.strip(b" \t\r\n\f\x00") or size - last_end > 4096:
        sink.add(
            RULE_HIDDEN,
            Verdict.BLOCK,
            f"{size - last_end:,} bytes follow the PDF's end-of-file marker, where no viewer "
            "shows them. Export the document again.",
        )
    if ends > (2 if linearized else 1):
        sink.add(
            RULE_HIDDEN,
            Verdict.BLOCK,
            f"The PDF was changed after it was made ({ends} revisions saved as incremental "
            "updates): earlier versions of its pages and data stay in the file, where no viewer "
            "shows them. Export it again as a new PDF (or release CSV and PNG).",
        )
    for what in found:
        sink.add(
            RULE_ACTIVE,
            Verdict.BLOCK,
            f"The PDF contains {what}: content a reviewer cannot see or that runs when the "
            "document is opened. Export it again as a plain PDF (or release CSV and PNG).",
        )
