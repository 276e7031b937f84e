"""Images and PDFs always need a human; hidden and active content blocks."""

from __future__ import annotations

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
    ],
)
def test_svg__scripts_external_references_and_hidden_data_block(tmp_path, body, rule):
    report = check(write(tmp_path, "f.svg", SVG.format(body)))
    assert rule in rules(report, Verdict.BLOCK), report.findings


def test_svg__embedded_raster_image_is_pointed_out(tmp_path):
    body = '<image href="data:image/png;base64,iVBORw0KGgo="/>'
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
