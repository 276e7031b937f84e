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
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)


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


def check_file(
    path: Path,
    config=None,
    *,
    display_path: str | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> FileReport:
    """Check one file (never following a symlink) against the node's rules.

    ``config`` is an ``airlock.checks.config.CheckConfig`` (defaults when None); the sample IDs
    of the node's datasets travel in it (``config.with_sample_ids(ids)``). Malformed input
    gives a BLOCK finding with a readable reason, never an exception. ``on_bytes(n)`` is called
    as the file is read, for progress bars.
    """
    from airlock.checks.config import CheckConfig
    from airlock.checks.dispatch import check_open_file
    from airlock.checks.findings import FindingSink
    from airlock.checks.reading import NotUtf8, Unreadable, open_no_follow

    config = config if config is not None else CheckConfig()
    shown = display_path if display_path is not None else str(path)
    try:
        f, info = open_no_follow(path)
    except Unreadable as e:
        link = "symbolic link" in e.reason
        message = f"This file is not checked: {e.reason}." + (
            " Add the file itself, not a link." if link else ""
        )
        return FileReport(
            shown, (Finding("symlink" if link else "unreadable", Verdict.BLOCK, message),)
        )
    encoding = None
    with f:
        while True:
            sink = FindingSink(config.max_findings_per_rule)
            try:
                check_open_file(
                    f,
                    info.st_size,
                    config,
                    sink,
                    encoding=encoding,
                    name=Path(path).name,
                    on_bytes=on_bytes,
                )
            except NotUtf8:
                # UTF-8 at the start, other bytes later: read it all again as Latin-1 (which
                # decodes any byte, so this happens once)
                encoding = "latin-1"
                f.seek(0)
                continue
            except Unreadable as e:
                row = e.row if e.row is not None else e.line
                sink.add(
                    "malformed",
                    Verdict.BLOCK,
                    f"This file cannot be checked: {e.reason}.",
                    Location(row=row) if row is not None else None,
                )
            except Exception as e:  # deny by default: whatever stops a check blocks the file
                _log.warning("check of %s stopped: %s", shown, e, exc_info=True)
                sink.add(
                    "malformed",
                    Verdict.BLOCK,
                    f"This file cannot be checked ({type(e).__name__}: {e}); a file the checks "
                    "cannot read cannot leave the node. Save it again in a plain format.",
                )
            return FileReport(shown, sink.findings())


def check_paths(paths, config=None, *, on_bytes=None) -> Iterator[FileReport]:
    """Reports for files and, file by file, for directories under ``paths``; symlinks are
    block reports, never followed (see :mod:`airlock.checks.walk`)."""
    from airlock.checks.walk import check_paths as walk

    return walk(paths, config, on_bytes=on_bytes)


def overall_verdict(reports) -> Verdict:
    """The verdict of a set of files: the worst file's."""
    return Verdict.worst(r.verdict for r in reports)
