"""Disclosure checks: pure functions from an output file to a verdict with findings.

No web, no database: the airlock service (submission), the ``tresor airlock check`` CLI and the
researcher's notebook all call :func:`check_file`. This module is the contract between them;
the rules live in sibling modules.

Verdicts are ordered: ``pass`` < ``review`` < ``block``; a file's verdict is its worst finding's
(``pass`` when there are none), a set of files' verdict is the worst file's.
"""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path
from typing import Any


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

    @property
    def verdict(self) -> Verdict:
        return Verdict.worst(f.verdict for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "verdict": self.verdict.value,
            "findings": [f.to_dict() for f in self.findings],
        }


def check_file(path: Path, config=None, *, display_path: str | None = None) -> FileReport:
    """Check one file (never following a symlink) against the node's rules.

    ``config`` is an ``airlock.checks.config.CheckConfig`` (defaults when None). Malformed input
    gives a BLOCK finding with a readable reason, never an exception.
    """
    raise NotImplementedError("the disclosure rules are being built (airlock checks issue)")
