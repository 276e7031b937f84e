"""Checking one file: opened without following a link, then every rule that fits its content.

Malformed input gives a BLOCK finding with a readable reason, never an exception: whatever stops
a check blocks the file (deny by default).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from airlock.checks.context import CheckContext
from airlock.checks.dispatch import check_open_file
from airlock.checks.findings import FileReport, Finding, FindingSink, Location, Verdict
from airlock.checks.reading import NotUtf8, Unreadable, open_no_follow
from airlock.checks.size import check_size

_log = logging.getLogger(__name__)


def check_file(
    path: Path,
    context: CheckContext | None = None,
    *,
    display_path: str | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> FileReport:
    """Check one file (never following a symlink) against the node's rules.

    ``context`` holds the thresholds and the node's sample IDs (the brief's thresholds and no
    sample IDs when None). ``on_bytes(n)`` is called as the file is read, for progress bars.
    """
    context = context if context is not None else CheckContext()
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
            sink = FindingSink(context.config.max_findings_per_rule)
            try:
                check_open_file(
                    f,
                    info.st_size,
                    context,
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
                check_size(info.st_size, context.config, sink)
            except Exception as e:  # deny by default: whatever stops a check blocks the file
                _log.warning("check of %s stopped: %s", shown, e, exc_info=True)
                sink.add(
                    "malformed",
                    Verdict.BLOCK,
                    f"This file cannot be checked ({type(e).__name__}: {e}); a file the checks "
                    "cannot read cannot leave the node. Save it again in a plain format.",
                )
            return FileReport(shown, sink.findings(), sink.tables(), sink.reviewer_findings())
