"""Checking paths: files as they are, directories file by file, symlinks never followed.

A symlink (to a file or a directory) is a BLOCK report of its own and is not read; a
directory that is a Zarr store (it has ``.zgroup``, ``.zarray`` or ``zarr.json``) is one BLOCK
report, as individual-level genomic data; anything that is neither a file nor a directory
(a FIFO, a socket, a device) blocks without being opened.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from airlock.checks.context import CheckContext
from airlock.checks.filetypes import is_zarr_metadata_name
from airlock.checks.findings import FileReport, Finding, Verdict
from airlock.checks.run import check_file

_ZARR_MARKERS = (".zgroup", ".zarray", "zarr.json")


def check_paths(
    paths: Iterable[str | os.PathLike],
    context: CheckContext | None = None,
    *,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[FileReport]:
    """One report per file under ``paths``, in a stable (sorted) order; each report's path is
    shown as the path given plus the part below it."""
    for given in paths:
        yield from _check(Path(given), str(given), context, on_bytes)


def _blocked(shown: str, rule: str, message: str) -> FileReport:
    return FileReport(shown, (Finding(rule, Verdict.BLOCK, message),))


def _check(path: Path, shown: str, context, on_bytes) -> Iterator[FileReport]:
    if path.is_symlink():
        yield _blocked(
            shown,
            "symlink",
            "This is a symbolic link; links are never followed. Add the file itself, not a link.",
        )
    elif path.is_dir():
        if any((path / marker).exists() for marker in _ZARR_MARKERS):
            yield _blocked(
                shown,
                "individual-level.format",
                "This directory is a Zarr store: it holds individual-level genomic data, which "
                "never leaves the node. Release aggregate results (allele counts, summary "
                "statistics) as CSV or TSV instead.",
            )
            return
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError as e:
            yield _blocked(shown, "unreadable", f"This directory cannot be read ({e.strerror}).")
            return
        for entry in entries:
            yield from _check(Path(entry.path), os.path.join(shown, entry.name), context, on_bytes)
    elif path.is_file():
        report = check_file(path, context, display_path=shown, on_bytes=on_bytes)
        if is_zarr_metadata_name(path.name) and report.verdict is not Verdict.BLOCK:
            report = FileReport(
                shown,
                (
                    *report.findings,
                    Finding(
                        "individual-level.format",
                        Verdict.BLOCK,
                        "This file is part of a Zarr store (individual-level genomic data).",
                    ),
                ),
            )
        yield report
    elif path.exists():
        yield _blocked(
            shown, "unreadable", "This is not a regular file (a device, socket or pipe)."
        )
    else:
        yield _blocked(shown, "unreadable", "This path does not exist.")
