"""From an open file to findings: type by content, the rules for that type, then what the file
was recognised as (default deny: a part of no known kind needs review) and its size."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import BinaryIO

from airlock.checks.context import CheckContext
from airlock.checks.filetypes import HEAD_BYTES, RULE_GENOMIC, Kind, sniff
from airlock.checks.findings import FindingSink, Verdict
from airlock.checks.reading import Unreadable, read_delimited
from airlock.checks.size import check_size

RULE_ENCODING = "encoding"
RULE_UNRECOGNISED = "unrecognised-kind"


def _content_head(f: BinaryIO) -> bytes:
    """The file's first :data:`HEAD_BYTES`, or, when they are all white space, the first
    block that is not: a page, a JSON document or an SVG after 64 KB of blank lines is
    sniffed as what it is (its scripts blocked, its tables read), not as empty text."""
    head = f.read(HEAD_BYTES)
    while head and not head.removeprefix(b"\xef\xbb\xbf").strip():  # a UTF-8 BOM and blanks
        head = f.read(HEAD_BYTES)
    return head


def check_open_file(
    f: BinaryIO,
    size: int,
    context: CheckContext,
    sink: FindingSink,
    *,
    encoding: str | None = None,
    name: str = "",
    on_bytes: Callable[[int], None] | None = None,
) -> None:
    """Apply every rule that fits the file's content. ``encoding`` overrides the sniffed one
    (a file that turns out not to be UTF-8 past its start is read again as Latin-1)."""
    head = _content_head(f)
    f.seek(max(0, size - 16))
    tail = f.read()
    f.seek(0)
    sniffed = sniff(head, size, tail, name)
    if sniffed.kind is Kind.BLOCKED:
        sink.add(sniffed.rule, Verdict.BLOCK, sniffed.reason)
        return
    encoding = encoding or sniffed.encoding
    if encoding != "utf-8":
        sink.add(
            RULE_ENCODING,
            Verdict.REVIEW,
            f"The file is not UTF-8; it was read as {encoding.title()}, so characters outside "
            "English may show wrongly to reviewers. Save it as UTF-8.",
        )
    if sniffed.kind is Kind.TABLE:
        _check_delimited(f, sniffed.delimiter, encoding, context, sink, on_bytes, name)
    elif sniffed.kind is Kind.TEXT:
        from airlock.checks.text import check_text

        check_text(f, encoding=encoding, context=context, sink=sink, on_bytes=on_bytes)
    elif sniffed.kind is Kind.PARQUET:
        from airlock.checks.nested import check_parquet

        check_parquet(f, context, sink, name)
    elif sniffed.kind is Kind.NUMPY:
        from airlock.checks.arrays import check_npy

        check_npy(f, size, context, sink, name)
    elif sniffed.kind is Kind.PNG:
        from airlock.checks.media import check_png

        check_png(f, size, context, sink)
        sink.recognised("the figure", "figure")
    elif sniffed.kind is Kind.WORKBOOK:
        from airlock.checks.spreadsheet import check_workbook

        check_workbook(f, size, context, sink)
    elif sniffed.kind is Kind.PDF:
        from airlock.checks.media import check_pdf

        check_pdf(f, size, sink)
        sink.recognised("the document", "document")
    else:  # parsed whole: JSON, notebooks, SVG, HTML
        data = _read_whole(f, size, context, sniffed.kind.value)
        if sniffed.kind is Kind.SVG:
            from airlock.checks.media import check_svg

            check_svg(data, context, sink)
            sink.recognised("the figure", "figure")
        elif sniffed.kind is Kind.HTML:
            from airlock.checks.jsondocs import check_html

            check_html(data, encoding, context, sink)
        else:
            from airlock.checks.jsondocs import check_json, check_notebook, is_notebook, parse_json

            doc = parse_json(data, encoding)
            # Jupyter writes "nbformat" after the cells, past the head of a notebook with
            # figures: a notebook is told by its whole document, not only by the sniffer
            if sniffed.kind is Kind.NOTEBOOK or is_notebook(doc):
                check_notebook(doc, context, sink)
                sink.recognised("the notebook", "notebook")
            else:
                check_json(doc, data, encoding, context, sink)
    if on_bytes and sniffed.kind not in (Kind.TABLE, Kind.TEXT):
        on_bytes(size)
    check_size(size, context.config, sink)
    check_recognised(sink)


def check_recognised(sink: FindingSink) -> None:
    """Default deny: each part of the file of no known kind needs a reviewer, saying why."""
    if not sink.parts:
        sink.unrecognised("the file", "nothing in it was recognised")
    for part in sink.parts:
        if part.kind is not None:
            continue
        what = part.what[0].upper() + part.what[1:]
        sink.add(
            RULE_UNRECOGNISED,
            Verdict.REVIEW,
            f"{what} is not recognised as an aggregate output of a known kind: {part.reason}. "
            "The airlock passes only outputs it recognises (the kinds are listed in "
            "docs/airlock-checks.md), so a reviewer must judge this one; say in the request "
            "what it is. The node admin can register the kind of a tool's output.",
        )


def _read_whole(f: BinaryIO, size: int, context: CheckContext, what: str) -> bytes:
    if size > context.config.max_parse_bytes:
        raise Unreadable(
            f"a {what} is checked as a whole, and this one is larger than "
            f"{context.config.max_parse_bytes / 1024 / 1024:,.0f} MB; release a smaller one"
        )
    data = f.read()
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def _check_delimited(f, delimiter, encoding, context, sink, on_bytes, name) -> None:
    from airlock.checks import vcfsites
    from airlock.checks.content import context_matcher, prefilter
    from airlock.checks.kinds import headerless_row
    from airlock.checks.tabular import check_table
    from airlock.checks.text import scan_text

    table = read_delimited(
        f,
        delimiter=delimiter,
        encoding=encoding,
        max_line_bytes=context.config.max_line_bytes,
        on_bytes=on_bytes,
        prepare=prefilter(context_matcher(context)),
        is_data=functools.partial(headerless_row, config=context.config),
    )
    if vcfsites.has_genotype_columns(table.names):
        sink.add(RULE_GENOMIC, Verdict.BLOCK, vcfsites.GENOTYPES_MESSAGE)
        return
    sites = vcfsites.is_sites_vcf(table.names)
    if sites and vcfsites.has_info(table.names):
        table = vcfsites.info_table(table)
    if table.preamble:
        # the header and any '##' lines: identifiers and sample IDs in them
        preamble = table.preamble.encode(encoding)
        if table.has_header:
            # the header row is checked by the table rules with its column names
            preamble = preamble[: preamble.rstrip(b"\r\n").rfind(b"\n") + 1]
        if sites:
            preamble = vcfsites.without_vcf_markers(preamble)
        if preamble:
            scan_text(preamble, preamble.decode(encoding), 1, context, sink)
    check_table(
        table.names,
        table.chunks,
        context,
        sink,
        delimiter=delimiter,
        encoding=encoding,
        header_row=table.has_header,
        file_name=name,
    )
