"""Personal identifiers: Danish CPR numbers, Swedish personnummer, NHS numbers, Norwegian
fødselsnummer and Finnish personal identity codes.

A candidate must have a plausible date of birth (CPR, personnummer: a real date, not in the
future) and a valid check digit where its scheme has one, so that ordinary numbers such as read
totals, positions or timestamps do not trip the rule:

- CPR ``DDMMYY-SSSS``: the 7th digit and the year give the century; modulus 11 with weights
  4,3,2,7,6,5,4,3,2,1 holds for numbers issued before 2007 only. A real date without the check
  needs a reviewer's look where the number is written as an identifier (with a hyphen, a
  leading zero, or inside a name such as ``sample_0101901234_x`` or ``0101901234.cram``), and is
  ignored where it is written as a quantity.
- personnummer ``YYMMDD-NNNC``, ``YYMMDD+NNNC`` (aged 100+), ``YYYYMMDDNNNC``: Luhn over the
  ten digits; samordningsnummer add 60 to the day.
- NHS number ``NNN NNN NNNN``: modulus 11 with weights 10..2, in an issued range (first digit
  3, 4, 6 or 7; 9xx are unissued and 999 the test range, 0-2 Scottish CHI dates).
- fødselsnummer ``DDMMYYIIIKK`` (11 digits, or ``DDMMYY IIIKK``): two modulus-11 check digits
  (weights 3,7,6,1,8,9,4,5,2 and 5,4,3,2,7,6,5,4,3,2); D-numbers add 40 to the day.
- Finnish ``DDMMYYCNNNT``: ``C`` gives the century (``+`` 1800s, ``-`` and U-Y 1900s, A-F
  2000s), ``T`` is ``DDMMYYNNN`` modulo 31 in ``0-9A-Y`` without G, I, O, Q and Z.
- A CPR number, personnummer or fødselsnummer stored as an integer loses its leading zero:
  nine digits are read as ``0`` and those nine (ten for a fødselsnummer).

Where a number sits decides how it is read. Words do not join digits: ``_``, ``.``, ``:`` and
``/`` separate them (``sample_0707614285_x``), letters and digits do not (``rs1234567890``);
full-width forms (``０７０７６１－４２８５``) are read as ASCII and zero-width characters dropped
(folding.py). A bare number that a word names
as a quantity (``4010232137 reads``, ``position 123456789``, ``"total_reads": ...``) is that
quantity, and so is a column named for one (``total_reads``, ``pos``, ``timestamp``, every
numeric column of a per-variant table) unless most of its numbers are valid identifiers,
which no quantity is (about 7% of random 10-digit numbers, 12% of 9-digit ones, pass a check
by chance). Elsewhere a valid check digit and a plausible date are enough.

Digits are found and validated with NumPy over the raw bytes (text) or the parsed values
(numeric columns), so a 1 GB file is scanned at memory speed; the text cells of a column are
first narrowed with NumPy (nine digits at least) and RE2 (the shapes an identifier can take,
variant IDs such as ``1:123456789:A:G`` left out), and only the rare valid numbers are looked
at in Python.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airlock.checks.cells import Chunk, TableContext, tokens
from airlock.checks.findings import Location, Verdict
from airlock.checks.folding import FOLDABLE_CLASS, fold_to_ascii

RULE_CPR = "personal-id.cpr"
RULE_PERSONNUMMER = "personal-id.personnummer"
RULE_NHS = "personal-id.nhs"
RULE_FODSELSNUMMER = "personal-id.fodselsnummer"
RULE_HETU = "personal-id.hetu"

_WHAT = {
    RULE_CPR: "a Danish CPR number",
    RULE_PERSONNUMMER: "a Swedish personnummer",
    RULE_NHS: "an NHS number",
    RULE_FODSELSNUMMER: "a Norwegian fødselsnummer",
    RULE_HETU: "a Finnish personal identity code (henkilötunnus)",
}

#: names of quantities: a bare number named by one of these words is not an identifier
QUANTITY_WORDS = frozenset(
    {
        # positions
        "pos", "position", "positions", "bp", "start", "end", "stop", "begin", "offset",
        "coord", "coordinate", "base", "bases", "basepair", "basepairs",
        # counts and sizes
        "n", "count", "counts", "ct", "cnt", "num", "total", "totals", "sum", "reads", "read",
        "bytes", "size", "length", "len", "depth", "dp", "coverage", "cov", "obs", "nobs",
        "pairs", "alignments", "records", "rows", "lines", "variants", "snps", "sites", "kb",
        "sequences",
        "mb", "gb",
        # statistics
        "mean", "median", "sd", "std", "var", "min", "max", "beta", "se", "p", "pval", "stat",
        "chisq", "z",
        # time
        "time", "timestamp", "ts", "epoch", "seconds", "secs", "sec", "ms", "millis", "ns",
        "duration", "elapsed", "runtime", "date", "created", "modified", "updated",
    }
)  # fmt: skip
#: words that make a name an identifier's, whatever else it says (``sample_id_start``)
ID_WORDS = frozenset(
    {"id", "ids", "cpr", "nhs", "pnr", "personnummer", "ssn", "mrn", "eid", "iid", "fid",
     "person", "patient", "participant", "subject", "individual", "donor", "sample"}
)  # fmt: skip


#: what a number that names a thing, not a person, identifies (a Slurm ``JobID``)
_THING_IDS = frozenset(
    {"job", "jobid", "task", "taskid", "run", "runid", "process", "pid", "commit", "trial",
     "array", "slurm", "batch", "node", "worker", "chunk", "request", "session", "thread"}
)  # fmt: skip


def quantity_name(name: str) -> bool:
    """Whether a column name or key says its numbers are quantities (``total_reads``) or the
    numbers of things (a job's ``JobID``), not of people."""
    words = set(tokens(name))
    if words & _THING_IDS and not words & (ID_WORDS - {"id", "ids"}):
        return True
    return bool(words & QUANTITY_WORDS) and not words & ID_WORDS


# -- validating numbers, many at once -----------------------------------------------------------

#: what a 10-digit number is, most specific first
NONE, CPR, PERSONNUMMER, NHS, CPR_DATE, FODSELSNUMMER = range(6)
_RULE_OF = {CPR: RULE_CPR, PERSONNUMMER: RULE_PERSONNUMMER, NHS: RULE_NHS, CPR_DATE: RULE_CPR,
            FODSELSNUMMER: RULE_FODSELSNUMMER}  # fmt: skip
_CPR_WEIGHTS = np.array([4, 3, 2, 7, 6, 5, 4, 3, 2, 1])
_NHS_WEIGHTS = np.array([10, 9, 8, 7, 6, 5, 4, 3, 2])
_FNR_WEIGHTS_1 = np.array([3, 7, 6, 1, 8, 9, 4, 5, 2])
_FNR_WEIGHTS_2 = np.array([5, 4, 3, 2, 7, 6, 5, 4, 3, 2])
#: a Finnish code's check character: the number DDMMYYNNN modulo 31
_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
#: the century of each of its separators ('+' 1800s, '-' and U-Y 1900s, A-F 2000s)
_HETU_CENTURY = {"+": 1800, **dict.fromkeys("-UVWXY", 1900), **dict.fromkeys("ABCDEF", 2000)}
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _digits(values: np.ndarray, width: int = 10) -> np.ndarray:
    """(n, width) decimal digits of non-negative integers, zero-padded on the left."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values.astype(np.int64)[:, None] // powers) % 10


def _two(d: np.ndarray, i: int) -> np.ndarray:
    return d[:, i] * 10 + d[:, i + 1]


def _plausible_date(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Dates that exist and are not in the future: a birth date someone can have."""
    month_ok = (month >= 1) & (month <= 12)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    last = _MONTH_DAYS[np.where(month_ok, month, 0)] + ((month == 2) & leap)
    today = datetime.date.today()
    ordinal = year * 10000 + month * 100 + day
    latest = today.year * 10000 + today.month * 100 + today.day
    return month_ok & (day >= 1) & (day <= last) & (ordinal <= latest)


def _cpr(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(plausible date of birth, modulus 11 holds) of 10-digit CPR candidates."""
    yy, seventh = _two(d, 4), d[:, 6]
    century = np.where(
        seventh <= 3,
        1900,
        np.where(
            (seventh == 4) | (seventh == 9),
            np.where(yy <= 36, 2000, 1900),
            np.where(yy <= 57, 2000, 1800),
        ),
    )
    date = _plausible_date(century + yy, _two(d, 2), _two(d, 0))
    return date, (d @ _CPR_WEIGHTS) % 11 == 0


def _luhn(d: np.ndarray) -> np.ndarray:
    doubled = d[:, 0::2] * 2
    doubled -= 9 * (doubled > 9)
    return (doubled.sum(axis=1) + d[:, 1::2].sum(axis=1)) % 10 == 0


def _personnummer(d: np.ndarray, century: np.ndarray | None = None) -> np.ndarray:
    """Valid 10-digit personnummer (or samordningsnummer: day + 60); ``century`` given for
    the 12-digit form, else either century will do."""
    yy, month, day = _two(d, 0), _two(d, 2), _two(d, 4)
    day = np.where(day > 60, day - 60, day)
    if century is None:
        date = _plausible_date(1900 + yy, month, day) | _plausible_date(2000 + yy, month, day)
    else:
        date = _plausible_date(century + yy, month, day)
    return date & _luhn(d)


def _nhs(d: np.ndarray) -> np.ndarray:
    check = (11 - (d[:, :9] @ _NHS_WEIGHTS) % 11) % 11
    issued = np.isin(d[:, 0], (3, 4, 6, 7))
    repeated = (d == d[:, :1]).all(axis=1)
    return issued & (check != 10) & (check == d[:, 9]) & ~repeated


def _fodselsnummer(d: np.ndarray) -> np.ndarray:
    """Valid 11-digit Norwegian fødselsnummer (or D-number: day + 40): a real date in either
    century and both modulus-11 check digits."""
    day, month, yy = _two(d, 0), _two(d, 2), _two(d, 4)
    day = np.where(day > 40, day - 40, day)
    date = _plausible_date(1900 + yy, month, day) | _plausible_date(2000 + yy, month, day)
    k1 = (11 - (d[:, :9] @ _FNR_WEIGHTS_1) % 11) % 11
    k2 = (11 - (d[:, :10] @ _FNR_WEIGHTS_2) % 11) % 11
    return date & (k1 == d[:, 9]) & (k2 == d[:, 10])


def classify11(values: np.ndarray) -> np.ndarray:
    """FODSELSNUMMER for valid 11-digit fødselsnummer (one with ten digits lost its leading
    zero), else NONE."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int8)
    valid = _fodselsnummer(_digits(values.astype(np.int64), 11))
    return np.where(valid, FODSELSNUMMER, NONE).astype(np.int8)


def hetu_verdict(code: str) -> Verdict | None:
    """BLOCK for a valid Finnish code ``DDMMYYCNNNT`` (a real date, the check character),
    else None."""
    if len(code) != 11 or code[6] not in _HETU_CENTURY or not (code[:6] + code[7:10]).isdigit():
        return None
    year = _HETU_CENTURY[code[6]] + int(code[4:6])
    date = _plausible_date(np.array([year]), np.array([int(code[2:4])]), np.array([int(code[:2])]))
    valid = date[0] and _HETU_CHECK[int(code[:6] + code[7:10]) % 31] == code[10]
    return Verdict.BLOCK if valid else None


def classify(values: np.ndarray) -> np.ndarray:
    """What each integer below 10**10 is when read as a 10-digit identifier (one with nine
    digits lost its leading zero): CPR, PERSONNUMMER, NHS, CPR_DATE (a CPR date without the
    check digit) or NONE."""
    code = np.full(len(values), NONE, dtype=np.int8)
    if len(values) == 0:
        return code
    # what each scheme needs at least, from four divisions: a month in digits 3-4 and a day
    # in digits 1-2 (CPR) or 5-6 (personnummer, +60 for samordningsnummer), or an issued
    # first digit (NHS); each scheme takes apart the digits of only those numbers
    v = values.astype(np.int64)
    month = v // 10**6 % 100
    day = v // 10**8
    pn_day = v // 10**4 % 100 % 60
    first = day // 10
    month_ok = (month >= 1) & (month <= 12)
    cpr_at = np.flatnonzero(month_ok & (day >= 1) & (day <= 31))
    pn_at = np.flatnonzero(month_ok & (pn_day >= 1) & (pn_day <= 31))
    nhs_at = np.flatnonzero((first == 3) | (first == 4) | (first == 6) | (first == 7))
    # most specific last: CPR over personnummer over NHS over a CPR date
    date, mod11 = _cpr(_digits(v[cpr_at])) if cpr_at.size else (np.zeros(0, bool),) * 2
    code[cpr_at[date]] = CPR_DATE
    if nhs_at.size:
        code[nhs_at[_nhs(_digits(v[nhs_at]))]] = NHS
    if pn_at.size:
        code[pn_at[_personnummer(_digits(v[pn_at]))]] = PERSONNUMMER
    code[cpr_at[date & mod11]] = CPR
    return code


def classify12(values: np.ndarray) -> np.ndarray:
    """PERSONNUMMER for valid 12-digit personnummer (``YYYYMMDDNNNC``), else NONE."""
    values = values.astype(np.int64)
    century = values // 10**10
    valid = np.isin(century, (18, 19, 20))
    valid &= _personnummer(_digits(values % 10**10), century * 100)
    return np.where(valid, PERSONNUMMER, NONE).astype(np.int8)


def _one(digits: str) -> int | None:
    return int(digits) if digits.isascii() and digits.isdigit() else None


def cpr_verdict(digits: str, hyphenated: bool) -> Verdict | None:
    """BLOCK for a valid CPR number, REVIEW for a hyphenated one without checksum, else None."""
    if len(digits) != 10 or (value := _one(digits)) is None:
        return None
    date, mod11 = _cpr(_digits(np.array([value])))
    if not date[0]:
        return None
    if mod11[0]:
        return Verdict.BLOCK
    return Verdict.REVIEW if hyphenated else None


def personnummer_verdict(digits: str) -> Verdict | None:
    """BLOCK for a valid personnummer or samordningsnummer (10 or 12 digits), else None."""
    value = _one(digits)
    if value is None or len(digits) not in (10, 12):
        return None
    if len(digits) == 12:
        valid = classify12(np.array([value]))[0] == PERSONNUMMER
    else:
        valid = _personnummer(_digits(np.array([value])))[0]
    return Verdict.BLOCK if valid else None


def nhs_verdict(digits: str) -> Verdict | None:
    """BLOCK for a valid NHS number in an issued range, else None."""
    if len(digits) != 10 or (value := _one(digits)) is None:
        return None
    return Verdict.BLOCK if _nhs(_digits(np.array([value])))[0] else None


# -- finding them in text -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Hit:
    start: int  # byte offsets in the scanned data
    end: int
    rule: str
    verdict: Verdict
    text: str  # as ASCII digits and separators
    #: a bare number written as a quantity would be (no leading zero, not inside a name)
    number_like: bool = False

    @property
    def masked(self) -> str:
        """The number with all but its first two digits hidden: reports must not leak it."""
        return "".join(c if i < 2 or not c.isdigit() else "*" for i, c in enumerate(self.text))

    def message(self, quantity_hint: bool = False) -> str:
        if self.verdict is Verdict.REVIEW:
            return (
                f"{self.masked} has the form of {_WHAT[self.rule]} with a real date of birth "
                "but no modulus-11 check digit (allowed for CPR numbers issued since 2007). If "
                "it identifies a person, remove it; otherwise explain what it is to the "
                "reviewers."
            )
        hint = (
            " If the column holds a quantity (a count, a position, a time), name it for what "
            "it holds (for example total_reads, pos or timestamp) and check again."
            if quantity_hint
            else ""
        )
        why = "valid check digit" if self.rule == RULE_NHS else "real date and valid check digit"
        return (
            f"{self.masked} is {_WHAT[self.rule]} ({why}). Personal identifiers must never "
            f"leave the node: remove the column or value.{hint}"
        )


def _classify_groups(parts: list[str], seps: list[str]) -> tuple[str, Verdict] | None:
    """The identifier formed by digit groups ``parts`` joined by ``seps``, if any."""
    digits = "".join(parts)
    lengths = [len(p) for p in parts]
    if lengths == [3, 3, 4]:
        v = nhs_verdict(digits)
        return (RULE_NHS, v) if v else None
    if lengths == [6, 4]:
        if seps == ["-"] and (v := cpr_verdict(digits, hyphenated=True)) is Verdict.BLOCK:
            return RULE_CPR, v
        if (v := personnummer_verdict(digits)) is not None:
            return RULE_PERSONNUMMER, v
        if seps == ["-"] and (v := cpr_verdict(digits, hyphenated=True)) is not None:
            return RULE_CPR, v
        return None
    if lengths == [8, 4]:
        v = personnummer_verdict(digits)
        return (RULE_PERSONNUMMER, v) if v else None
    return None


#: bytes that join digits into a word: letters, digits, non-ASCII letters (UTF-8 or Latin-1)
_WORD = np.zeros(256, dtype=bool)
for _c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789":
    _WORD[_c] = True
_WORD[128:] = True
#: bytes that glue a number into a name (``sample_0101901234``, ``x/0101901234/``)
_GLUE = np.zeros(256, dtype=bool)
for _c in b"_/.:":
    _GLUE[_c] = True

#: the words just before a number, as a key names it (``reads mapped: 2103642216``)
_KEY = re.compile(
    rb"((?:[A-Za-z][A-Za-z0-9_]*[ \t]){0,2}[A-Za-z][A-Za-z0-9_]*)[\"']?\s*[:=]?\s*[\"']?$"
)
_UNIT = re.compile(rb"[\"']?\s*([A-Za-z][A-Za-z0-9_]*)")
#: samtools flagstat's 'QC-passed + QC-failed' reads ('3415008770 + 0 in total')
_PASSED_FAILED = re.compile(rb"^ \+ [0-9]+ ")
_CHROMOSOME = re.compile(rb"(?:^|[^A-Za-z0-9])(?:chr)?(?:\d{1,2}|[XYM]|MT)$", re.I)


def _alnum(byte: int) -> bool:
    return bool(_WORD[byte]) and byte < 128


def _segment(data: bytes, s: int, e: int) -> tuple[bytes, bytes]:
    """Up to 48 bytes before and after ``data[s:e]``, within its line (or cell: NUL)."""
    before = data[max(0, s - 48) : s]
    cut = max(before.rfind(b"\n"), before.rfind(b"\x00"))
    after = data[e : e + 48]
    ends = [i for i in (after.find(b"\n"), after.find(b"\x00")) if i >= 0]
    return before[cut + 1 :], after[: min(ends)] if ends else after


def _bare_hit(data: bytes, s: int, e: int, code: int) -> Hit | None:
    """A validated bare number as an identifier, or None where its place says otherwise."""
    before, after = _segment(data, s, e)
    if before.endswith(b":") and _CHROMOSOME.search(before[:-1]):
        return None  # chr1:123456789, 1:123456789:A:G
    key = _KEY.search(before)
    unit = _UNIT.match(after)
    named = any(quantity_name(m.group(1).decode()) for m in (key, unit) if m)
    named = named or bool(_PASSED_FAILED.match(after))
    p = data[s - 1] if s > 0 else 32
    q = data[e] if e < len(data) else 32
    glued = (
        p in b"_/"
        or q in b"_/"
        or (p in b".:" and s > 1 and _alnum(data[s - 2]) and not (p == 58 and named))
        or (q in b".:" and e + 1 < len(data) and _alnum(data[e + 1]))
    )
    leading_zero = e - s == 10 and data[s] == 48
    text = data[s:e].decode()
    if code == CPR_DATE:
        if glued or leading_zero:
            return Hit(s, e, RULE_CPR, Verdict.REVIEW, text)
        return None
    if named and not glued:
        return None
    return Hit(s, e, _RULE_OF[code], Verdict.BLOCK, text, not glued and not leading_zero)


def find_identifiers(data: bytes) -> Iterator[Hit]:
    """Every CPR number, personnummer and NHS number in ``data``, in order (offsets into
    ``data``, also where full-width digits were read as ASCII)."""
    if len(data) < 9:
        return
    text, offsets, widths = fold_to_ascii(data)
    hits = sorted(_find(text), key=lambda h: h.start)
    for hit in hits:
        if offsets is not None:
            start = int(offsets[hit.start])
            end = int(offsets[hit.end - 1] + widths[hit.end - 1])
            hit = dataclasses.replace(hit, start=start, end=end)
        yield hit


def _find(data: bytes) -> Iterator[Hit]:
    arr = np.frombuffer(data, dtype=np.uint8)
    n = len(arr)
    digit = (arr - np.uint8(48)) < 10
    edges = np.diff(digit.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    if starts.size == 0:
        return
    lengths = ends - starts
    # not part of a word, a decimal fraction or a longer number (a comma is a CSV delimiter
    # far more often than a decimal mark, so only '.' counts)
    prev = np.where(starts > 0, arr[np.maximum(starts - 1, 0)], 32)
    prev2 = np.where(starts > 1, digit[np.maximum(starts - 2, 0)], False)
    nxt = np.where(ends < n, arr[np.minimum(ends, n - 1)], 32)
    nxt2 = np.where(ends + 1 < n, digit[np.minimum(ends + 1, n - 1)], False)
    free_before = ~_WORD[prev] & ~((prev == 46) & prev2)
    free_after = ~_WORD[nxt] & ~((nxt == 46) & nxt2)
    yield from _bare(data, arr, starts, lengths, free_before & free_after, prev, nxt)
    yield from _groups(data, starts, ends, lengths, free_before, free_after)


def _bare(data, arr, starts, lengths, free, prev, nxt) -> Iterator[Hit]:
    """Bare runs of 9, 10 or 12 digits, validated together; context only for valid ones."""
    glued = _GLUE[prev] | _GLUE[nxt]
    for width in (9, 10, 11, 12):
        at = np.flatnonzero(free & (lengths == width))
        if at.size == 0:
            continue
        s = starts[at]
        d = arr[s[:, None] + np.arange(width)].astype(np.int64) - 48
        values = d @ (10 ** np.arange(width - 1, -1, -1, dtype=np.int64))
        classified = {11: classify11, 12: classify12}.get(width, classify)
        code = classified(values)
        # a date without a check digit counts only inside a name or after a leading zero
        plain = ~glued[at] & ((width == 9) | (d[:, 0] != 0))
        code[(code == CPR_DATE) & plain] = NONE
        for i in np.flatnonzero(code != NONE).tolist():
            hit = _bare_hit(data, int(s[i]), int(s[i]) + width, int(code[i]))
            if hit is not None:
                yield hit


#: a word just before a number (``Patient 020190 1006``), and a number just after one
_WORD_BEFORE = re.compile(rb"[A-Za-z]{2,}[.:#]? $")
_NUMBER_AFTER = re.compile(rb"^[ \t]+[-+]?[0-9]")


def _in_prose(data: bytes, s: int, e: int) -> bool:
    """Whether six and four digits a space apart (``020190 1006``) follow a word and no
    number follows them: a CPR number written with a space in a sentence, not two columns of
    an aligned table of numbers."""
    before, after = _segment(data, s, e)
    return bool(_WORD_BEFORE.search(before)) and not _NUMBER_AFTER.match(after)


def _groups(data, starts, ends, lengths, free_before, free_after) -> Iterator[Hit]:
    """Numbers written in groups: 6 or 8 digits, '-' or '+', 4 digits; 3, 3 and 4 digits."""
    gap1 = (starts[1:] - ends[:-1]) == 1
    pair = np.zeros(len(starts), dtype=bool)
    triple = np.zeros(len(starts), dtype=bool)
    pair[:-1] = ((lengths[:-1] == 6) | (lengths[:-1] == 8)) & (lengths[1:] == 4) & gap1
    triple[:-2] = (
        (lengths[:-2] == 3) & (lengths[1:-1] == 3) & (lengths[2:] == 4) & gap1[:-1] & gap1[1:]
    )
    six = np.zeros(len(starts), dtype=bool)  # six digits, one character, then 3 to 5 digits
    six[:-1] = (lengths[:-1] == 6) & (lengths[1:] >= 3) & (lengths[1:] <= 5) & gap1
    yield from _nordic(data, starts, ends, lengths, free_before, np.flatnonzero(six & ~pair))
    for i in np.flatnonzero(pair | triple).tolist():
        groups = [i, i + 1] if pair[i] else [i, i + 1, i + 2]
        if not (free_before[i] and free_after[groups[-1]]):
            continue
        seps = [chr(data[int(ends[g])]) for g in groups[:-1]]
        hetu = pair[i] and lengths[i] == 6 and seps[0] in _HETU_CENTURY
        code = data[starts[i] : ends[groups[-1]]].decode("latin-1")
        if hetu and seps[0] not in "-+" and hetu_verdict(code) is not None:
            # 'DDMMYYANNNC': a Finnish code of this century with a digit to check it
            yield Hit(int(starts[i]), int(ends[i + 1]), RULE_HETU, Verdict.BLOCK, code)
            continue
        if pair[i] and seps[0] == " " and _in_prose(data, int(starts[i]), int(ends[i + 1])):
            digits = data[starts[i] : ends[i + 1]].replace(b" ", b"").decode()
            if cpr_verdict(digits, hyphenated=False) is Verdict.BLOCK:
                yield Hit(int(starts[i]), int(ends[i + 1]), RULE_CPR, Verdict.BLOCK,
                          data[starts[i] : ends[i + 1]].decode())  # fmt: skip
            continue
        if pair[i] and seps[0] not in "-+":
            continue
        if triple[i] and (seps[0] not in " -" or seps[0] != seps[1]):
            continue
        s, e = int(starts[i]), int(ends[groups[-1]])
        found = _classify_groups([data[starts[g] : ends[g]].decode() for g in groups], seps)
        if found:
            yield Hit(s, e, found[0], found[1], data[s:e].decode())
        elif hetu and hetu_verdict(code) is not None:  # 'DDMMYY-NNNC'
            yield Hit(s, e, RULE_HETU, Verdict.BLOCK, code)


def _nordic(data, starts, ends, lengths, free_before, at) -> Iterator[Hit]:
    """Six digits, a separator and more digits that are not a CPR number's or personnummer's
    four: a Finnish code (``131052-308T``: three digits and a check letter, the separator
    saying the century) or a Norwegian fødselsnummer written apart (``010190 12345``)."""
    for i in at.tolist():
        if not free_before[i]:
            continue
        s, sep, n = int(starts[i]), chr(data[int(ends[i])]), int(lengths[i + 1])
        e = int(ends[i + 1])
        after = data[e + 1] if e + 1 < len(data) else 32
        if n == 3 and sep in _HETU_CENTURY and e < len(data) and not _alnum(after):
            code = data[s : e + 1].decode("latin-1")
            if hetu_verdict(code) is not None:
                yield Hit(s, e + 1, RULE_HETU, Verdict.BLOCK, code)
        elif n == 5 and sep in " -" and not _alnum(data[e] if e < len(data) else 32):
            digits = data[s:e].replace(sep.encode(), b"")
            if classify11(np.array([int(digits)]))[0] == FODSELSNUMMER:
                yield Hit(s, e, RULE_FODSELSNUMMER, Verdict.BLOCK, data[s:e].decode())


# -- in tables ----------------------------------------------------------------------------------


#: ASCII bytes that are not letters or digits (the RE2 class of what ends a word)
_NON_WORD = r"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]"
#: what a text cell holds when :func:`find_identifiers` can find anything in it: a run of 9,
#: 10 or 12 digits not joined to a word, digits in groups (``010190-1234``, ``943 476 5919``)
#: or anything folded to ASCII first (full-width forms, zero-width characters: folding.py)
_CANDIDATE = (
    rf"(?:^|{_NON_WORD})[0-9]{{9}}(?:[0-9]{{1,3}})?(?:{_NON_WORD}|$)"
    r"|[0-9]{6}(?:[0-9]{2})?[-+ ][0-9]{4}|[0-9]{3}[ -][0-9]{3}[ -][0-9]{4}"
    r"|[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]|[0-9]{6}[ -][0-9]{5}"
    f"|{FOLDABLE_CLASS}"
)
#: a variant ID (``1:123456789:A:G``, ``chr1:123456789``): its only long number follows a
#: chromosome, where :func:`find_identifiers` never reads an identifier
_VARIANT_ID = r"^(?:[Cc][Hh][Rr])?(?:[0-9]{1,2}|[XYMxym]|[Mm][Tt]):[0-9]+[^0-9\x{80}-\x{10FFFF}]*$"


def candidate_cells(texts: pa.Array) -> np.ndarray:
    """Positions of the cells of a string array in which :func:`find_identifiers` may find
    something, so that Python reads only those: cells with at least nine digits (counted with
    NumPy), then not variant IDs and holding a candidate (RE2, on those cells only)."""
    if texts.null_count == len(texts):
        return np.empty(0, dtype=np.int64)
    at = np.flatnonzero(_digit_counts(texts) >= _MIN_DIGITS)
    for pattern, keep in ((_VARIANT_ID, False), (_CANDIDATE, True)):
        if at.size == 0:
            break
        found = pc.match_substring_regex(texts.take(pa.array(at)), pattern)
        at = at[found.to_numpy(zero_copy_only=False) == keep]
    return at


#: the fewest digits of any identifier (an integer-stored CPR number)
_MIN_DIGITS = 9


def _digit_counts(texts: pa.Array) -> np.ndarray:
    """Per cell, its ASCII digits plus its bytes 0xEF (which start the full-width digits '０'
    to '９'), counted over the array's buffers at NumPy speed; 0 for a missing cell."""
    wide = pa.types.is_large_string(texts.type)
    _, offsets, data = texts.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64 if wide else np.int32)
    offsets = offsets[texts.offset : texts.offset + len(texts) + 1]
    if data is None or not np.any(offsets[1:] - offsets[:-1] >= _MIN_DIGITS):
        return np.zeros(len(texts), dtype=np.int64)  # short labels (alleles, A, ADD): no bytes read
    raw = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]
    digit = (raw - np.uint8(48)) < np.uint8(10)
    digit |= raw == 0xEF
    seen = np.zeros(len(raw) + 1, dtype=np.int32 if len(raw) < 2**31 else np.int64)
    np.cumsum(digit, out=seen[1:])
    return seen[offsets[1:] - offsets[0]] - seen[offsets[:-1] - offsets[0]]


#: 9- to 12-digit numbers in a column chunk enough to tell identifiers (most have a valid
#: check digit) from quantities (2-5% by chance); below it, every valid one counts
_CHANCE_SAMPLE = 20


class IdentifierRule:
    """Identifiers in a table's column names, text cells and numeric columns, located by row
    and column. A numeric column whose 9- to 12-digit numbers mostly have a valid check digit
    and date is a column of identifiers, whatever its name (and its CPR dates without a check
    digit need a look too). Otherwise its numbers are quantities when its name
    says so (or the table has one row per variant) or when there are enough of them to see
    that only chance makes some valid; in a few unnamed numbers every valid one counts."""

    def __init__(self, ctx: TableContext) -> None:
        self.ctx = ctx
        rec = ctx.recognition
        self.quantity = [
            quantity_name(n) or (rec is not None and rec.numeric_field(i)) or _labelled(ctx, i)
            for i, n in enumerate(ctx.names)
        ]
        self.identifying = [bool(set(tokens(n)) & ID_WORDS) for n in ctx.names]
        for i, name in enumerate(ctx.names):
            for hit in find_identifiers(name.encode("utf-8", "replace")):
                if hit.number_like and i > 0 and quantity_name(ctx.names[i - 1]):
                    continue  # a log's first line read as the header: 'reads mapped: 2103642216'
                ctx.sink.add(
                    hit.rule, hit.verdict, hit.message(), Location(0, hit.masked, hit.masked)
                )

    def _add(self, hit: Hit, row: int, column: str, *, hint: bool = False) -> None:
        sink = self.ctx.sink
        if sink.room(hit.rule) <= 0:
            sink.more(hit.rule, hit.verdict, 1)
            return
        sink.add(hit.rule, hit.verdict, hit.message(hint), Location(row, column, hit.masked))

    def feed(self, chunk: Chunk) -> None:
        for col in range(chunk.width):
            texts = chunk.texts(col)
            if texts is not None:
                self._text_cells(chunk, col, texts)
            elif chunk.is_numeric(col):
                self._numbers(chunk, col, chunk.numbers(col))

    def _text_cells(self, chunk: Chunk, col: int, texts: pa.Array) -> None:
        # only cells where an identifier can be are read in Python
        present = candidate_cells(texts)
        if present.size == 0:
            return
        cells = texts.take(pa.array(present)).to_pylist()
        joined = "\x00".join(cells).encode("utf-8", "replace")
        separators = None
        for hit in find_identifiers(joined):
            if hit.number_like and self.quantity[col]:
                continue  # a number in a column named for a quantity
            if separators is None:
                separators = np.flatnonzero(np.frombuffer(joined, dtype=np.uint8) == 0)
            i = present[np.searchsorted(separators, hit.start)]
            self._add(hit, chunk.first_row + int(i), self.ctx.names[col])

    def _numbers(self, chunk: Chunk, col: int, values: np.ndarray) -> None:
        if len(values) == 0 or np.fmax.reduce(values) < 1e8:  # one pass: all too small
            return
        with np.errstate(invalid="ignore"):
            whole = values == np.floor(values)
            ten = np.flatnonzero(whole & (values >= 1e8) & (values < 1e10))
            eleven = np.flatnonzero(whole & (values >= 1e10) & (values < 1e11))
            twelve = np.flatnonzero(whole & (values >= 1e11) & (values < 1e12))
        if ten.size == 0 and eleven.size == 0 and twelve.size == 0:
            return
        at = np.concatenate([ten, eleven, twelve])
        short = classify(values[ten])
        # a fødselsnummer stored as an integer loses its leading zero (days 01 to 09)
        short = np.where(short == NONE, classify11(values[ten]), short).astype(np.int8)
        code = np.concatenate([short, classify11(values[eleven]), classify12(values[twelve])])
        valid = np.count_nonzero((code != NONE) & (code != CPR_DATE))
        quantity = (self.quantity[col] or self.ctx.per_variant) and not self.identifying[col]
        column_of_ids = 2 * valid >= at.size and valid >= (3 if quantity else 1)
        if column_of_ids:
            report = code != NONE  # most of them are identifiers: a column of them
        elif quantity or at.size >= _CHANCE_SAMPLE:
            return  # named as quantities, or as many valid ones as chance gives quantities
        else:
            report = (code != NONE) & (code != CPR_DATE)
        name = self.ctx.names[col]
        for i in np.flatnonzero(report).tolist():
            text = str(int(values[at[i]]))
            verdict = Verdict.REVIEW if code[i] == CPR_DATE else Verdict.BLOCK
            hit = Hit(0, len(text), _RULE_OF[int(code[i])], verdict, text)
            self._add(hit, chunk.first_row + int(at[i]), name, hint=not column_of_ids)

    def finish(self, rows: int) -> None:
        pass


def _labelled(ctx: TableContext, col: int) -> bool:
    """A column after one whose cells all name quantities: lines of a log read as a table,
    ``variant 7 at position 123456789``, samtools stats' ``SN  reads mapped:  2103642216``."""
    if col == 0 or col - 1 >= ctx.first.width:
        return False
    texts = ctx.first.texts(col - 1)
    if texts is None:
        return False
    values = set(texts.drop_null().to_pylist())
    return bool(values) and all(quantity_name(v) for v in values)


def table_rules(ctx: TableContext) -> Iterator[object]:
    yield IdentifierRule(ctx)
