"""How the service runs the disclosure checks (airlock.checks) on a snapshot.

The checks are pure: the service does their I/O. For each check it builds the
:class:`~airlock.checks.CheckContext` (:func:`check_context`) from the configuration in force,
so the file-size limit that refuses a file when it is added is the one the checks apply, and
from the node's datasets, which its sample-ID provider reads (airlock.samples). The checker is
a parameter of the service (``Airlock(checker=...)``), by default the node's rules
(:func:`node_checker`). A checker that fails gives a BLOCK finding, never an error: a file whose
checks did not run is not released without a human exception.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from airlock.checks.context import CheckContext
from airlock.checks.findings import FileReport, Finding, Verdict
from airlock.samples import SampleIdProvider
from tresor.core.airlock_config import AirlockConfig

log = logging.getLogger(__name__)

#: (path of the bytes to check, the file's name in the request, the context) -> report
Checker = Callable[[Path, str, CheckContext], FileReport]


def check_context(config: AirlockConfig, samples: SampleIdProvider) -> CheckContext:
    """What the checks know besides the file: ``config`` and the node's datasets now."""
    return CheckContext(config=config, datasets=samples().datasets)


def node_checker(path: Path, name: str, context: CheckContext) -> FileReport:
    """The node's disclosure rules."""
    from airlock.checks import check_file

    return check_file(path, context, display_path=name)


def run_checker(checker: Checker, path: Path, name: str, context: CheckContext) -> FileReport:
    """Run ``checker``; any failure becomes a BLOCK finding that says so."""
    try:
        report = checker(path, name, context)
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
