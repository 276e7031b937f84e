"""From an open file to findings: size, type by content, then the rules for that type."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from airlock.checks.cells import Chunk, plain_columns
from airlock.checks.context import CheckContext
from airlock.checks.filetypes import HEAD_BYTES, Kind, sniff
from airlock.checks.findings import FindingSink, Verdict
from airlock.checks.reading import Unreadable, read_delimited
from airlock.checks.size import check_size

RULE_ENCODING = "encoding"


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
    check_size(size, context.config, sink)
    head = f.read(HEAD_BYTES)
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
        _check_delimited(f, sniffed.delimiter, encoding, context, sink, on_bytes)
    elif sniffed.kind is Kind.TEXT:
        from airlock.checks.text import check_text

        check_text(f, encoding=encoding, context=context, sink=sink, on_bytes=on_bytes)
    elif sniffed.kind is Kind.PARQUET:
        _check_parquet(f, context, sink)
    elif sniffed.kind is Kind.PNG:
        from airlock.checks.media import check_png

        check_png(f, size, context, sink)
    elif sniffed.kind is Kind.PDF:
        from airlock.checks.media import check_pdf

        check_pdf(f, size, sink)
    else:  # parsed whole: JSON, notebooks, SVG
        data = _read_whole(f, size, context, sniffed.kind.value)
        if sniffed.kind is Kind.SVG:
            from airlock.checks.media import check_svg

            check_svg(data, context, sink)
        elif sniffed.kind is Kind.NOTEBOOK:
            from airlock.checks.jsondocs import check_notebook

            check_notebook(data, encoding, context, sink)
        else:
            from airlock.checks.jsondocs import check_json

            check_json(data, encoding, context, sink)
    if on_bytes and sniffed.kind not in (Kind.TABLE, Kind.TEXT):
        on_bytes(size)


def _read_whole(f: BinaryIO, size: int, context: CheckContext, what: str) -> bytes:
    if size > context.config.max_parse_bytes:
        raise Unreadable(
            f"a {what} is checked as a whole, and this one is larger than "
            f"{context.config.max_parse_bytes / 1024 / 1024:,.0f} MB; release a smaller one"
        )
    data = f.read()
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def _check_delimited(f, delimiter, encoding, context, sink, on_bytes) -> None:
    from airlock.checks.tabular import check_table
    from airlock.checks.text import scan_text

    table = read_delimited(
        f,
        delimiter=delimiter,
        encoding=encoding,
        max_line_bytes=context.config.max_line_bytes,
        on_bytes=on_bytes,
    )
    if table.preamble:
        # the header and any '##' lines: identifiers and sample IDs in them
        preamble = table.preamble.encode(encoding)
        if table.has_header:
            # the header row is checked by the table rules with its column names
            preamble = preamble[: preamble.rstrip(b"\r\n").rfind(b"\n") + 1]
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
    )


def _check_parquet(f: BinaryIO, context: CheckContext, sink: FindingSink) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from airlock.checks.tabular import check_table

    def damaged(e: Exception) -> Unreadable:
        return Unreadable(f"the Parquet file is damaged or truncated ({e}); write it again")

    try:
        pf = pq.ParquetFile(f)
        names = list(pf.schema_arrow.names)
    except (pa.ArrowException, OSError, ValueError) as e:
        raise damaged(e) from None

    def chunks():
        row = 1
        try:
            for batch in pf.iter_batches(batch_size=65536):
                frame = plain_columns(batch.to_pandas())
                yield Chunk(frame, row)
                row += len(frame)
        except (pa.ArrowException, OSError, ValueError) as e:
            raise damaged(e) from None

    check_table(names, chunks(), context, sink)
