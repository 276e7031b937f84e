"""What the checks find: verdicts, findings, a file's report; and collecting findings with
bounded memory (the first few per rule are kept, the rest counted).

Verdicts are ordered: ``pass`` < ``review`` < ``block``; a file's verdict is its worst finding's
(``pass`` when there are none), a set of files' verdict is the worst file's. A 1 GB table can
have millions of small cells; a reviewer needs the first ones and the total, and the checker
must not grow a list with the file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airlock.checks.released import TableRecord


class Verdict(enum.Enum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    REVIEW = "review"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def worst(cls, verdicts) -> Verdict:
        """The most severe of ``verdicts``; PASS for none."""
        return max(verdicts, key=lambda v: v.rank, default=cls.PASS)


_RANK = {Verdict.PASS: 0, Verdict.REVIEW: 1, Verdict.BLOCK: 2}

#: bytes a reader or viewer skips (after a PNG's end, between a Parquet file's column chunks,
#: in a notebook output of bytes): found by several parts of the checks, one rule
RULE_HIDDEN = "hidden-content"


@dataclasses.dataclass(frozen=True)
class Location:
    """Where a finding applies. ``row`` is 1-based over data rows (the header is row 0);
    ``column`` is the column name (or 1-based index as a string when there is no header)."""

    row: int | None = None
    column: str | None = None
    value: str | None = None


@dataclasses.dataclass(frozen=True)
class Finding:
    rule: str  # stable id, e.g. "min-cell-count", "file-type", "personal-id.cpr"
    verdict: Verdict
    message: str  # what is wrong and how to fix it, for a researcher
    location: Location | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "verdict": self.verdict.value,
            "message": self.message,
            "location": dataclasses.asdict(self.location) if self.location else None,
        }


@dataclasses.dataclass(frozen=True)
class FileReport:
    path: str
    findings: tuple[Finding, ...] = ()
    #: the file's tables with counts of people, for the release ledger (not part of the
    #: verdict, nor of ``to_dict``)
    tables: tuple[TableRecord, ...] = ()
    #: findings for the reviewers only (not part of the verdict, nor of ``to_dict``)
    reviewer_findings: tuple[Finding, ...] = ()

    @property
    def verdict(self) -> Verdict:
        return Verdict.worst(f.verdict for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "verdict": self.verdict.value,
            "findings": [f.to_dict() for f in self.findings],
        }


def overall_verdict(reports: Iterable[FileReport]) -> Verdict:
    """The verdict of a set of files: the worst file's."""
    return Verdict.worst(r.verdict for r in reports)


#: tables of one file kept for the release ledger
MAX_TABLES = 20
#: rules whose findings only reviewers see (airlock.checks.content, no oracle)
REVIEWER_ONLY = frozenset({"individual-level.sample-id.not-granted"})


@dataclasses.dataclass(frozen=True)
class Part:
    """A part of a file (the file, or one table inside it) and what it was recognised as."""

    what: str  # "the table", "the table at lines 3-9", "cell 2 output 1 table 1"
    kind: str | None  # the kind's name; None when not recognised
    reason: str = ""  # why not (for the finding)
    summary_statistics: bool = False


@dataclasses.dataclass
class _Overflow:
    verdict: Verdict
    count: int = 0


#: rules whose findings are listed first: the file is about people one by one
_FIRST_RULES = ("individual-level", "personal-id")


