"""Personal identifiers: Danish CPR numbers, Swedish personnummer and NHS numbers.

Each candidate must have a real date of birth (CPR, personnummer) and a valid check digit, so
ordinary numbers such as counts, positions or timestamps do not trip the rule:

- CPR ``DDMMYY-SSSS``: the 7th digit and the year give the century; modulus 11 with weights
  4,3,2,7,6,5,4,3,2,1. Numbers issued since 2007 may lack the checksum, so a hyphenated number
  with a real date but no checksum needs a reviewer's look instead of a block.
- personnummer ``YYMMDD-NNNC``, ``YYMMDD+NNNC`` (aged 100+), ``YYYYMMDDNNNC``: Luhn over the
  ten digits; samordningsnummer add 60 to the day.
- NHS number ``NNN NNN NNNN``: modulus 11 with weights 10..2; issued numbers start with 3-9
  (0-2 are CHI-style dates, and Unix timestamps start with 1).

Digits are found with NumPy over the raw bytes, so a 1 GB file is scanned at memory speed; only
the rare candidates are validated in Python.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
from collections.abc import Iterator

import numpy as np

from airlock.checks.cells import Chunk, TableContext, numbers
from airlock.checks.findings import Location, Verdict

RULE_CPR = "personal-id.cpr"
RULE_PERSONNUMMER = "personal-id.personnummer"
RULE_NHS = "personal-id.nhs"

_WHAT = {
    RULE_CPR: "a Danish CPR number",
    RULE_PERSONNUMMER: "a Swedish personnummer",
    RULE_NHS: "an NHS number",
}


@dataclasses.dataclass(frozen=True)
class Hit:
    start: int  # byte offsets in the scanned data
    end: int
    rule: str
    verdict: Verdict
    text: str

    @property
    def masked(self) -> str:
        """The number with all but its first two digits hidden: reports must not leak it."""
        return "".join(c if i < 2 or not c.isdigit() else "*" for i, c in enumerate(self.text))

    def message(self) -> str:
        if self.verdict is Verdict.REVIEW:
            return (
                f"{self.masked} has the form of {_WHAT[self.rule]} with a real date of birth "
                "but no checksum (allowed for CPR numbers issued since 2007). If it identifies "
                "a person, remove it; otherwise explain what it is to the reviewers."
            )
        return (
            f"{self.masked} is {_WHAT[self.rule]} (real date and valid check digit). Personal "
            "identifiers must never leave the node: remove the column or value."
        )


def _date_ok(year: int, month: int, day: int) -> bool:
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def _cpr_century(yy: int, seventh: int) -> int:
    if seventh <= 3:
        return 1900
    if seventh in (4, 9):
        return 2000 if yy <= 36 else 1900
    return 2000 if yy <= 57 else 1800


def cpr_verdict(digits: str, hyphenated: bool) -> Verdict | None:
    """BLOCK for a valid CPR number, REVIEW for a hyphenated one without checksum, else None."""
    if len(digits) != 10:
        return None
    dd, mm, yy = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    if not _date_ok(_cpr_century(yy, int(digits[6])) + yy, mm, dd):
        return None
    weights = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
    if sum(int(c) * w for c, w in zip(digits, weights, strict=True)) % 11 == 0:
        return Verdict.BLOCK
    return Verdict.REVIEW if hyphenated else None


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(digits):
        d = int(c) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def personnummer_verdict(digits: str) -> Verdict | None:
    """BLOCK for a valid personnummer or samordningsnummer (10 or 12 digits), else None."""
    if len(digits) == 12:
        if digits[:2] not in ("18", "19", "20"):
            return None
        years = [int(digits[:4])]
        digits = digits[2:]
    elif len(digits) == 10:
        yy = int(digits[:2])
        years = [1900 + yy, 2000 + yy]
    else:
        return None
    month, day = int(digits[2:4]), int(digits[4:6])
    if day > 60:
        day -= 60  # samordningsnummer
    if not any(_date_ok(y, month, day) for y in years):
        return None
    return Verdict.BLOCK if _luhn_ok(digits) else None


def nhs_verdict(digits: str) -> Verdict | None:
    """BLOCK for a valid NHS number, else None."""
    if len(digits) != 10 or digits[0] in "012" or len(set(digits)) == 1:
        return None
    total = sum(int(c) * w for c, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return Verdict.BLOCK if check != 10 and check == int(digits[9]) else None


def _classify(parts: list[str], seps: list[str]) -> tuple[str, Verdict] | None:
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
    if lengths == [10]:
        for rule, verdict in (
            (RULE_CPR, cpr_verdict(digits, hyphenated=False)),
            (RULE_PERSONNUMMER, personnummer_verdict(digits)),
            (RULE_NHS, nhs_verdict(digits)),
        ):
            if verdict is not None:
                return rule, verdict
        return None
    if lengths == [12]:
        v = personnummer_verdict(digits)
        return (RULE_PERSONNUMMER, v) if v else None
    return None


_WORD = np.zeros(256, dtype=bool)
for _c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_":
    _WORD[_c] = True
_WORD[128:] = True  # non-ASCII letters in UTF-8 or Latin-1


def find_identifiers(data: bytes) -> Iterator[Hit]:
    """Every CPR number, personnummer and NHS number in ``data``, in order."""
    if len(data) < 10:
        return
    arr = np.frombuffer(data, dtype=np.uint8)
    digit = (arr - np.uint8(48)) < 10
    edges = np.diff(digit.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    if starts.size == 0:
        return
    lengths = ends - starts
    # 10 or 12 digits; 6 or 8 digits, a separator, 4 digits; 3, 3 and 4 digits separated
    gap1 = (starts[1:] - ends[:-1]) == 1
    candidates = (lengths == 10) | (lengths == 12)
    candidates[:-1] |= ((lengths[:-1] == 6) | (lengths[:-1] == 8)) & (lengths[1:] == 4) & gap1
    candidates[:-2] |= (
        (lengths[:-2] == 3) & (lengths[1:-1] == 3) & (lengths[2:] == 4) & gap1[:-1] & gap1[1:]
    )
    n = len(data)
    for i in np.flatnonzero(candidates).tolist():
        length = int(lengths[i])
        groups = [i] if length >= 10 else [i, i + 1] if length in (6, 8) else [i, i + 1, i + 2]
        s, e = int(starts[groups[0]]), int(ends[groups[-1]])
        seps = [chr(data[int(ends[g])]) for g in groups[:-1]]
        if length in (6, 8) and seps[0] not in "-+":
            continue
        if length == 3 and (seps[0] not in " -" or seps[0] != seps[1]):
            continue
        # not part of a word, a decimal fraction or a longer number
        # (a comma is a CSV delimiter far more often than a decimal mark, so only '.' counts)
        if s > 0 and (_WORD[data[s - 1]] or (data[s - 1] == 46 and s > 1 and digit[s - 2])):
            continue
        if e < n and (_WORD[data[e]] or (data[e] == 46 and e + 1 < n and digit[e + 1])):
            continue
        found = _classify([data[starts[g] : ends[g]].decode() for g in groups], seps)
        if found:
            yield Hit(s, e, found[0], found[1], data[s:e].decode())


# -- in tables ----------------------------------------------------------------------------------


class IdentifierRule:
    """Identifiers in a table's cells and column names, located by row and column."""

    def __init__(self, ctx: TableContext) -> None:
        self.ctx = ctx
        self.sep = ctx.delimiter.encode(ctx.encoding) if ctx.delimiter else None
        for name in ctx.names:
            for hit in find_identifiers(name.encode("utf-8", "replace")):
                ctx.sink.add(
                    hit.rule, hit.verdict, hit.message(), Location(0, hit.masked, hit.masked)
                )

    def _add(self, hit: Hit, row: int | None, column: str | None) -> None:
        sink = self.ctx.sink
        if sink.room(hit.rule) <= 0:
            sink.more(hit.rule, hit.verdict, 1)
            return
        sink.add(hit.rule, hit.verdict, hit.message(), Location(row, column, hit.masked))

    def feed(self, chunk: Chunk) -> None:
        if chunk.raw is not None:
            for hit in find_identifiers(chunk.raw):
                row, col = (
                    self._locate(chunk.raw, hit) if self.ctx.sink.room(hit.rule) > 0 else (0, None)
                )
                name = (
                    self.ctx.names[col] if col is not None and col < len(self.ctx.names) else None
                )
                self._add(hit, chunk.first_row + row, name)
            return
        for col in range(chunk.frame.shape[1]):
            series = chunk.frame[col]
            if series.dtype == object:
                present = np.flatnonzero(series.map(lambda v: isinstance(v, str)).to_numpy())
                if present.size == 0:
                    continue
                joined = "\x00".join(series.iloc[present]).encode("utf-8", "replace")
                for hit in find_identifiers(joined):
                    i = present[joined.count(b"\x00", 0, hit.start)]
                    self._add(hit, chunk.first_row + int(i), self.ctx.names[col])
            elif series.dtype.kind in "iuf":
                values = numbers(series)
                with np.errstate(invalid="ignore"):
                    wide = ((values >= 1e9) & (values < 1e10)) | (
                        (values >= 1e11) & (values < 1e12)
                    )
                for i in np.flatnonzero(wide & (values == np.floor(values))):
                    for hit in find_identifiers(str(int(values[i])).encode()):
                        self._add(hit, chunk.first_row + int(i), self.ctx.names[col])

    def _locate(self, raw: bytes, hit: Hit) -> tuple[int, int | None]:
        """(0-based data row within the chunk, column position) of a hit in delimited text."""
        line_start = raw.rfind(b"\n", 0, hit.start) + 1
        if raw.find(b'"', 0, hit.start) < 0:
            blank = raw.count(b"\n\n", 0, line_start) + raw.count(b"\n\r\n", 0, line_start)
            row = raw.count(b"\n", 0, line_start) - blank
            before = raw[line_start : hit.start]
            if self.sep is None:
                fields = before.split()
                col = len(fields) - (0 if not before or before[-1:].isspace() else 1)
            else:
                col = before.count(self.sep)
            return row, col
        line_end = raw.find(b"\n", hit.start)
        text = raw[: len(raw) if line_end < 0 else line_end].decode(self.ctx.encoding, "replace")
        records = list(csv.reader(io.StringIO(text), delimiter=self.ctx.delimiter or " "))
        records = [r for r in records if r]
        last = records[-1] if records else []
        col = next((j for j, field in enumerate(last) if hit.text in field), None)
        return len(records) - 1, col

    def finish(self, rows: int) -> None:
        pass


def table_rules(ctx: TableContext) -> Iterator[object]:
    yield IdentifierRule(ctx)
