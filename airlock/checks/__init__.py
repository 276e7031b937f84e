"""Disclosure checks: pure functions from an output file and a check context to a verdict with
findings.

No web, no database, no reading besides the file checked: the airlock service (submission),
the ``tresor airlock check`` CLI and the researcher's notebook all call :func:`check_file`
with a :class:`CheckContext` (the thresholds, the node's sample IDs), which the caller builds.
This module is the contract between them; the rules live in sibling modules.

Verdicts are ordered: ``pass`` < ``review`` < ``block``; a file's verdict is its worst finding's
(``pass`` when there are none), a set of files' verdict is the worst file's.
"""

from __future__ import annotations

import importlib

from airlock.checks.findings import FileReport, Finding, Location, Verdict, overall_verdict

#: public names defined by modules that load pandas or pydantic, imported on first use so that
#: importing the verdict types stays cheap
_EXPORTS = {
    "check_file": "run",
    "check_paths": "walk",
    "CheckContext": "context",
    "DatasetSamples": "context",
}

__all__ = [
    "CheckContext",
    "DatasetSamples",
    "FileReport",
    "Finding",
    "Location",
    "Verdict",
    "check_file",
    "check_paths",
    "overall_verdict",
]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"airlock.checks.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'airlock.checks' has no attribute {name!r}")
