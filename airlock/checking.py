"""How the service runs the disclosure checks (airlock.checks) on a snapshot.

The checks are pure: the service does their I/O. For each request it builds the contexts
(:func:`request_contexts`) from the configuration in force, so the file-size limit that refuses
a file when it is added is the one the checks apply, and from the node's datasets, which its
sample-ID provider reads (airlock.samples). The checker is a parameter of the service
(``Airlock(checker=...)``), by default the node's rules (:func:`node_checker`). A checker that
fails gives a BLOCK finding, never an error: a file whose checks did not run is not released
without a human exception.

No oracle: what the requester sees of a check (its verdict and findings) depends only on the
datasets granted to the request's project. Values matching sample IDs of the node's other
datasets are found in the same pass over the file (one matcher over both sets of IDs:
``CheckContext.reviewer_datasets``, airlock.checks.content), and kept apart as reviewer-only
findings (:class:`CheckedFile`), which never change the requester's verdict; otherwise a
researcher could learn who is in a cohort they have no grant for by checking a file of
guesses.

Differencing: the requester's context holds the release ledger as far as it concerns the
request (:func:`ledger_view`): tables released by its project or by projects granted one of
its datasets, tables in requests under review of projects sharing a dataset with it, and the
other files of the request itself. The release records its files' tables
(:meth:`airlock.db.data_access.Writer.record_release`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from airlock.checks.content import RULE_SAMPLE_ID_NOT_GRANTED
from airlock.checks.context import CheckContext, DatasetSamples
from airlock.checks.findings import FileReport, Finding, Verdict
from airlock.checks.released import LedgerEntry, LedgerView, TableRecord
from airlock.db.data_access import DataAccess, LedgerRow
from airlock.domain import ReleaseRequest
from airlock.enums import RequestStatus
from airlock.samples import SampleIdProvider
from tresor.core.airlock_config import AirlockConfig

log = logging.getLogger(__name__)

#: (path of the bytes to check, the file's name in the request, the context) -> report
Checker = Callable[[Path, str, CheckContext], FileReport]

#: the reviewer-only rule: a value matching a sample ID of a dataset the project is not granted
RULE_OTHER_DATASET = RULE_SAMPLE_ID_NOT_GRANTED


@dataclasses.dataclass(frozen=True)
class RequestContexts:
    """What the files of one request are checked with."""

    #: the requester's: the datasets granted to the project, the ledger's relevant tables, and
    #: the other datasets as ``reviewer_datasets`` (matched for the reviewers only)
    granted: CheckContext
    #: the node's other datasets, with the sample IDs the granted ones do not have; None when
    #: there are none (named in the reviewers' findings)
    others: CheckContext | None = None
    project: str | None = None
    request_id: str = ""


def granted_datasets(datasets: tuple[DatasetSamples, ...], project: str) -> list[str]:
    """Ids of the datasets ``project`` is granted."""
    return [d.id for d in datasets if project in d.grants]


def request_contexts(
    config: AirlockConfig, samples: SampleIdProvider, request: ReleaseRequest, dal: DataAccess
) -> RequestContexts:
    """The contexts for ``request``'s files, with the ledger from ``dal``'s database."""
    datasets = samples().datasets
    project = request.project
    granted = tuple(d for d in datasets if project in d.grants)
    known = frozenset().union(*(d.sample_ids for d in granted))
    others = tuple(
        d
        if known.isdisjoint(d.sample_ids)
        else DatasetSamples(d.id, d.sample_ids - known, d.grants)
        for d in datasets
        if project not in d.grants and not d.sample_ids <= known
    )
    ledger = ledger_view(dal, request, granted)
    return RequestContexts(
        CheckContext(config=config, datasets=granted, ledger=ledger, reviewer_datasets=others),
        CheckContext(config=config, datasets=others) if others else None,
        project,
        request.id,
    )


def ledger_view(
    dal: DataAccess, request: ReleaseRequest, granted: tuple[DatasetSamples, ...]
) -> LedgerView:
    """The tables a request's files are compared with (see the module docstring)."""
    sharing = frozenset().union(*(d.grants for d in granted)) - {request.project}
    with dal.read() as r:
        rows = r.ledger(
            project=request.project,
            datasets=[d.id for d in granted],
            projects=sorted(sharing),
            request_id=request.id,
        )
    return LedgerView(
        tuple(
            LedgerEntry(
                label=_label(row, request),
                record=TableRecord.from_dict(row.record),
                request_id=row.request_id,
                file_name=row.file_name,
                released_at=row.released_at,
            )
            for row in rows
        )
    )


