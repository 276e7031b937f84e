"""What a file is, from its bytes, never its name: the allowlist of releasable types.

Allowed: delimited tables (csv, tsv, pipe-delimited ...), plain text, Markdown and LaTeX, JSON,
Jupyter notebooks, Parquet, NumPy ``.npy`` arrays (read as tables), PNG, SVG and PDF; HTML is
read (its tables are checked) but always needs a reviewer. Everything else is blocked, and the
individual-level genomic formats (VCF, BCF, BAM, CRAM, SAM, FASTQ, PLINK, BGEN, Zarr) are named
as such even when renamed or compressed, so the researcher learns why.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import enum
import io
import json
import re
import zlib
from pathlib import Path


class Kind(enum.Enum):
    TABLE = "delimited table"
    TEXT = "text"
    JSON = "JSON"
    NOTEBOOK = "Jupyter notebook"
    PARQUET = "Parquet table"
    NUMPY = "NumPy array"
    PNG = "PNG image"
    SVG = "SVG image"
    PDF = "PDF document"
    HTML = "HTML document"
    WORKBOOK = "Excel workbook"
    BLOCKED = "blocked"


@dataclasses.dataclass(frozen=True)
class Sniffed:
    kind: Kind
    #: for BLOCKED: what the file is and what to do instead
    reason: str = ""
    #: for TABLE: the delimiter (None for runs of whitespace)
    delimiter: str | None = None
    #: for text kinds: the encoding the content decodes with
    encoding: str = "utf-8"
    #: for BLOCKED: the rule id (file-type, individual-level.format)
    rule: str = "file-type"


#: bytes read from the start of a file to tell what it is
HEAD_BYTES = 64 * 1024

RULE_GENOMIC = "individual-level.format"
_INDIVIDUAL_HINT = (
    "it holds individual-level genomic data, which never leaves the node; release aggregate "
    "results instead (allele counts, summary statistics), as CSV or TSV"
)
_ARCHIVE_HINT = "archives can hide any content; add the files themselves to the request instead"


def _blocked(what: str, hint: str, rule: str = "file-type") -> Sniffed:
    return Sniffed(Kind.BLOCKED, reason=f"This file is {what}: {hint}.", rule=rule)


# (magic bytes at offset 0, or a pattern, description, hint, rule)
_MAGIC: list[tuple[bytes | re.Pattern[bytes], str, str, str]] = [
    (b"BCF\x02", "a BCF genotype file", _INDIVIDUAL_HINT, RULE_GENOMIC),
    (b"BAM\x01", "a BAM read alignment", _INDIVIDUAL_HINT, RULE_GENOMIC),
    (re.compile(rb"CRAM[\x01-\x04]"), "a CRAM read alignment", _INDIVIDUAL_HINT, RULE_GENOMIC),
    (b"\x6c\x1b\x01", "a PLINK 1 .bed genotype file", _INDIVIDUAL_HINT, RULE_GENOMIC),
    (b"\x6c\x1b", "a PLINK 2 .pgen genotype file", _INDIVIDUAL_HINT, RULE_GENOMIC),
    (b"COREARRAYx0A", "a GDS genotype file", _INDIVIDUAL_HINT, RULE_GENOMIC),
    (
        b"PK\x03\x04",
        "a ZIP archive (or a ZIP-based file such as .docx, .jar, .npz)",
        _ARCHIVE_HINT,
        "file-type",
    ),
    (b"PK\x05\x06", "an empty ZIP archive", _ARCHIVE_HINT, "file-type"),
    (re.compile(rb"BZh[1-9]1AY&SY"), "a bzip2-compressed file", _ARCHIVE_HINT, "file-type"),
    (b"\xfd7zXZ\x00", "an xz-compressed file", _ARCHIVE_HINT, "file-type"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file", _ARCHIVE_HINT, "file-type"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", _ARCHIVE_HINT, "file-type"),
    (b"Rar!\x1a\x07", "a RAR archive", _ARCHIVE_HINT, "file-type"),
    (b"\x04\x22\x4d\x18", "an LZ4-compressed file", _ARCHIVE_HINT, "file-type"),
    (b"\x7fELF", "a Linux executable", "programs cannot leave the node", "file-type"),
    (b"\xcf\xfa\xed\xfe", "a macOS executable", "programs cannot leave the node", "file-type"),
    (
        b"\xca\xfe\xba\xbe",
        "a Java class or macOS executable",
        "programs cannot leave the node",
        "file-type",
    ),
    (b"\x00asm", "a WebAssembly program", "programs cannot leave the node", "file-type"),
    (
        b"SQLite format 3\x00",
        "an SQLite database",
        "databases hold row-level data; export the aggregate tables as CSV",
        "file-type",
    ),
    (
        b"\x89HDF\r\n\x1a\n",
        "an HDF5 file",
        "it can hold any data, including individual-level arrays; export results as CSV or Parquet",
        "file-type",
    ),
    (
        b"ARROW1",
        "an Arrow IPC/Feather file",
        # its stream repeats the schema the footer holds, and its bodies may have gaps: bytes
        # no reader of the table shows
        "save tables as Parquet or CSV instead",
        "file-type",
    ),
    (b"\xff\xd8\xff", "a JPEG image", "save figures as PNG or SVG instead", "file-type"),
    (b"GIF8", "a GIF image", "save figures as PNG or SVG instead", "file-type"),
    (b"II*\x00", "a TIFF image", "save figures as PNG or SVG instead", "file-type"),
    (b"MM\x00*", "a TIFF image", "save figures as PNG or SVG instead", "file-type"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an old Microsoft Office file (.xls, .doc)",
        "save spreadsheets as CSV",
        "file-type",
    ),
    (
        b"#!",
        "an executable script (it starts with #!)",
        "programs cannot leave the node",
        "file-type",
    ),
]


#: names a browser opens as a page, whatever the file holds: it runs the scripts in it
_PAGE_NAMES = (".html", ".htm", ".xhtml", ".shtml", ".svg", ".xml", ".xsl", ".xslt", ".mht",
               ".mhtml")  # fmt: skip


def sniff(head: bytes, size: int, tail: bytes = b"", name: str = "") -> Sniffed:
    """What the file is, from its first bytes (``head``, up to :data:`HEAD_BYTES`), its size and
    its last bytes (``tail``). The name never allows anything; a .csv or .tsv name only makes
    text be read strictly as a table (so a ragged or one-column CSV cannot pass as prose), and
    a page's name (.html, .svg) on anything but a page blocks: a browser would open it as one,
    scripts and all, while the checks read it as a table."""
    sniffed = _sniff(head, size, tail, name)
    suffix = Path(name).suffix.lower()
    if suffix in _PAGE_NAMES and sniffed.kind not in (Kind.HTML, Kind.SVG, Kind.BLOCKED):
        return _blocked(
            f"named {suffix} but holds {sniffed.kind.value} content, not a page",
            f"a browser opens a {suffix} file as a page and runs any script in it; give the "
            "file the name of what it holds (.csv, .tsv, .txt, .md)",
            "active-content",
        )
    return sniffed


def _sniff(head: bytes, size: int, tail: bytes, name: str) -> Sniffed:
    if size == 0:
        return _blocked("empty", "there is nothing to release; remove it from the request")
    if head.startswith(b"PAR1"):
        if size < 12 or not tail.endswith(b"PAR1"):
            return _blocked(
                "a truncated or damaged Parquet file (no Parquet footer)",
                "write it again and make sure the writer finished",
            )
        return Sniffed(Kind.PARQUET)
    if head.startswith(b"\x93NUMPY"):
        return Sniffed(Kind.NUMPY)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed(Kind.PNG)
    if b"%PDF-" in head[:1024]:
        return Sniffed(Kind.PDF)
    if head.startswith(GZIP_MAGIC):
        return _sniff_gzip(head)
    if len(head) >= 20 and head[16:20] == b"bgen":
        return _blocked("a BGEN genotype file", _INDIVIDUAL_HINT, RULE_GENOMIC)
    if is_workbook(head):
        return Sniffed(Kind.WORKBOOK)  # vetted part by part (airlock.checks.spreadsheet)
    if len(head) > 262 and head[257:262] == b"ustar":
        return _blocked("a tar archive", _ARCHIVE_HINT)
    for magic, what, hint, rule in _MAGIC:
        if magic.match(head) if isinstance(magic, re.Pattern) else head.startswith(magic):
            return _blocked(what, hint, rule)
    if _is_windows_executable(head):
        return _blocked("a Windows executable", "programs cannot leave the node")
    return _sniff_text(head, size, name)


def is_workbook(head: bytes) -> bool:
    """An Office Open XML workbook by its first ZIP entries (Excel and openpyxl write the
    content types and the ``xl/`` parts first); airlock.checks.spreadsheet vets the whole
    directory, and blocks a ZIP that is not a workbook after all."""
    return head.startswith(b"PK\x03\x04") and (b"[Content_Types].xml" in head or b"xl/" in head)


def _is_windows_executable(head: bytes) -> bool:
    """MZ header whose e_lfanew points at a PE signature (plain 'MZ' text is not enough)."""
    if not head.startswith(b"MZ") or len(head) < 0x40:
        return False
    offset = int.from_bytes(head[0x3C:0x40], "little")
    return head[offset : offset + 4] == b"PE\x00\x00"


GZIP_MAGIC = b"\x1f\x8b"


def _sniff_gzip(head: bytes) -> Sniffed:
    """A gzip stream that the check did not take off (airlock.checks.unwrap): a bgzipped
    genomic format, or a gzip inside a gzip."""
    return gzip_genomic(head) or _blocked(
        "a gzip-compressed file", _ARCHIVE_HINT + "; release it uncompressed"
    )


def gzip_genomic(head: bytes) -> Sniffed | None:
    """Blocked when the gzip stream is a bgzipped genomic format (said by name); else None."""
    inner = _gunzip_head(head)
    if inner.startswith(b"##fileformat=VCF"):
        if _sites_only(inner.decode("latin-1"), complete=False):
            return None  # taken off and sniffed again: a VCF of sites, or of people
        return _blocked("a compressed VCF genotype file", _INDIVIDUAL_HINT, RULE_GENOMIC)
    for magic, what in ((b"BCF\x02", "a BCF genotype file"), (b"BAM\x01", "a BAM read alignment")):
        if inner.startswith(magic):
            return _blocked(what, _INDIVIDUAL_HINT, RULE_GENOMIC)
    if inner.startswith(b"@HD\t") or inner.startswith(b"@SQ\t"):
        return _blocked("a compressed SAM read alignment", _INDIVIDUAL_HINT, RULE_GENOMIC)
    if _is_fastq(inner):
        return _blocked("a compressed FASTQ sequencing-read file", _INDIVIDUAL_HINT, RULE_GENOMIC)
    if inner.startswith(GZIP_MAGIC):
        return _blocked("a gzip stream inside a gzip stream", _ARCHIVE_HINT)
    return None


def _gunzip_head(head: bytes) -> bytes:
    """What the start of a gzip stream decompresses to, across the members of a BGZF file
    (blocks of 64 KiB each), up to :data:`HEAD_BYTES`."""
    inner = b""
    data = head
    try:
        while data and len(inner) < HEAD_BYTES:
            member = zlib.decompressobj(16 + zlib.MAX_WBITS)
            inner += member.decompress(data, HEAD_BYTES - len(inner))
            if not member.eof:
                break
            data = member.unused_data
    except zlib.error:
        pass
    return inner


_FASTQ = re.compile(rb"\A@[^\n]*\n[ACGTNacgtn.]+\r?\n\+[^\n]*\n")
_FASTA = re.compile(rb"\A>[^\n]*\n[ACGTNUacgtnu*-]{20,}\r?\n")


_VCF_COLUMNS = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]
_VCF_HEADER_LINE = re.compile(r"^#CHROM\t[^\r\n]*", re.M)


#: an array as NumPy or PyTorch prints it, named or not: 'array([', 'x = np.array([[', 'tensor(['
_ARRAY_REPR = re.compile(
    r"\A\s*(?:[A-Za-z_][\w.]{0,80}\s*(?:=|<-)\s*)?(?:np\.|numpy\.|torch\.)?(?:array|tensor)\(\["
)
#: an SQL dump: statements (and '--' comments) up to its first INSERT. A comment runs to its
#: line's end (a comment that may end anywhere let a line of dashes be cut into comments in
#: every way: 40 dashes took 21 s, 60 hours)
_SQL_DUMP = re.compile(
    r"\A(?:\s*(?:--[^\n]*\n|(?:PRAGMA|BEGIN|SET|CREATE|DROP|LOCK|USE)\b[^;]*;))*\s*INSERT\s+INTO\b",
    re.I,
)


def _sites_only(text: str, *, complete: bool) -> bool:
    """A VCF of sites with no genotype columns (its '#CHROM' line ends at INFO, as an allele
    frequency release's does), or a table under a '#CHROM' header of other columns than a
    VCF's."""
    header = _VCF_HEADER_LINE.search(text)
    if header is None:
        # the head is all '##' lines (thousands of contigs): the reader of the table finds
        # the '#CHROM' line, and a VCF with genotype columns is blocked there
        return not complete and all(line.startswith("##") for line in text.splitlines()[:-1])
    fields = header.group().split("\t")
    return fields[:8] != _VCF_COLUMNS or len(fields) == 8


def _is_fastq(data: bytes) -> bool:
    return bool(_FASTQ.match(data))


def _decode_head(head: bytes, size: int) -> tuple[str, str] | None:
    """(text, encoding) of the head of a text file, or None for binary content."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16: handled by the caller's message
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if b"\x00" in body:
        return None
    # a head cut in the middle of a multi-byte character still decodes as UTF-8
    try:
        text = body.decode("utf-8") if len(head) >= size else _decode_prefix(body)
        return text, "utf-8"
    except UnicodeDecodeError:
        pass
    # Latin-1 decodes any byte; accept it only when the bytes look like text
    controls = sum(1 for b in body if b < 32 and b not in (9, 10, 13, 12))
    if controls > len(body) // 100:
        return None
    return body.decode("latin-1"), "latin-1"


def _decode_prefix(body: bytes) -> str:
    return codecs.getincrementaldecoder("utf-8")("strict").decode(body, final=False)


_START_TAG = re.compile(r"<([A-Za-z_][\w:.-]*)[\s>/]")
_DOCTYPE = re.compile(r"\A\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<!DOCTYPE\s+(\w+)", re.S)


def _xml_root(text: str) -> str:
    """The local name of the first element (or of the DOCTYPE), lower case; '' if none."""
    m = _START_TAG.search(text)
    if m is None:
        m = _DOCTYPE.match(text)
        return m.group(3).lower() if m else ""
    return m.group(1).split(":")[-1].lower()


def _sniff_text(head: bytes, size: int, name: str = "") -> Sniffed:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _blocked("UTF-16 text", "save it again as UTF-8 (in Excel: CSV UTF-8)")
    decoded = _decode_head(head, size)
    if decoded is None:
        return _blocked(
            "binary data of a kind that is not on the allowlist",
            "release tables as CSV, TSV or Parquet, figures as PNG, SVG or PDF, and text as "
            "plain text, Markdown, JSON or notebooks",
        )
    text, encoding = decoded
    stripped = text.lstrip()
    if stripped.startswith("##fileformat=VCF") or re.match(
        r"#CHROM\tPOS\tID\tREF\tALT\tQUAL", text
    ):
        if not _sites_only(text, complete=len(head) >= size):
            return _blocked("a VCF genotype file", _INDIVIDUAL_HINT, RULE_GENOMIC)
        return Sniffed(Kind.TABLE, delimiter="\t", encoding=encoding)
    if text.startswith("%%MatrixMarket") or _SQL_DUMP.match(text) or _ARRAY_REPR.match(text):
        # a matrix's size line says what it is (structures.py); an SQL dump's rows are in
        # its INSERT statements, an array's in its brackets (embedded.py), not in its commas
        return Sniffed(Kind.TEXT, encoding=encoding)
    if text.startswith(("@HD\t", "@SQ\t", "@RG\t", "@PG\t")):
        return _blocked("a SAM read alignment", _INDIVIDUAL_HINT, RULE_GENOMIC)
    if _is_fastq(head):
        return _blocked("a FASTQ sequencing-read file", _INDIVIDUAL_HINT, RULE_GENOMIC)
    if _FASTA.match(head):
        return _blocked(
            "a FASTA sequence file",
            "sequences of study participants are individual-level data; release aggregate "
            "results instead",
            RULE_GENOMIC,
        )
    if (
        stripped.startswith(("{", "["))
        and not _LOG_LINE.match(stripped)
        and (name.lower().endswith(_JSON_NAMES) or not _not_json(stripped))
    ):
        return _sniff_json(stripped, encoding)
    if stripped.startswith("<"):
        root = _xml_root(stripped)
        if root == "svg":
            return Sniffed(Kind.SVG, encoding=encoding)
        if root in ("html", "head", "body", "table", "div", "p", "h1", "h2", "h3"):
            return Sniffed(Kind.HTML, encoding=encoding)
        if root:
            return _blocked(
                "an XML document",
                "XML can carry any data; release tables as CSV and figures as PNG or SVG",
            )
    delimiter = _table_delimiter(text)
    if delimiter is False and name.lower().endswith(_TABLE_NAMES):
        delimiter = _header_delimiter(text, name)
    elif len(text.strip().splitlines()) == 1 and not name.lower().endswith(_TABLE_NAMES):
        # one line with commas and no table's name is text (R's dput() of a data frame, a
        # sentence): its values are read by the text readers, not as a header without rows
        delimiter = False
    if delimiter is not False:
        return Sniffed(Kind.TABLE, delimiter=delimiter, encoding=encoding)
    return Sniffed(Kind.TEXT, encoding=encoding)


#: a log record: a time (or two fields of one) then a level, then at least two words
_LOG_RECORD = re.compile(
    r"^\s*\S+(?:\s+\S+)?\s+\[?(?:INFO|DEBUG|WARNING|WARN|ERROR|CRITICAL|TRACE|FATAL)\]?:?"
    r"\s+\S+\s+\S+"
)


def log_records(lines: list[str]) -> bool:
    """Whether the lines are mostly log records (four in five): sentences, however evenly
    their fields fall, not a table."""
    return sum(bool(_LOG_RECORD.match(ln)) for ln in lines) >= 0.8 * len(lines)


#: a log line: '[2026-01-05 10:00:01] INFO ...' (a bracketed tag followed by words, not JSON)
_LOG_LINE = re.compile(r"\[[^\[\]{}\"\n]*\][ \t]*[A-Za-z(<]")


#: names whose file is JSON whatever it holds: one that does not parse is blocked as malformed
_JSON_NAMES = (".json", ".jsonl", ".ndjson", ".geojson", ".ipynb")


def _not_json(head: str) -> bool:
    """Whether text that starts like JSON is something else (Python's print of a dict or a
    list, R's output): its first value fails to parse before the head ends, and not because
    the head cut a string short."""
    try:
        json.JSONDecoder().raw_decode(head)
    except json.JSONDecodeError as e:
        return e.pos < len(head) and not e.msg.startswith("Unterminated")
    except RecursionError:
        return False
    return False


def _sniff_json(text: str, encoding: str) -> Sniffed:
    """JSON, a notebook, a Zarr metadata document, or JSON Lines (records, one per line)."""
    if '"zarr_format"' in text[:4096] or '"zarr_consolidated_format"' in text[:4096]:
        return _blocked("part of a Zarr store (Zarr metadata)", _INDIVIDUAL_HINT, RULE_GENOMIC)
    if re.search(r'"nbformat"\s*:', text) and re.search(r'"cells"\s*:', text):
        return Sniffed(Kind.NOTEBOOK, encoding=encoding)
    return Sniffed(Kind.JSON, encoding=encoding)


#: candidate delimiters in order of preference when several fit
_DELIMITERS = ("\t", ",", ";", "|")


def _table_delimiter(text: str) -> str | bool | None:
    """The delimiter of a delimited table (None: runs of whitespace), or False for prose.

    A table has the same number (>= 2) of fields on (almost) every one of its first lines.
    """
    lines = [ln for ln in text.splitlines()[:200] if ln.strip() and not ln.startswith("##")]
    if len(lines) > 1 and len(text) == HEAD_BYTES:
        lines = lines[:-1]  # the last line may be cut short
    if (
        len(lines) > 3
        and COMMENT_LINE.match(lines[0])
        and len(lines[0].split()) != len(lines[1].split())
    ):
        lines = lines[1:]  # a '# comment' line over the table (smartpca's '#eigvals: ...')
    if not lines:
        return False
    if log_records(lines):
        return False  # log records ('1733560000 INFO chunk 7 done'), as wide as each other
    sample = "\n".join(lines)
    for delimiter in _DELIMITERS:
        if delimiter == ",":
            # Python logging's '13:20:01,123' is a time, not two fields of a CSV
            sample = _LOG_TIME.sub(r"\1.", sample)
        if delimiter not in sample.partition("\n")[0]:
            continue
        try:
            widths = [len(row) for row in csv.reader(io.StringIO(sample), delimiter=delimiter)]
        except csv.Error:
            continue
        if widths and widths[0] >= 2 and _consistent(widths):
            if delimiter == "|" and lines[0].strip().startswith("|"):
                return False  # Markdown tables stay text (their tables are found there)
            return delimiter
    # whitespace-aligned columns (plink 1.9 output): three or more lines of equal width with
    # numbers in every data line, and no sentence punctuation
    widths = [len(ln.split()) for ln in lines]
    numeric = all(any(NUMERIC.match(w) for w in ln.split()) for ln in lines[1:])
    prose = any(re.search(r"[.!?,:;]\s|[.!?:]$", ln) for ln in lines[:5])
    if len(lines) >= 3 and widths[0] >= 2 and _consistent(widths, exact=True) and numeric:
        return None if not prose else False
    return False


#: a comment line over a table: '# ', a lone '#', or '#key: value' (smartpca's '#eigvals: ...');
#: a '#CHROM' header is not one
COMMENT_LINE = re.compile(r"^(##|#\s|#$|#[^\s:]+:\s)")
#: a plain number (no thousands separators or units), as one field of a table
NUMERIC = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
#: a time with milliseconds after a comma (Python logging's asctime)
_LOG_TIME = re.compile(r"(\b\d\d:\d\d:\d\d),(?=\d{3}\b)")


_TABLE_NAMES = (".csv", ".tsv", ".tab", ".txt.csv")


def _header_delimiter(text: str, name: str) -> str:
    """The delimiter of a file named as a table: the one splitting its header most."""
    header = next((ln for ln in text.splitlines() if ln.strip() and not ln.startswith("##")), "")
    best = max(_DELIMITERS[:3], key=header.count)
    if header.count(best):
        return best
    return "\t" if name.lower().endswith((".tsv", ".tab")) else ","


def _consistent(widths: list[int], exact: bool = False) -> bool:
    if len(widths) == 1:
        return True
    same = sum(1 for w in widths if w == widths[0])
    return same == len(widths) if exact else same >= 0.9 * len(widths)


def is_zarr_metadata_name(name: str) -> bool:
    return name in (".zarray", ".zgroup", ".zattrs", ".zmetadata", "zarr.json")
