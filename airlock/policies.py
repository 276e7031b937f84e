"""What a request's state and its files allow, whoever asks. Nothing here looks at users.

Each rule is a ``check_*`` function raising :class:`PolicyViolation` (HTTP 409) with its
``can_*`` twin returning a bool. Transitions between statuses are the state machine's
(airlock.states); these are the other conditions, and read it where they depend on it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from airlock.domain import ReleaseRequest, release_name_key
from airlock.enums import RequestStatus
from airlock.exceptions import PolicyViolation
from airlock.states import CLOSED, can_transition

#: statuses in which the requester may add, change or remove files
EDITABLE = frozenset({RequestStatus.DRAFT, RequestStatus.RETURNED})
#: statuses in which reviewers may decide
REVIEWABLE = frozenset({RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW})
#: statuses waiting for a reviewer (the queue)
QUEUE = REVIEWABLE
#: statuses with enough approvals whose release has not finished (a crash, a failed write)
RELEASABLE = frozenset({RequestStatus.APPROVED, RequestStatus.RELEASE_FAILED})


def can_edit_files(request: ReleaseRequest) -> bool:
    return request.status in EDITABLE


def check_can_edit_files(request: ReleaseRequest) -> None:
    if not can_edit_files(request):
        raise PolicyViolation(
            f"request {request.id} is {request.status.value}: its files can change only while "
            "it is a draft or returned to you. Make a new request for new files."
        )


def release_name_conflict(names: Collection[str], name: str) -> str | None:
    """Why a file named ``name`` cannot join files named ``names`` in one bundle, or None.

    A bundle is a directory tree unpacked on any file system: no name twice, not even in
    another letter case or Unicode spelling, and no name both a file and a directory.
    """
    key = release_name_key(name)
    parts = name.split("/")
    directories = {release_name_key("/".join(parts[:i])) for i in range(1, len(parts))}
    for other in names:
        other_key = release_name_key(other)
        if other == name:
            return (
                f"the request already has a file named {name!r}; give this one another name "
                "in the release, or remove that one"
            )
        if other_key == key:
            return (
                f"{name!r} and the file {other!r} differ only in letter case or Unicode spelling, "
                "so one would overwrite the other where the release is unpacked; rename one of them"
            )
        if other_key in directories:
            return (
                f"{other!r} is a file, so {name!r} cannot be inside a directory of that name; "
                f"rename one of them (for example {name!r} as {name.replace('/', '-')!r})"
            )
        if other_key.startswith(key + "/"):
            return (
                f"{name!r} is a directory in this release (it holds {other!r}), so it cannot be "
                "a file too; give this file another name in the release"
            )
    return None


def _first_name_conflict(names: Sequence[str]) -> str | None:
    return next(
        (c for i, n in enumerate(names) if (c := release_name_conflict(names[:i], n))), None
    )


def can_name_file(request: ReleaseRequest, name: str) -> bool:
    return release_name_conflict([f.name for f in request.files], name) is None


def check_can_name_file(request: ReleaseRequest, name: str) -> None:
    """``name`` (as ``domain.release_name`` spells it) fits the request's other names."""
    if problem := release_name_conflict([f.name for f in request.files], name):
        raise PolicyViolation(f"request {request.id}: {problem}")


def check_can_add_file(request: ReleaseRequest, name: str, max_files: int) -> None:
    check_can_edit_files(request)
    check_can_name_file(request, name)
    if len(request.files) >= max_files:
        raise PolicyViolation(
            f"request {request.id} already has {len(request.files)} files, the most allowed; "
            "make a second request"
        )


def can_submit(request: ReleaseRequest) -> bool:
    return (
        request.status in EDITABLE
        and bool(request.files)
        and _first_name_conflict([f.name for f in request.files]) is None
    )


def check_can_submit(request: ReleaseRequest) -> None:
    check_can_edit_files(request)
    if not request.files:
        raise PolicyViolation(f"request {request.id} has no files; add at least one first")
    if problem := _first_name_conflict([f.name for f in request.files]):
        # names stored before they were checked when added
        raise PolicyViolation(
            f"request {request.id}: {problem}. Remove the file and add it again under another name"
        )
    for f in request.files:
        if not (f.description.strip() and f.disclosure_control.strip()):
            raise PolicyViolation(
                f"{f.name}: say what the file is and how disclosure was controlled"
            )


def can_review(request: ReleaseRequest) -> bool:
    return request.status in REVIEWABLE


def check_can_review(request: ReleaseRequest) -> None:
    if not can_review(request):
        raise PolicyViolation(
            f"request {request.id} is {request.status.value}, not waiting for review"
        )


def can_decide(request: ReleaseRequest, reviewer: str) -> bool:
    """One decision per reviewer per round (the database enforces it too)."""
    return all(r.reviewer != reviewer for r in request.current_reviews)


def check_can_decide(request: ReleaseRequest, reviewer: str) -> None:
    if not can_decide(request, reviewer):
        raise PolicyViolation(
            f"{reviewer} has already decided on request {request.id} in this round; another "
            "reviewer must make the next decision"
        )


def can_withdraw(request: ReleaseRequest) -> bool:
    """Until the request is decided: the state machine's withdrawn transitions."""
    return can_transition(request, RequestStatus.WITHDRAWN)