def _label(row: LedgerRow, request: ReleaseRequest) -> str:
    """How a finding names an earlier table to the requester: their own project's by file
    and request, another project's without its name."""
    mine = row.project == request.project
    if row.released_at is not None:
        when = f"{row.released_at:%Y-%m-%d}"
        if mine:
            return f"{row.file_name} released in request {row.request_id} on {when}"
        return f"a table another project released on {when} (request {row.request_id})"
    if row.request_id == request.id:
        return f"{row.file_name} in this request"
    state = "approved" if row.status == RequestStatus.APPROVED else "under review"
    if mine:
        return f"{row.file_name} in request {row.request_id}, {state}"
    return f"a table in another project's request {row.request_id}, {state}"


@dataclasses.dataclass(frozen=True)
class CheckedFile:
    """A file's check as the service keeps it: the requester's report, and findings that only
    reviewers see."""

    report: FileReport
    reviewer_findings: tuple[Finding, ...] = ()

    @property
    def verdict(self) -> Verdict:
        """The requester's verdict (reviewer-only findings never change it)."""
        return self.report.verdict

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.report.findings

    def stored(self) -> dict[str, Any]:
        """The columns of a request's file that a check sets."""
        return {
            "verdict": self.verdict.value,
            "report": self.report.to_dict(),
            "reviewer_findings": [f.to_dict() for f in self.reviewer_findings],
            "tables": [t.to_dict() for t in self.report.tables],
        }


def node_checker(path: Path, name: str, context: CheckContext) -> FileReport:
    """The node's disclosure rules."""
    from airlock.checks import check_file

    return check_file(path, context, display_path=name)


def run_checker(checker: Checker, path: Path, name: str, contexts: RequestContexts) -> CheckedFile:
    """Run ``checker`` once with the granted datasets and, for the reviewers only, the others'
    sample IDs; any failure becomes a BLOCK finding that says so."""
    granted = contexts.granted
    ledger = granted.ledger.without(contexts.request_id, name)
    if ledger is not granted.ledger:
        granted = dataclasses.replace(granted, ledger=ledger)
    report = _run(checker, path, name, granted)
    reviewer_findings: tuple[Finding, ...] = ()
    if contexts.others is not None:
        reviewer_findings = tuple(
            _for_reviewers(f, contexts.others, contexts.project) for f in report.reviewer_findings
        )
    requester = FileReport(path=name, findings=report.findings, tables=report.tables)
    return CheckedFile(requester, reviewer_findings)


def _run(checker: Checker, path: Path, name: str, context: CheckContext) -> FileReport:
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
    return FileReport(
        path=name,
        findings=tuple(report.findings),
        tables=report.tables,
        reviewer_findings=tuple(report.reviewer_findings),
    )


def _for_reviewers(finding: Finding, others: CheckContext, project: str | None) -> Finding:
    """A reviewer-only finding as reviewers read it: the check's message names the dataset
    the ID belongs to; a count of further matches names the datasets it may be of."""
    if finding.location is None:
        names = ", ".join(d.id for d in others.datasets)
        which = f"dataset {names}" if len(others.datasets) == 1 else f"one of datasets {names}"
        what = f"Values match sample IDs of {which}. {finding.message}"
    else:
        what = finding.message
    return dataclasses.replace(
        finding,
        rule=RULE_OTHER_DATASET,
        verdict=Verdict.BLOCK,
        message=(
            f"Reviewers only: {what} Project {project} is not granted that dataset. The "
            "requester is not shown this (their verdict depends only on their project's "
            "datasets, so that checking a file of guesses cannot tell them who is in another "
            "cohort). Approving needs you to acknowledge it; otherwise return or reject the "
            "request without naming the dataset."
        ),
    )
