"""Reading researchers' files in bounded memory, without following symlinks.

Text is read in blocks of whole records (a quoted value may span lines), so a 1 GB CSV never
sits in memory; a line longer than ``max_line_bytes`` stops the reading with a reason. Every
problem is raised as :class:`Unreadable`, which the caller turns into a BLOCK finding.
"""

from __future__ import annotations

import concurrent.futures
import csv
import dataclasses
import functools
import io
import itertools
import os
import re
import stat
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from airlock.checks.cells import Chunk, arrow_table, plain_columns
from airlock.checks.filetypes import COMMENT_LINE

#: bytes read at a time; a chunk of a table is about this big
BLOCK_BYTES = 8 * 1024 * 1024


class Unreadable(Exception):
    """The file cannot be read as what it claims to be; the message says why, for a researcher."""

    def __init__(self, reason: str, *, row: int | None = None, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.row = row
        self.line = line


class NotUtf8(Exception):
    """Text that looked like UTF-8 at the start has other bytes later: read it again as
    Latin-1."""

    def __init__(self, line: int):
        super().__init__(line)
        self.line = line


def open_no_follow(path: str | os.PathLike) -> tuple[BinaryIO, os.stat_result]:
    """Open a regular file for reading; a symlink or special file raises ``Unreadable``.

    ``O_NOFOLLOW`` makes the check and the open one step, so a file swapped for a symlink in
    between is not followed either; ``O_NONBLOCK`` keeps a FIFO from hanging the check.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if os.path.islink(path):
            raise Unreadable("it is a symbolic link, which is never followed") from None
        raise Unreadable(f"it cannot be read ({e.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise Unreadable("it is not a regular file (a device, socket or pipe)")
    return os.fdopen(fd, "rb"), info


class TextBlock:
    """Whole lines of a file: the bytes, and the text decoded on first use (a table's rows
    are parsed from the bytes, which pyarrow validates as UTF-8 itself)."""

    def __init__(self, raw: bytes, first_line: int, encoding: str, text: str | None = None):
        self.raw = raw
        self.first_line = first_line  # 1-based line number of the block's first line
        # newlines in the block (NumPy counts a few times faster than bytes.count)
        self.lines = int(np.count_nonzero(np.frombuffer(raw, dtype=np.uint8) == 10))
        self.encoding = encoding
        self._text = text

    @property
    def text(self) -> str:
        if self._text is None:
            try:
                self._text = self.raw.decode(self.encoding)
            except UnicodeDecodeError as e:
                raise NotUtf8(self.first_line + self.raw.count(b"\n", 0, e.start)) from None
        return self._text


def iter_text_blocks(
    f: BinaryIO,
    *,
    encoding: str,
    max_line_bytes: int,
    quoted: bool,
    block_bytes: int | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[TextBlock]:
    """Blocks of whole lines (of whole records when ``quoted``: a newline inside double quotes
    does not end a record). A byte-order mark at the start is dropped."""
    block_bytes = block_bytes or BLOCK_BYTES
    carry = b""
    line = 1

    def read() -> bytes:
        data = f.read(block_bytes)
        if on_bytes and data:
            on_bytes(len(data))
        return data

    data = read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    ahead = read() if data else b""
    while True:
        if not ahead:
            # the last read: its unfinished last line (no newline at the end of the file, as
            # pandas' to_markdown() writes) stays in the block with the lines before it
            buf = carry + data
            if buf:
                _check_line_lengths(buf, line, max_line_bytes)
                if quoted and buf.count(b'"') % 2:
                    # quotes pair from the start: the last one is never closed
                    opened = line + buf.count(b"\n", 0, buf.rfind(b'"'))
                    raise Unreadable(
                        f"a quote opened on line {opened} is never closed; fix the quoting",
                        line=opened,
                    )
                yield _decode(buf, encoding, line)
            return
        # the quotes carried over from the last read say whether it ends inside a quoted value
        cut = _record_end(data, quoted, odd=quoted and carry.count(b'"') % 2 == 1)
        if cut <= 0:
            buf = carry + data
            if len(buf) > max_line_bytes:
                what = "a quoted value or a line" if quoted and b'"' in buf else "a line"
                raise Unreadable(
                    f"{what} starting at line {line} is longer than {max_line_bytes:,} bytes; "
                    "a reviewer cannot read it. Split long values or release a different "
                    "format",
                    line=line,
                )
            carry = buf
            data, ahead = ahead, read()
            continue
        # one copy: the carried line and this read's records (none when both line up)
        done = b"".join((carry, memoryview(data)[:cut])) if carry or cut < len(data) else data
        carry = data[cut:]
        _check_line_lengths(done, line, max_line_bytes)
        block = _decode(done, encoding, line)
        line += block.lines
        yield block
        data, ahead = ahead, read()


def _record_end(buf: bytes, quoted: bool, odd: bool = False) -> int:
    """Index just after the last newline that ends a record (even number of quotes before it,
    counting one more when ``odd``: ``buf`` starts inside a quoted value), or 0 when there is
    none."""
    if not quoted or (not odd and b'"' not in buf):
        return buf.rfind(b"\n") + 1
    arr = np.frombuffer(buf, dtype=np.uint8)
    newlines = np.flatnonzero(arr == 10)
    if newlines.size == 0:
        return 0
    quotes_before = np.cumsum(arr == 34, dtype=np.int64)[newlines] + odd
    even = newlines[(quotes_before & 1) == 0]
    return int(even[-1]) + 1 if even.size else 0


def _check_line_lengths(buf: bytes, first_line: int, limit: int) -> None:
    """Unreadable when a line of ``buf`` is longer than ``limit`` bytes. Jumps from the last
    newline of one window of ``limit`` bytes to the next, so a block costs a few searches."""
    pos = 0
    while len(buf) - pos > limit:
        newline = buf.rfind(b"\n", pos, pos + limit + 1)
        if newline < 0:
            line = first_line + buf.count(b"\n", 0, pos)
            raise Unreadable(
                f"line {line} is longer than {limit:,} bytes; a reviewer cannot read it. Split "
                "long values or release a different format",
                line=line,
            )
        pos = newline + 1


def _decode(buf: bytes, encoding: str, line: int) -> TextBlock:
    return TextBlock(buf, line, encoding)


# -- delimited tables ---------------------------------------------------------------------------


@dataclasses.dataclass
class DelimitedTable:
    """A delimited text table: its column names, preamble and a stream of chunks."""

    names: list[str]
    has_header: bool
    preamble: str  # leading '##' lines and the header line, for text scanning
    chunks: Iterable[Chunk]


_NUMBER = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*$")
_DECIMAL_COMMA = re.compile(r"(?:^|;)\s*-?\d+,\d+\s*(?:;|$)", re.M)


def _is_comment(line: str, text: str, end: int, delimiter: str | None) -> bool:
    """A leading '##' line, or a '# ' line with a different number of fields than the line
    after it (bcftools writes its header as '# [1]ID\t[2]AC')."""
    if line.startswith("##"):
        return True
    nxt = text.find("\n", end)
    following = text[end : len(text) if nxt < 0 else nxt]
    return len(_split(line, delimiter)) != len(_split(following, delimiter))


def _split(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    return next(csv.reader([line], delimiter=delimiter), [])


def read_delimited(
    f: BinaryIO,
    *,
    delimiter: str | None,
    encoding: str,
    max_line_bytes: int,
    on_bytes: Callable[[int], None] | None = None,
    prepare: Callable[[bytes], dict] | None = None,
    is_data: Callable[[list[str]], bool] | None = None,
) -> DelimitedTable:
    """Parse a delimited table lazily: the header now, data rows chunk by chunk.
    ``prepare(raw)`` is computed from each chunk's bytes with its parse, as its ``cache``.
    ``is_data(fields)``: whether a first row with text in it is data all the same (a tool
    that writes no header)."""
    blocks = iter_text_blocks(
        f,
        encoding=encoding,
        max_line_bytes=max_line_bytes,
        quoted=delimiter is not None,
        on_bytes=on_bytes,
    )
    first = next(blocks, None)
    if first is None:
        return DelimitedTable([], False, "", ())
    text = first.text
    # leading '##' (or '# ') lines are a preamble, not part of the table
    offset = 0
    while offset < len(text):
        end = text.find("\n", offset)
        end = len(text) if end < 0 else end + 1
        line = text[offset:end]
        comment = COMMENT_LINE.match(line) and _is_comment(line, text, end, delimiter)
        if line.strip() and not comment:
            break
        offset = end
    header_start = offset
    reader = csv.reader(io.StringIO(text[offset:]), delimiter=delimiter or " ")
    if delimiter is None:
        end = text.find("\n", offset)
        header_end = len(text) if end < 0 else end + 1
        fields = text[offset:header_end].split()
    else:
        fields = next(reader, [])
        header_end = offset
        for _ in range(reader.line_num):
            nl = text.find("\n", header_end)
            header_end = len(text) if nl < 0 else nl + 1
    has_header = any(f.strip() and not _NUMBER.match(f) for f in fields)
    if has_header and is_data is not None and is_data([f.strip() for f in fields]):
        has_header = False
    width = len(fields)
    names = (
        [f.strip() or f"column {i + 1}" for i, f in enumerate(fields)]
        if has_header
        else [str(i + 1) for i in range(width)]
    )
    data_start = header_end if has_header else header_start
    decimal = "," if delimiter == ";" and _DECIMAL_COMMA.search(text[data_start:][:65536]) else "."
    preamble = text[:data_start]
    first_data = text[data_start:]
    first_line = first.first_line + text.count("\n", 0, data_start)

    raw = first.raw[len(preamble.encode(encoding)) :]
    pending = [TextBlock(raw, first_line, encoding, first_data)]
    parse = _BlockParser(width=width, delimiter=delimiter, decimal=decimal, encoding=encoding)
    chunks = Chunks(itertools.chain(pending, blocks), parse, prepare)
    return DelimitedTable(names, has_header, preamble, chunks)


class Chunks:
    """The chunks of a delimited table, each block parsed, and ``prepare`` d (a prefilter over
    its bytes), in two worker threads while the rules read the one before (pyarrow releases
    the GIL)."""

    def __init__(
        self,
        blocks: Iterator[TextBlock],
        parse: Callable[[TextBlock], pa.Table],
        prepare: Callable[[bytes], dict] | None = None,
    ) -> None:
        self.blocks = blocks
        self.parse = parse
        self.prepare = prepare

    def __iter__(self) -> Iterator[Chunk]:
        with concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="airlock-parse") as pool:
            ahead: tuple[TextBlock, concurrent.futures.Future, concurrent.futures.Future] | None
            ahead = None
            row = 1
            for block in self.blocks:
                if not block.raw or block.raw.isspace():
                    continue
                prepared = pool.submit(self.prepare, block.raw) if self.prepare else None
                submitted = (block, pool.submit(self.parse, block), prepared)
                if ahead is not None:
                    chunk = _chunk(*ahead, row)
                    row += len(chunk)
                    yield chunk
                ahead = submitted
            if ahead is not None:
                yield _chunk(*ahead, row)


def _chunk(
    block: TextBlock,
    parsed: concurrent.futures.Future,
    prepared: concurrent.futures.Future | None,
    row: int,
) -> Chunk:
    cache = prepared.result() if prepared is not None else {}
    return Chunk(parsed.result(), row, block.raw, cache=cache)


_PANDAS_LINE = re.compile(r"line (\d+), saw (\d+)")
_SPACES = re.compile(rb"[ \t]+")
_EDGE_SPACES = re.compile(rb"(?m)^[ \t]+|[ \t]+(?=\r?$)")


class _BlockParser:
    """Parses a table's blocks with pyarrow's multithreaded CSV parser, one Arrow table each
    (a block it refuses is parsed again with pandas, which says where and why).

    pyarrow infers each column's type from its values, which costs a tenth to a third of the
    parse (measured on a .glm.linear table). The number and text columns' types of one block
    are given to the blocks after it, whose parse then skips the inference; a block whose
    values would have been inferred otherwise (a number column now all empty or all whole
    numbers, a text column whose first value is not text) is parsed again with inference, so
    every block's types are what inference gives, as if each were parsed alone."""

    def __init__(self, *, width: int, delimiter: str | None, decimal: str, encoding: str):
        self.names = [str(j) for j in range(width)]
        self.delimiter = delimiter
        self.decimal = decimal
        self.encoding = encoding
        # the last inferred block's int64, float64 and string columns; read and replaced
        # whole by the two parse threads
        self.types: dict[str, pa.DataType] = {}

    def __call__(self, block: TextBlock) -> pa.Table:
        data = block.raw
        if self.delimiter is None:  # runs of whitespace (plink 1.9): one tab each
            data = _SPACES.sub(b"\t", _EDGE_SPACES.sub(b"", data))
        types = self.types
        if types:
            try:
                table = self._read(data, types)
            except _REFUSED:
                table = None
            if table is not None and all(
                _as_inferred(table.column(name), kind, self.decimal) for name, kind in types.items()
            ):
                return table
        try:
            table = self._read(data, {})
        except _REFUSED:
            frame = _parse_block_pandas(block, len(self.names), self.delimiter, self.decimal)
            return arrow_table(plain_columns(frame))
        self.types = {
            name: kind
            for name, kind in zip(self.names, table.schema.types, strict=True)
            if kind in _LEARNED_TYPES
        }
        return table

    def _read(self, data: bytes, types: dict[str, pa.DataType]) -> pa.Table:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(
                column_names=self.names,
                encoding="utf8" if self.encoding == "utf-8" else self.encoding,
                block_size=max(1 << 20, len(data) // 4 + 1),
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=self.delimiter or "\t",
                newlines_in_values=b'"' in data,
                ignore_empty_lines=True,
            ),
            convert_options=_convert_options(self.decimal, types),
        )
        # one array per column (pyarrow parsed the block in parts), here rather than in the rules
        return table.combine_chunks()


#: what pyarrow raises for a block it cannot parse (with the types given, or at all)
_REFUSED = (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError)
#: the types a block's parse may be given by the block before (see :class:`_BlockParser`)
_LEARNED_TYPES = (pa.int64(), pa.float64(), pa.string())


def _convert_options(decimal: str, types: dict[str, pa.DataType]) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(
        decimal_point=decimal,
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        column_types=types,
    )


def _as_inferred(column: pa.ChunkedArray, kind: pa.DataType, decimal: str) -> bool:
    """Whether pyarrow's inference would have given this column, parsed as ``kind``, the same
    type: any value that parsed as an integer would have (unless all are empty); a number
    column would have been integers if each value is whole (then parse again to know); a text
    column is text if one value is (a single value that is not a number, date or boolean)."""
    if column.null_count == len(column):
        return False
    if kind == pa.int64():
        return True
    if kind == pa.float64():
        return not pc.all(pc.equal(pc.trunc(column), column)).as_py()
    head = pc.drop_null(column.slice(0, 64))
    value = (head if len(head) else pc.drop_null(column))[0].as_py()
    return _infers_text(value, decimal)


@functools.lru_cache(maxsize=1024)
def _infers_text(value: str, decimal: str) -> bool:
    """Whether pyarrow infers a column holding just ``value`` as text."""
    if any(c in value for c in "\t\r\n"):
        return False  # not parsed alone as it was: let the block be inferred
    table = pacsv.read_csv(
        pa.py_buffer(value.encode() + b"\n"),
        read_options=pacsv.ReadOptions(column_names=["value"]),
        parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
        convert_options=_convert_options(decimal, {}),
    )
    return table.schema.types[0] == pa.string()


def _read_csv_pandas(block: TextBlock, width: int, delimiter: str | None, decimal: str
                     ) -> pd.DataFrame:  # fmt: skip
    return pd.read_csv(
        io.StringIO(block.text),
        sep=delimiter if delimiter is not None else r"\s+",
        header=None,
        names=range(width),
        index_col=False,
        decimal=decimal,
        quotechar='"',
        skip_blank_lines=True,
        engine="c",
        low_memory=False,
        on_bad_lines="error",
    )


def _parse_block_pandas(
    block: TextBlock, width: int, delimiter: str | None, decimal: str
) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # more fields than the header on the first line: pandas would drop some (an error)
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return _read_csv_pandas(block, width, delimiter, decimal)
    except pd.errors.ParserWarning:
        raise Unreadable(
            f"a line near line {block.first_line} has more fields than the header has "
            f"({width}); a reviewer cannot tell which column a value belongs to. Quote values "
            "that contain the delimiter",
            line=block.first_line,
        ) from None
    except pd.errors.ParserError as e:
        m = _PANDAS_LINE.search(str(e))
        if m:
            line = block.first_line + int(m.group(1)) - 1
            raise Unreadable(
                f"line {line} has {m.group(2)} fields but the header has {width}; a reviewer "
                "cannot tell which column a value belongs to. Quote values that contain the "
                "delimiter",
                line=line,
            ) from None
        if "EOF inside string" in str(e):
            raise Unreadable(
                f"a quote opened near line {block.first_line} is never closed; fix the quoting",
                line=block.first_line,
            ) from None
        raise Unreadable(
            f"it cannot be parsed as a table near line {block.first_line}: {e}"
        ) from None
    except (ValueError, OverflowError, MemoryError) as e:
        raise Unreadable(
            f"it cannot be parsed as a table near line {block.first_line}: {e}"
        ) from None