def can_comment(request: ReleaseRequest) -> bool:
    return request.status not in CLOSED


def check_can_comment(request: ReleaseRequest) -> None:
    if not can_comment(request):
        raise PolicyViolation(f"request {request.id} is {request.status.value}: closed")


def unacknowledged_blocked_files(
    request: ReleaseRequest, acknowledged: Collection[int]
) -> list[str]:
    """Blocked files an approval would leave without an acknowledged written exception."""
    return [
        f.name
        for f in request.blocked_files
        if not (f.exception and f.exception.strip()) or f.id not in acknowledged
    ]


def approval_refusal(request: ReleaseRequest) -> str | None:
    """Why no reviewer's approval can succeed now, whatever they acknowledge (the page disables
    Approve and says this), or None."""
    missing = [f for f in request.blocked_files if not (f.exception and f.exception.strip())]
    if not missing:
        return None
    names = ", ".join(f.name for f in missing)
    return (
        f"the checks blocked {names} and the requester wrote no exception for it; return "
        "the request so that they can explain, or reject it"
    )


def check_blocked_files_acknowledged(
    request: ReleaseRequest, acknowledged: Collection[int]
) -> None:
    """A blocked file is approved only with the requester's exception, acknowledged by the
    approving reviewer."""
    if refusal := approval_refusal(request):
        raise PolicyViolation(refusal)
    if unacked := unacknowledged_blocked_files(request, acknowledged):
        raise PolicyViolation(
            f"the checks blocked {', '.join(unacked)}: acknowledge the requester's exception "
            "for each blocked file to approve"
        )


def unacknowledged_reviewer_findings(
    request: ReleaseRequest, acknowledged: Collection[int]
) -> list[str]:
    """Files with a blocking reviewer-only finding that an approval would not acknowledge."""
    return [f.name for f in request.files if f.blocked_for_reviewers and f.id not in acknowledged]


def check_reviewer_findings_acknowledged(
    request: ReleaseRequest, acknowledged: Collection[int]
) -> None:
    """A file whose values match sample IDs of datasets the project is not granted is approved
    only when the approving reviewer acknowledges the match (a coincidence); the requester is
    never asked, nor told (airlock.checking)."""
    if unseen := unacknowledged_reviewer_findings(request, acknowledged):
        raise PolicyViolation(
            f"{', '.join(unseen)}: values match sample IDs of datasets project "
            f"{request.project} is not granted (reviewer-only findings). Acknowledge each such "
            "file to approve, if the matches are coincidences; otherwise return or reject the "
            "request without naming the datasets"
        )


def requester_visible_acknowledgements(
    request: ReleaseRequest, acknowledged: Collection[int]
) -> list[int]:
    """The acknowledgements the review record (which the requester sees) keeps: of files the
    checks blocked; those of reviewer-only findings stay in the audit log."""
    blocked = {f.id for f in request.blocked_files}
    return sorted(i for i in acknowledged if i in blocked)


def approvals_needed(approvals_required: int) -> int:
    """The configured number of approvals, never fewer than two."""
    return max(2, approvals_required)


def has_enough_approvals(
    request: ReleaseRequest, approvals_required: int, not_counting: Collection[str] = ()
) -> bool:
    """Enough distinct reviewers other than the requester approved in this round; approvals
    of ``not_counting`` (reviewers who made themselves one, airlock.reviewers) do not count."""
    return len(set(request.approvers) - set(not_counting)) >= approvals_needed(approvals_required)


def can_release(request: ReleaseRequest, approvals_required: int) -> bool:
    return request.status in RELEASABLE and has_enough_approvals(request, approvals_required)


def check_can_release(request: ReleaseRequest, approvals_required: int) -> None:
    """Approved (or its release failed), by enough distinct reviewers other than the requester
    (counted again here, against the configuration in force at the release)."""
    needed = approvals_needed(approvals_required)
    if request.status not in RELEASABLE:
        raise PolicyViolation(
            f"request {request.id} is {request.status.value}; only an approved request is "
            f"released (it needs {needed} approvals)"
        )
    if not has_enough_approvals(request, approvals_required):
        raise PolicyViolation(
            f"request {request.id} has {len(request.approvers)} approvals; {needed} are needed"
        )


def can_finish_release(request: ReleaseRequest) -> bool:
    """An approved request whose release has not finished (a crash, a failed bundle write):
    a reviewer may retry it. The retry counts the approvals again (check_can_release)."""
    return request.status in RELEASABLE


def can_return_release(request: ReleaseRequest) -> bool:
    """A failed release may go back to the requester, who changes the request (a file's name,
    say) and submits it again for a new round of review."""
    return request.status == RequestStatus.RELEASE_FAILED


def check_can_return_release(request: ReleaseRequest) -> None:
    if not can_return_release(request):
        raise PolicyViolation(
            f"request {request.id} is {request.status.value}; only a request whose release "
            "failed is returned this way (a request in review is returned with a decision)"
        )


def can_download(request: ReleaseRequest) -> bool:
    return request.status == RequestStatus.RELEASED


def check_can_download(request: ReleaseRequest) -> None:
    if not can_download(request):
        raise PolicyViolation(
            f"request {request.id} is {request.status.value}; files are downloaded once it is "
            "released"
        )
