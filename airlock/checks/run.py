"""Checking one file: opened without following a link, then every rule that fits its content.

Malformed input gives a BLOCK finding with a readable reason, never an exception: whatever stops
a check blocks the file (deny by default).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from airlock.checks.context import CheckContext
from airlock.checks.dispatch import RULE_ENCODING, check_open_file
from airlock.checks.filetypes import HEAD_BYTES
from airlock.checks.findings import FileReport, Finding, FindingSink, Location, Verdict
from airlock.checks.reading import NotUtf8, Unreadable, open_no_follow
from airlock.checks.size import RULE as RULE_SIZE
from airlock.checks.size import check_size
from airlock.checks.unwrap import CR_LINES, SUFFIXES, TooLarge, unwrapped, wrapping

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
    size = info.st_size
    name = Path(path).name
    head = f.read(HEAD_BYTES)
    f.seek(0)
    what = wrapping(head)
    if what is not None:
        report = _check_unwrapped(f, what, name, shown, context, on_bytes)
    else:
        report = _check(f, size, name, shown, context, on_bytes)
    # the name leaves with the file: the request's path, or (run by hand) the file's own name
    return _with_name(report, display_path if display_path is not None else name, context)


def _with_name(report: FileReport, name: str, context: CheckContext) -> FileReport:
    """The report with what the text rules find in the file's name ('DK000017_results.csv')
    first."""
    from airlock.checks.text import scan_text

    sink = FindingSink(context.config.max_findings_per_rule)
    # separators of a path read as spaces, so '_DK000017.' is a word of its own
    text = name.replace("/", " ").replace("_", " ")
    scan_text(name.encode(), text, 0, context, sink, column="file name")
    if not sink.findings() and not sink.reviewer_findings():
        return report
    return _first(sink, report)


def _check_unwrapped(
    f: BinaryIO,
    what: str,
    name: str,
    shown: str,
    context: CheckContext,
    on_bytes: Callable[[int], None] | None,
) -> FileReport:
    """A gzip stream or UTF-16 text, checked for its content (airlock.checks.unwrap), and the
    names and comments of the gzip stream's members as text."""
    with f:
        limit = context.config.max_summary_statistics_bytes
        header_texts: list[bytes] = []
        try:
            inner, size = unwrapped(f, what, limit, header_texts)
        except TooLarge:
            message = (f"This {what} file holds more than {limit:,} bytes, the most the airlock "
                       "accepts. Release a smaller file.")  # fmt: skip
            return FileReport(shown, (Finding(RULE_SIZE, Verdict.BLOCK, message),))
        except (zlib.error, UnicodeDecodeError) as e:
            message = f"This {what} file cannot be read ({e}); release it uncompressed, as UTF-8."
            return FileReport(shown, (Finding("malformed", Verdict.BLOCK, message),))
    suffix = SUFFIXES.get(what, "")
    inner_name = name[: -len(suffix)] if suffix and name.lower().endswith(suffix) else name
    extra = FindingSink(context.config.max_findings_per_rule)
    if what.startswith(("UTF-16", "UTF-32")):
        extra.add(
            RULE_ENCODING,
            Verdict.REVIEW,
            f"The file is {what[:6]}; it was checked converted to UTF-8, and is released as it is. "
            "Save it as UTF-8 (in Excel: CSV UTF-8) so that every tool reads it alike.",
        )
    elif what == CR_LINES:
        extra.add(
            RULE_ENCODING,
            Verdict.REVIEW,
            "The file's lines end with CR alone (classic Mac OS, Excel's CSV (Macintosh)), or "
            "some of them do; it "
            "was checked with them read as line ends, and is released as it is. Save it with "
            "ordinary line ends (CSV UTF-8) so that every tool reads it alike.",
        )
    elif what == "gzip":
        from airlock.checks.text import scan_text

        for text in header_texts:
            scan_text(text, text.decode("latin-1"), 0, context, extra, column="gzip header")
    # compressed text in UTF-16 or with CR line ends: unwrapped once more (not a compressed
    # stream inside another, which the sniffer blocks)
    again = wrapping(inner.read(HEAD_BYTES)) if what in _COMPRESSED else None
    inner.seek(0)
    if again is not None and again not in _COMPRESSED:
        report = _check_unwrapped(inner, again, inner_name, shown, context, on_bytes)
    else:
        report = _check(inner, size, inner_name, shown, context, on_bytes)
    return _first(extra, report)


_COMPRESSED = ("gzip", "bzip2", "xz")


def _first(extra: FindingSink, report: FileReport) -> FileReport:
    """``report`` with the findings of ``extra`` (what was found around the content) first."""
    extra.extend(report.findings)
    return FileReport(report.path, extra.findings(), report.tables,
                      (*extra.reviewer_findings(), *report.reviewer_findings))  # fmt: skip


def _check(
    f: BinaryIO,
    size: int,
    name: str,
    shown: str,
    context: CheckContext,
    on_bytes: Callable[[int], None] | None,
) -> FileReport:
    encoding = None
    with f:
        while True:
            sink = FindingSink(context.config.max_findings_per_rule)
            try:
                check_open_file(
                    f, size, context, sink, encoding=encoding, name=name, on_bytes=on_bytes
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
                check_size(size, context.config, sink)
            except Exception as e:  # deny by default: whatever stops a check blocks the file
                _log.warning("check of %s stopped: %s", shown, e, exc_info=True)
                sink.add(
                    "malformed",
                    Verdict.BLOCK,
                    f"This file cannot be checked ({type(e).__name__}: {e}); a file the checks "
                    "cannot read cannot leave the node. Save it again in a plain format.",
                )
            return FileReport(shown, sink.findings(), sink.tables(), sink.reviewer_findings())
