"""How the service runs the disclosure checks (airlock.checks) on a snapshot.

The checker is a parameter of the service (``Airlock(checker=...)``): by default the node's
rules from :func:`airlock.checks.check_file`, given the sample IDs of the node's datasets so
that values matching them are caught. A checker that fails gives a BLOCK finding, never an
error: a file whose checks did not run is not released without a human exception.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from airlock.checks import FileReport, Finding, Verdict

log = logging.getLogger(__name__)

#: (path of the bytes to check, the file's name in the request) -> report
Checker = Callable[[Path, str], FileReport]


def run_checker(checker: Checker, path: Path, name: str) -> FileReport:
    """Run ``checker``; any failure becomes a BLOCK finding that says so."""
    try:
        report = checker(path, name)
    except Exception as e:
        log.exception("disclosure checks failed on %s", name)
        return FileReport(
            path=name,
            findings=(
                Finding(
                    rule="checks-failed",
                    verdict=Verdict.BLOCK,
                    message=(
                        f"the automatic disclosure checks could not run on this file ({e}); "
                        "it is blocked until they do, or until reviewers accept a written "
                        "exception"
                    ),
                ),
            ),
        )
    return FileReport(path=name, findings=tuple(report.findings))


class CatalogueSampleIds:
    """Sample IDs of the catalogue's datasets (airlock.checks.samples), read again only when a
    catalogue entry changes."""

    def __init__(self, catalogue_dir: Path | None) -> None:
        self.catalogue_dir = catalogue_dir
        self._key: tuple | None = None
        self._ids: frozenset[str] = frozenset()

    def _fingerprint(self) -> tuple:
        if self.catalogue_dir is None or not self.catalogue_dir.is_dir():
            return ()
        return tuple(
            (p.name, p.stat().st_mtime_ns) for p in sorted(self.catalogue_dir.glob("*.toml"))
        )

    def __call__(self) -> frozenset[str]:
        from airlock.checks.samples import catalogue_sample_ids

        key = self._fingerprint()
        if key != self._key:
            found = catalogue_sample_ids(self.catalogue_dir) if key else None
            self._ids = found.ids if found else frozenset()
            log.info("disclosure checks: %s", found.note if found else "no catalogue")
            self._key = key
        return self._ids


def default_checker(settings) -> Checker:
    """The node's disclosure rules (thresholds from ``[airlock.checks]``, validated here, at
    start) with the sample IDs of the catalogue's datasets."""
    from airlock.checks import check_file
    from airlock.checks.config import CheckConfig

    config = CheckConfig.from_mapping(settings.checks)
    sample_ids = CatalogueSampleIds(settings.catalogue_dir)

    def checker(path: Path, name: str) -> FileReport:
        return check_file(path, config.with_sample_ids(sample_ids()), display_path=name)

    return checker