class FindingSink:
    """Findings of one file. ``add`` keeps the first ``cap`` findings of each rule; beyond that
    it counts them, and ``findings()`` ends with one summary finding per overflowing rule."""

    def __init__(self, cap: int = 20, *, where: str = "") -> None:
        self.cap = cap
        self._tables: list[TableRecord] = []
        #: findings for the reviewers only (sample IDs of datasets the project is not
        #: granted): never in ``findings()``, ``has`` or ``worst``
        self._reviewers: FindingSink | None = None
        self._for_reviewers = False
        #: prefixed to every location column, e.g. "cell 3 output 1" in a notebook
        self.where = where
        self._kept: list[Finding] = []
        self._per_rule: dict[str, int] = {}
        self._overflow: dict[str, _Overflow] = {}
        #: what each part of the file was recognised as (default deny: see airlock.checks.kinds)
        self.parts: list[Part] = []
        #: tables found inside the file's text so far (airlock.checks.text.MAX_TEXT_TABLES)
        self.text_tables = 0

    def recognised(self, what: str, kind: str, *, summary_statistics: bool = False) -> None:
        self.parts.append(Part(self._where(what), kind, summary_statistics=summary_statistics))

    def unrecognised(self, what: str, reason: str) -> None:
        self.parts.append(Part(self._where(what), None, reason))

    def _where(self, what: str) -> str:
        return f"{self.where}: {what}" if self.where else what

    @contextlib.contextmanager
    def at(self, where: str) -> Iterator[None]:
        """Findings and parts added inside the block are located at ``where`` (a notebook
        cell's output, a workbook's sheet); the location before is restored after."""
        before, self.where = self.where, where
        try:
            yield
        finally:
            self.where = before

    def reviewers(self) -> FindingSink:
        """The sink of reviewer-only findings."""
        if self._reviewers is None:
            self._reviewers = FindingSink(self.cap, where=self.where)
            self._reviewers._for_reviewers = True
        self._reviewers.where = self.where
        return self._reviewers

    def room(self, rule: str) -> int:
        """How many more findings of ``rule`` would be listed."""
        if rule in REVIEWER_ONLY and not self._for_reviewers:
            return self.reviewers().room(rule)
        return self.cap - self._per_rule.get(rule, 0)

    def add(
        self,
        rule: str,
        verdict: Verdict,
        message: str,
        location: Location | None = None,
    ) -> None:
        if rule in REVIEWER_ONLY and not self._for_reviewers:
            self.reviewers().add(rule, verdict, message, location)
            return
        if self.where and location is not None:
            column = f"{self.where}: {location.column}" if location.column else self.where
            location = dataclasses.replace(location, column=column)
        elif self.where and location is None:
            location = Location(column=self.where)
        if self.room(rule) > 0:
            self._per_rule[rule] = self._per_rule.get(rule, 0) + 1
            self._kept.append(Finding(rule, verdict, message, location))
        else:
            self.more(rule, verdict, 1)

    def more(self, rule: str, verdict: Verdict, count: int) -> None:
        """Count ``count`` further findings of ``rule`` without listing them."""
        if count <= 0:
            return
        if rule in REVIEWER_ONLY and not self._for_reviewers:
            self.reviewers()._more(rule, verdict, count)
            return
        self._more(rule, verdict, count)

    def _more(self, rule: str, verdict: Verdict, count: int) -> None:
        over = self._overflow.setdefault(rule, _Overflow(verdict))
        over.count += count
        if verdict.rank > over.verdict.rank:
            over.verdict = verdict

    def extend(self, findings: Iterable[Finding]) -> None:
        for f in findings:
            self.add(f.rule, f.verdict, f.message, f.location)

    def merge(self, other: FindingSink) -> None:
        """Add what ``other`` found (its listed findings, then its counts of the rest)."""
        self.extend(other._kept)
        for rule, over in other._overflow.items():
            self.more(rule, over.verdict, over.count)
        self.parts.extend(other.parts)
        for record in other._tables:
            self.add_table(record)
        if other._reviewers is not None:
            mine = self.reviewers()
            mine._kept.extend(other._reviewers._kept)
            for rule, over in other._reviewers._overflow.items():
                mine._more(rule, over.verdict, over.count)

    def reviewer_findings(self) -> tuple[Finding, ...]:
        return self._reviewers.findings() if self._reviewers is not None else ()

    def add_table(self, record: TableRecord) -> None:
        """Keep a table's record for the release ledger (the first :data:`MAX_TABLES`)."""
        if len(self._tables) < MAX_TABLES:
            self._tables.append(record)

    def tables(self) -> tuple[TableRecord, ...]:
        return tuple(self._tables)

    def has(self, rule: str) -> bool:
        return rule in self._per_rule or rule in self._overflow

    def worst(self) -> Verdict:
        """The worst verdict found so far."""
        return Verdict.worst(
            [f.verdict for f in self._kept] + [o.verdict for o in self._overflow.values()]
        )

    def findings(self) -> tuple[Finding, ...]:
        summaries = [
            Finding(
                rule,
                over.verdict,
                f"{over.count:,} more finding{'s' if over.count != 1 else ''} of this rule in "
                f"the file; only the first {self.cap} are listed. Fix those and check again.",
            )
            for rule, over in self._overflow.items()
        ]
        # what makes a file individual-level first: a genotype matrix's 0/1/2 are also read as
        # small counts, and a researcher should read why the file cannot leave, not those
        kept = sorted(self._kept, key=lambda f: not f.rule.startswith(_FIRST_RULES))
        return (*kept, *summaries)
