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
    """Sample IDs of every dataset in the node's catalogue, reloaded when the catalogue changes."""

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
        key = self._fingerprint()
        if key != self._key:
            self._ids = self._load()
            self._key = key
        return self._ids

    def _load(self) -> frozenset[str]:
        from tresor.catalogue import load_catalogue
        from tresor.io import open_store

        ids: set[str] = set()
        if not key_has_entries(self.catalogue_dir):
            return frozenset()
        for entry in load_catalogue(self.catalogue_dir).values():
            try:
                ds = open_store(entry.store)
                ids.update(str(s) for s in ds["sample_id"].values)
            except Exception as e:  # a broken store must not stop submissions
                log.warning("cannot read sample IDs of dataset %s: %s", entry.id, e)
        return frozenset(ids)


def key_has_entries(directory: Path | None) -> bool:
    return directory is not None and directory.is_dir() and any(directory.glob("*.toml"))


def default_checker(settings) -> Checker:
    """The node's disclosure rules (``[airlock.checks]``) with the catalogue's sample IDs."""
    from airlock.checks import check_file

    sample_ids = CatalogueSampleIds(settings.catalogue_dir)

    def checker(path: Path, name: str) -> FileReport:
        sample_ids()  # passed on once the checks' config takes them (airlock.checks.config)
        return check_file(path, None, display_path=name)

    return checker
