"""Individual-level content found by what it is, wherever it sits in a file: VCF records and
headers, genotype and haplotype strings, high-entropy blobs (base64, hex: packed or compressed
data), and the sample IDs of the node's datasets.

The scanners read bytes (a block of a delimited file or of text, the rows of a Parquet or JSON
table written as CSV) and return :class:`Hit` s with byte offsets, which the caller turns into
locations. A block is cut at line ends into pieces of 64 KiB, one Arrow array without copying,
and one pass of RE2 (pyarrow.compute) over it finds the pieces where anything could be; Python
reads only those, so a 1 GB file costs about one vectorised pass.

A sample ID is matched where nothing beside it continues it (a letter next to a letter, a
digit next to a digit): ``DK000001:``, ``/data/DK000001.cram``, plink's ``FID_IID``
(``DK000001_DK000001``) and ``DK000001DK000002`` all contain it; ``DK0000012`` does not. IDs
shorter than four characters, and numeric ones shorter than six digits, are never matched: they
would match ordinary values (``1``, ``2023``).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airlock.checks import pngs
from airlock.checks.findings import RULE_HIDDEN
from airlock.checks.folding import (
    FOLDABLE_CLASS,
    ID_SEPARATOR,
    drop_id_separators,
    fold_to_ascii,
    foldable,
    has_id_separator,
)

RULE_VCF = "individual-level.vcf"
RULE_BLOB = "individual-level.encoded-data"
RULE_GENOTYPE_STRING = "individual-level.genotype-string"
RULE_IMAGE = "image"  # a figure, or an image inside text: for a reviewer to look at
RULE_SAMPLE_ID = "individual-level.sample-id"
#: a sample ID of a dataset the request's project is not granted: for the reviewers only
#: (FindingSink keeps it apart; it never reaches the requester's findings or verdict)
RULE_SAMPLE_ID_NOT_GRANTED = "individual-level.sample-id.not-granted"

#: runs of base64 characters at least this long are looked at (shorter ones are words, IDs)
_RUN = 40
_BASE64_MIN = 200
_HEX_MIN = 129  # longer than a SHA-512 or BLAKE2b digest (128 hex digits), as checksum lists hold
_GENO_MIN = 40


@dataclasses.dataclass(frozen=True)
class Hit:
    start: int  # byte offsets in the scanned data
    end: int
    rule: str
    message: str
    value: str = ""  # what a reviewer is shown (masked for sample IDs)
    sample_id: str = ""  # the matched ID, for sample-ID hits (never shown)


def pieces_of(data: bytes, size: int = 1 << 16) -> tuple[pa.Array, np.ndarray]:
    """``data`` cut at line ends into pieces of about ``size`` bytes, as one Arrow binary array
    (without copying), and their start offsets (one more: the end)."""
    starts = [0]
    pos = 0
    while pos + size < len(data):
        cut = data.find(b"\n", pos + size)
        if cut < 0:
            break
        pos = cut + 1
        starts.append(pos)
    if starts[-1] == len(data) and len(starts) > 1:
        starts.pop()
    offsets = np.array([*starts, len(data)], dtype=np.int64)
    pieces = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(starts), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return pieces, offsets


def matching(pieces: pa.Array, pattern: str) -> np.ndarray:
    """Indices of the pieces in which RE2 ``pattern`` matches."""
    if len(pieces) == 0 or not pattern:
        return np.empty(0, dtype=np.int64)
    mask = pc.match_substring_regex(pieces, pattern)
    return np.flatnonzero(mask.to_numpy(zero_copy_only=False))


# -- VCF ----------------------------------------------------------------------------------------

_VCF_HEADER = re.compile(
    rb"^(##(fileformat=VCF|contig=<|FORMAT=<|INFO=<|FILTER=<|reference=)|"
    rb"#CHROM[\t ]+POS[\t ]+ID[\t ]+REF[\t ]+ALT)",
    re.M,
)
_VCF_RECORD_HINT = re.compile(rb"[\t ]GT(?::[A-Za-z0-9_]+)*[\t ]+[0-9.]+(?:[/|][0-9.]+)*[:\t \r\n]")
_CALL = re.compile(rb"^[0-9.]+(?:[/|][0-9.]+)*(:.*)?$")
_ALLELES = re.compile(rb"^[ACGTNacgtn*.]+$|^<[A-Z:]+>$")


def _vcf_record(line: bytes) -> bool:
    """A VCF data line with a GT FORMAT column and at least one call (tabs or runs of spaces,
    as pasted), at the start of the line or after other columns (ANNOVAR's Otherinfo)."""
    fields = line.split(b"\t") if b"\t" in line else line.split()
    for k in range(8, len(fields) - 1):  # k: the FORMAT column
        if not fields[k].strip().startswith(b"GT"):
            continue
        if fields[k - 7].strip().isdigit() and _ALLELES.match(fields[k - 5].strip()):
            return all(_CALL.match(f.strip()) for f in fields[k + 1 :] if f.strip())
    return False


#: a VCF record's FORMAT column and first call, for the RE2 prefilter (tabs, or spaces as pasted)
_GT_FIELD = r"[\t ]GT(?::[A-Za-z0-9_]+)*[\t ]+[0-9.]+(?:[/|][0-9.]+)*"


def find_vcf_header(data: bytes) -> Iterator[Hit]:
    """The first VCF header line in ``data``."""
    if b"#" in data and (b"##" in data or b"#CHROM" in data):
        for m in _VCF_HEADER.finditer(data):
            yield Hit(m.start(), m.end(), RULE_VCF, _VCF_MESSAGE, m.group().decode("latin-1"))
            return  # one is enough to say what the file holds


def find_vcf_records(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Hit]:
    """The first VCF record with genotype calls in ``data[start:end]``."""
    for m in _VCF_RECORD_HINT.finditer(data, start, len(data) if end is None else end):
        line_start = data.rfind(b"\n", 0, m.start()) + 1
        line_end = data.find(b"\n", m.end() - 1)
        line_end = len(data) if line_end < 0 else line_end
        if _vcf_record(data[line_start:line_end].rstrip(b"\r")):
            shown = data[line_start : min(line_end, line_start + 60)].decode("latin-1")
            yield Hit(line_start, line_end, RULE_VCF, _VCF_MESSAGE, shown)
            return


_VCF_MESSAGE = (
    "This holds VCF content (a VCF header or records with genotype calls per sample): "
    "individual-level genomic data, which never leaves the node. Release aggregate results "
    "(allele counts, summary statistics) instead."
)


# -- blobs and genotype strings -----------------------------------------------------------------

_RUN_PATTERN = f"[A-Za-z0-9+/=_-]{{{_RUN},}}"
#: bytes written as hex tokens: a C array ('0x1f, 0x8b, ...'), pairs ('1f 8b 08 ...') or
#: hexdump lines ('00000010: 1f8b 0800 ...'), 48 bytes or more
_HEX_TOKENS = (
    r"(?:0x[0-9a-fA-F]{2}[ ,;]*){48,}|(?:[0-9a-fA-F]{2}[ :\n]){48,}|"
    r"(?m:^[0-9a-fA-F]{7,8}:? +(?:[0-9a-fA-F]{2,4} ){4})"
)
_HEX_TOKENS_RE = re.compile(
    rb"(?:0x[0-9a-fA-F]{2}[ ,;]*){48,}|(?:[0-9a-fA-F]{2}[ :\n]){48,}|"
    rb"(?:(?m:^)[0-9a-fA-F]{7,8}:? +(?:[0-9a-fA-F]{2,4} )+[^\n]*\n?)+"
)
_RUN_RE = re.compile(_RUN_PATTERN.encode())
#: a list of genotype calls ('0/1,0/0,1|1 ...', quoted or not): 24 or more in a row
_CALL_LIST = r"(?:[\"']?[0-9.][/|][0-9.][\"']?[,; \t]+){24,}"
_CALL_LIST_RE = re.compile(_CALL_LIST.encode())


def _entropy(text: bytes) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _classify_run(run: bytes) -> tuple[str, str] | None:
    """(rule, what) for a long run of base64 characters that is data, not a word or a path.
    A run with '=' inside (not base64's padding at its end) is pieces after names, as in a
    VCF's INFO ('GTS=0120...'), each classified alone."""
    core = run.rstrip(b"=")
    if b"=" in core:
        pieces = (_classify_run(piece) for piece in core.split(b"=") if len(piece) >= _RUN)
        return next((found for found in pieces if found), None)
    chars = set(run) - set(b"-_")
    if chars <= set(b"012"):
        if len(run) >= _GENO_MIN and _spread(run, b"012") >= 2:
            return RULE_GENOTYPE_STRING, "a string of genotype codes (0/1/2), one per person"
        return None
    if chars <= set(b"0123456789abcdef") or chars <= set(b"0123456789ABCDEF"):
        letters = sum(1 for c in run if c > 57)
        if len(run) >= _HEX_MIN and 0.1 < letters / len(run) < 0.9 and _entropy(run) > 3.3:
            return RULE_BLOB, "hexadecimal data (packed or compressed bytes)"
        return None
    if len(run) < _BASE64_MIN:
        return None
    upper = sum(1 for c in run if 65 <= c <= 90)
    lower = sum(1 for c in run if 97 <= c <= 122)
    digits = sum(1 for c in run if 48 <= c <= 57)
    n = len(run)
    if min(upper, lower) > 0.1 * n and digits > 0.02 * n and _entropy(run) > 4.8:
        return RULE_BLOB, "base64-encoded data (packed or compressed bytes)"
    if _small_codes(run):
        return RULE_BLOB, "base64-encoded bytes of 0, 1 and 2 (genotype codes, one per byte)"
    return None


def _small_codes(run: bytes) -> bool:
    """Base64 of bytes that are nearly all 0 to 3, two of 0, 1 and 2 common (numpy's int8
    genotypes, ``base64.b64encode(g.tobytes())``): too plain for the entropy test."""
    try:
        data = base64.b64decode(run.replace(b"-", b"+").replace(b"_", b"/"), validate=True)
    except ValueError:
        return False
    small = sum(data.count(bytes([b])) for b in range(4))
    return small >= 0.95 * len(data) and _spread(data, b"\x00\x01\x02") >= 2


def _spread(run: bytes, symbols: bytes) -> int:
    """How many of ``symbols`` make up at least 5% of ``run`` each."""
    counts = Counter(run)
    return sum(1 for s in symbols if counts.get(s, 0) >= 0.05 * len(run))


def find_blobs(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Hit]:
    """Base64 and hex blobs and genotype strings in ``data[start:end]``: long runs of their
    characters, lines wrapped at a fixed width joined again."""
    end = len(data) if end is None else end
    joined: list[list] = []  # [start, end, whole line] of runs
    for m in _RUN_RE.finditer(data, start, end):
        s, e = m.start(), m.end()
        line_start = data.rfind(b"\n", 0, s) + 1
        line_end = data.find(b"\n", e)
        line_end = len(data) if line_end < 0 else line_end
        whole = s == line_start and data[e:line_end].strip() == b""
        if whole and joined and joined[-1][2] and data[joined[-1][1] : s].strip() == b"":
            joined[-1][1] = e
        else:
            joined.append([s, e, whole])
    for s, e, _ in joined:
        run = re.sub(rb"\s+", b"", data[s:e])
        found = _classify_run(run)
        if found:
            rule, what = found
            yield Hit(s, e, rule, _blob_message(what, len(run)), run[:24].decode() + "...")
    call_list = _CALL_LIST_RE.search(data, start, end)
    if call_list:
        calls = len(re.findall(rb"[0-9.][/|][0-9.]", call_list.group()))
        yield Hit(call_list.start(), call_list.end(), RULE_GENOTYPE_STRING,
                  f"This holds a list of {calls:,} genotype calls, one per person: "
                  "individual-level data, which never leaves the node. Release allele or "
                  "genotype counts instead.", call_list.group()[:24].decode() + "...")  # fmt: skip
    for m in _HEX_TOKENS_RE.finditer(data, start, end):
        digits = b"".join(_hex_bytes(line) for line in m.group().splitlines())
        if _classify_run(digits.lower() if len(digits) >= _HEX_MIN else b"") is not None:
            yield Hit(m.start(), m.end(), RULE_BLOB,
                      _blob_message("hexadecimal data (packed or compressed bytes)",
                                    len(digits)), m.group()[:24].decode() + "...")  # fmt: skip


_DUMP_LINE = re.compile(rb"^[0-9a-fA-F]{7,8}:? +((?:[0-9a-fA-F]{2,4} {1,2})+)")


def _hex_bytes(line: bytes) -> bytes:
    """The hex digits of one line of tokens; a hexdump line without its offset and text."""
    dump = _DUMP_LINE.match(line)
    if dump:
        line = dump.group(1)
    return re.sub(rb"0x|[^0-9a-fA-F]", b"", line)


#: an image written into text as a data URI (Markdown's ![](data:image/png;base64,...))
_DATA_URI = re.compile(
    rb"data:image/(png|jpeg|gif|webp|svg\+xml);base64,([A-Za-z0-9+/]{24,}={0,2})", re.I
)
#: how an image of each type starts and ends (nothing hidden after its last chunk)
_IMAGE_MAGIC = {
    b"png": ((b"\x89PNG\r\n\x1a\n",), b"IEND\xaeB`\x82"),
    b"jpeg": ((b"\xff\xd8\xff",), b"\xff\xd9"),
    b"gif": ((b"GIF87a", b"GIF89a"), b";"),
    b"webp": ((b"RIFF",), b""),
    b"svg+xml": ((b"<svg", b"<?xml"), b""),
}


def without_images(data: bytes) -> tuple[bytes, int, list[tuple[str, str]]]:
    """``data`` with the payload of each image data URI blanked (same length, so offsets
    hold), how many there were, and the text chunks of the PNG ones (to be read as text): an
    image is for a reviewer to look at, not encoded data to block. A payload whose bytes do
    not start and end as its type's do, or a PNG with anything a viewer skips (airlock.checks.
    pngs), is left, and is blocked as any base64 is."""
    if b"data:image/" not in data:
        return data, 0, []
    out = bytearray(data)
    images = 0
    texts: list[tuple[str, str]] = []
    for m in _DATA_URI.finditer(data):
        try:
            image = base64.b64decode(m.group(2), validate=True)
        except ValueError:
            continue
        kind = m.group(1).lower()
        starts, end = _IMAGE_MAGIC[kind]
        if kind == b"svg+xml" and (b"<script" in image.lower() or b"<svg" not in image):
            continue  # an SVG that runs code, or no SVG: not an image to look at
        if kind == b"png":
            png = pngs.inspect_bytes(image)
            if png is None or png.hidden:
                continue
            texts += png.texts
        if image.startswith(starts) and image.rstrip().endswith(end):
            out[m.start(2) : m.end(2)] = b" " * (m.end(2) - m.start(2))
            images += 1
    return bytes(out), images, texts


def _blob_message(what: str, size: int) -> str:
    return (
        f"This holds {size:,} characters of {what}. Encoded data cannot be checked and may "
        "hold individual-level data (genotypes, a file); it never leaves the node. Release the "
        "results themselves as a table or text."
    )


# -- sample IDs ---------------------------------------------------------------------------------


def usable_ids(sample_ids: Iterable[str]) -> frozenset[str]:
    """The sample IDs that can be matched without tripping on ordinary values."""
    return frozenset(
        s for s in sample_ids if len(s) >= 4 and not (s.isdigit() and len(s) < 6) and s.isascii()
    )


def masked(sample_id: str) -> str:
    """A sample ID with its middle hidden, so reports do not repeat it."""
    if len(sample_id) <= 4:
        return sample_id[0] + "*" * (len(sample_id) - 1)
    return sample_id[:2] + "*" * (len(sample_id) - 4) + sample_id[-2:]


#: more IDs than this are prefiltered by their shapes (DK[0-9]{6}) rather than one by one
_ALTERNATION_LIMIT = 20_000
#: IDs of fewer shapes than this are prefiltered by their shapes even when few enough to list
_FEW_SHAPES = 32


class SampleIdMatcher:
    """Finds the node's sample IDs as whole words (see the module docstring)."""

    def __init__(self, owners: tuple[tuple[str, frozenset[str], bool], ...]) -> None:
        #: (dataset id, its sample IDs, granted to the request's project): what a finding names
        self.owners = owners
        #: the IDs of datasets the requester may be told about (granted to the project)
        self.granted = usable_ids(frozenset().union(*(s for _, s, mine in owners if mine)))
        #: the other datasets' IDs, matched for the reviewers only
        others = usable_ids(frozenset().union(*(s for _, s, mine in owners if not mine)))
        ids = self.granted | others
        self.ids = ids
        self.bytes_ids = frozenset(s.encode() for s in ids)
        #: IDs by their lower case: a script that changed their case ('dk000017', 'Dk000017')
        #: still names the person (an exact match wins where two IDs differ only by case)
        self.folded = {s.lower(): s for s in sorted(ids, reverse=True)}
        self.numeric = frozenset(int(s) for s in ids if s.isdigit())
        # the IDs and their lower case as literals: RE2 keeps a literal alternation fast,
        # where '(?i:...)' costs several times more per byte (a few shapes are cheap either way)
        spelled = ids | frozenset(self.folded)
        shapes = "|".join(sorted(_shapes(spelled), key=len, reverse=True))
        literal = len(ids) <= _ALTERNATION_LIMIT
        #: RE2 prefilter over lines (no lookarounds in RE2: the Python pattern decides). A few
        #: shapes (DK[0-9]{6}) keep RE2's automaton small: Arrow compiles the pattern again for
        #: every 8 MB block, and 1,800 literals made each block cost 28 ms against 16 ms; a
        #: value that has an ID's shape but is none is settled by the Python pattern
        few = shapes.count("|") < _FEW_SHAPES
        # 'DK-000017', 'DK%20000017'
        spaced = re.sub(r"(?<=[A-Za-z}])(?=\[0-9\])", lambda _: ID_SEPARATOR + "?", shapes)
        body = f"(?i:{spaced})" if few or not literal else "|".join(
            sorted((re.escape(s) for s in spelled), key=len, reverse=True))  # fmt: skip
        self.prefilter = f"(?:{body})" if ids else ""
        short = max(map(len, spelled), default=0) <= 100  # the trie nests a group per letter
        self._python_body = trie_pattern(self.folded) if ids and short and literal else shapes
        self._messages: dict[tuple[str, str], str] = {}
        #: 'DK-000017' is read as 'DK000017', unless an ID has such a separator itself
        self._joinable = not any(has_id_separator(s.encode()) for s in ids)

    @functools.cached_property
    def words(self) -> re.Pattern[bytes]:
        """The IDs as one Python pattern, compiled when the prefilter first finds a line (a
        file without a sample ID, as most are, need not pay for it). It is a trie of the IDs:
        Python's re tries every branch of an alternation at every position, which took 6 to
        11 us for each line of a file with an ID on every line, against 1 us."""
        return re.compile(rb"(" + self._python_body.encode() + rb")", re.IGNORECASE)

    def __bool__(self) -> bool:
        return bool(self.ids)

    def find(self, data: bytes, start: int = 0, end: int | None = None
             ) -> Iterator[tuple[int, int, str]]:  # fmt: skip
        """(start, end, id) of every sample ID in ``data[start:end]``, also where it is
        written in full-width forms, with zero-width characters inside, or with a separator
        between its letters and digits (``DK-000017``; folding.py)."""
        if not self.ids or not data:
            return
        end = len(data) if end is None else end
        folded = foldable(data, start, end)
        joined = self._joinable and has_id_separator(data, start, end)
        if not folded and not joined:
            yield from self._find(data, start, end)
            return
        # the bytes matched, and for each the span of data it stands for
        text = data[start:end]
        if folded:
            text, offsets, widths = fold_to_ascii(text)
            assert offsets is not None and widths is not None
            starts, ends = offsets, offsets + widths
        else:
            starts = np.arange(len(text))
            ends = starts + 1
        if joined:
            text, kept = drop_id_separators(text)
            if kept is not None:
                starts, ends = starts[kept], ends[kept]
        for s, e, sample in self._find(text, 0, len(text)):
            yield start + int(starts[s]), start + int(ends[e - 1]), sample

    def _find(self, data: bytes, start: int, end: int) -> Iterator[tuple[int, int, str]]:
        for m in self.words.finditer(data, start, end):
            s, e = m.start(1), m.end(1)
            found = m.group(1)
            sample = (found.decode() if found in self.bytes_ids
                      else self.folded.get(found.decode().lower()))  # fmt: skip
            if sample is not None and _bounded(data, s, e):
                yield s, e, sample

    def rule_of(self, sample_id: str) -> str:
        """The rule a match is found under: the requester's, or the reviewers' only."""
        return RULE_SAMPLE_ID if sample_id in self.granted else RULE_SAMPLE_ID_NOT_GRANTED

    def dataset_of(self, sample_id: str) -> str:
        """The dataset (or datasets) a sample ID belongs to, as a finding names it: 'dataset
        dk'; 'dataset uk, which the request's project is not granted' (for reviewers only:
        the rule of such an ID is reviewer-only). A granted ID is named by granted datasets
        only, so the requester never reads the name of a dataset their project is not
        granted."""
        granted = sample_id in self.granted
        names = [name for name, ids, mine in self.owners
                 if sample_id in ids and mine == granted]  # fmt: skip
        if not names:
            named = "a dataset on this node"
        else:
            named = f"dataset {names[0]}" if len(names) == 1 else f"datasets {', '.join(names)}"
        return named if granted else f"{named}, which the request's project is not granted"

    def message(self, where: str, sample_id: str) -> str:
        """What a finding of ``sample_id`` says (to the requester for a granted ID, to the
        reviewers for another dataset's); worded once per ID (a file may name it on every
        line)."""
        key = (where, sample_id)
        if key not in self._messages:
            self._messages[key] = sample_id_message(where, self.dataset_of(sample_id))
        return self._messages[key]

    def in_text(self, text: str) -> list[str]:
        """The sample IDs in a short text (a column name, a cell)."""
        if not self.ids or not text:
            return []
        data = text.encode("utf-8", "replace")
        return [s for _, _, s in self.find(data)]


def trie_pattern(words: Iterable[str]) -> str:
    """A regex matching exactly ``words``, longest first, written as their prefix tree
    ('DK0000(?:1|2)' for DK00001 and DK00002): the same matches as the alternation of the words
    sorted longest first, found without trying each word at each position."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here

    def emit(node: dict) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body  # greedy: the longer word first

    return emit(trie)


def _kind(byte: int) -> int:
    """0: other, 1: letter, 2: digit."""
    if 48 <= byte <= 57:
        return 2
    return 1 if 65 <= byte <= 90 or 97 <= byte <= 122 else 0


def _bounded(data: bytes, s: int, e: int) -> bool:
    """A match is a whole ID when the characters beside it do not continue it: a letter next
    to a letter or a digit next to a digit would (``DK0000012``, ``xDK000001``); anything else
    separates (``DK000001:``, ``0_DK000001``, ``DK000001DK000002``)."""
    before = _kind(data[s - 1]) if s > 0 else 0
    after = _kind(data[e]) if e < len(data) else 0
    return not (before and before == _kind(data[s])) and not (after and after == _kind(data[e - 1]))


def _shapes(ids: Iterable[str]) -> set[str]:
    """Regexes that cover ``ids``: letters kept, digit runs generalised (``DK[0-9]{6}``)."""
    shapes = {re.sub(r"\d+", lambda m: f"[0-9]{{{len(m.group())}}}", re.escape(s)) for s in ids}
    if len(shapes) > 200:
        shapes = {re.sub(r"[A-Za-z]+", lambda m: f"[A-Za-z]{{{len(m.group())}}}", s)
                  for s in shapes}  # fmt: skip
    return shapes


@functools.lru_cache(maxsize=8)
def sample_id_matcher(owners: tuple[tuple[str, frozenset[str], bool], ...]) -> SampleIdMatcher:
    """One matcher (one pass over the bytes) for the granted datasets' IDs and, for the
    reviewers only, the node's other datasets' IDs: ``owners`` lists each dataset, its IDs
    and whether it is granted."""
    return SampleIdMatcher(owners)


def context_matcher(context) -> SampleIdMatcher:
    """The matcher of a CheckContext: its datasets' IDs, and its reviewer-only IDs."""
    return sample_id_matcher(context.owners)


def sample_id_message(where: str, dataset: str = "a dataset on this node") -> str:
    """``dataset``: 'dataset dk' (SampleIdMatcher.dataset_of)."""
    return (
        f"{where} a sample ID of {dataset}: values that name people are "
        "individual-level data, which never leaves the node. Remove it, or aggregate over "
        "people."
    )


# -- all of them --------------------------------------------------------------------------------


#: a cell that starts like a spreadsheet formula: a trigger not followed by a number (or a tab
#: or carriage return first); airlock.checks.formulas reads the pieces it is in
FORMULA_START = r"(?:^|[\t,;|\"\n])[=+\-@][^0-9.\s]|[\",;|][\t\r]"
_FORMULA_START_RE = re.compile(FORMULA_START.encode())


def prefiltered(data: bytes, matcher: SampleIdMatcher | None, cache: dict | None = None
                ) -> list[tuple[int, int]]:  # fmt: skip
    """(start, end) of the pieces of ``data`` where any scanner (or the formula rule) could
    find something: one RE2 pass, kept in ``cache`` (a chunk's) for the other rules."""
    if cache is not None and "pieces" in cache:
        return cache["pieces"]
    pattern = f"{_RUN_PATTERN}|{_GT_FIELD}|{_CALL_LIST}|{_HEX_TOKENS}|{FORMULA_START}" + (
        f"|{matcher.prefilter}|{FOLDABLE_CLASS}" if matcher else ""
    )
    pieces, offsets = pieces_of(data)
    found = [(int(offsets[i]), int(offsets[i + 1])) for i in matching(pieces, pattern).tolist()]
    if cache is not None:
        cache["pieces"] = found
    return found


def prefilter(matcher: SampleIdMatcher | None) -> Callable[[bytes], dict]:
    """The prefilter of a chunk's bytes as a chunk's cache, to be computed ahead of the rules
    (in the thread that parses the chunk, while the rules read the one before)."""

    def prepare(data: bytes) -> dict:
        cache: dict = {}
        prefiltered(data, matcher, cache)
        return cache

    return prepare


def may_hold_formulas(data: bytes, pieces: list[tuple[int, int]]) -> bool:
    return any(_FORMULA_START_RE.search(data, s, e) for s, e in pieces)


#: characters that take no space (UTF-8): zero-width spaces and joiners, direction marks,
#: invisible operators, byte-order marks inside text, the Mongolian vowel separator, variation
#: selectors other than text and emoji presentation, and Unicode tags
_INVISIBLE = re.compile(
    rb"\xe2\x80[\x8b-\x8f]|\xe2\x81[\xa0-\xa4\xaa-\xaf]|\xef\xbb\xbf|\xe1\xa0\x8e"
    rb"|\xef\xb8[\x80-\x8d]|\xf3\xa0[\x80-\x87][\x80-\xbf]"
)
#: as many as a text may hold by chance (joiners in emoji, marks in right-to-left text)
_INVISIBLE_MIN = 64


def find_invisible(data: bytes) -> Iterator[Hit]:
    """Many characters that no one sees (a bit each, or a byte as a variation selector): data
    hidden in a text that reads as something else."""
    if data.isascii():  # the usual case, told at memory speed
        return
    found = [m.span() for m in _INVISIBLE.finditer(data)]
    if len(found) >= _INVISIBLE_MIN:
        yield Hit(*found[0], RULE_HIDDEN,
                  f"This text holds {len(found):,} characters that take no space (zero-width "
                  "characters, invisible marks, variation selectors): a reader sees nothing, but "
                  "they can carry data. Remove them (save the text as plain ASCII).")  # fmt: skip


def scan(data: bytes, matcher: SampleIdMatcher | None, cache: dict | None = None
         ) -> Iterator[Hit]:  # fmt: skip
    """Every content hit in ``data``: VCF, blobs and genotype strings, sample IDs. One RE2
    pass over pieces of the data finds where to look; Python reads only those pieces."""
    if not data:
        return
    yield from find_vcf_header(data)
    yield from find_invisible(data)
    vcf = False
    for start, end in prefiltered(data, matcher, cache):
        if not vcf:
            for hit in find_vcf_records(data, start, end):
                vcf = True
                yield hit
        yield from find_blobs(data, start, end)
        if matcher:
            for s, e, sample in matcher.find(data, start, end):
                yield Hit(s, e, matcher.rule_of(sample), matcher.message("This is", sample),
                          masked(sample), sample)  # fmt: skip
