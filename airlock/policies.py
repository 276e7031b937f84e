"""What a request's state and its files allow, whoever asks. Nothing here looks at users.

Each rule is a ``check_*`` function raising :class:`PolicyViolation` (HTTP 409) with its
``can_*`` twin returning a bool. Transitions between statuses are the state machine's
(airlock.states); these are the other conditions, and read it where they depend on it.
"""

from __future__ import annotations

from collections.abc import Collection

from airlock.domain import ReleaseRequest
from airlock.enums import RequestStatus
from airlock.exceptions import PolicyViolation
from airlock.states import CLOSED, can_transition

#: statuses in which the requester may add, change or remove files
EDITABLE = frozenset({RequestStatus.DRAFT, RequestStatus.RETURNED})
#: statuses in which reviewers may decide
REVIEWABLE = frozenset({RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW})
#: statuses waiting for a reviewer (the queue)
QUEUE = REVIEWABLE


def can_edit_files(request: ReleaseRequest) -> bool:
    return request.status in EDITABLE


def check_can_edit_files(request: ReleaseRequest) -> None:
    if not can_edit_files(request):
        raise PolicyViolation(
            f"request {request.id} is {request.status.value}: its files can change only while "
            "it is a draft or returned to you. Make a new request for new files."
        )


def check_can_add_file(request: ReleaseRequest, name: str, max_files: int) -> None:
    check_can_edit_files(request)
    if request.file_named(name) is not None:
        raise PolicyViolation(
            f"request {request.id} already has a file named {name!r}; give this one another "
            "name or replace that one"
        )
    if len(request.files) >= max_files:
        raise PolicyViolation(
            f"request {request.id} already has {len(request.files)} files, the most allowed; "
            "make a second request"
        )


def can_submit(request: ReleaseRequest) -> bool:
    return request.status in EDITABLE and bool(request.files)


def check_can_submit(request: ReleaseRequest) -> None:
    check_can_edit_files(request)
    if not request.files:
        raise PolicyViolation(f"request {request.id} has no files; add at least one first")
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


def check_blocked_files_acknowledged(
    request: ReleaseRequest, acknowledged: Collection[int]
) -> None:
    """A blocked file is approved only with the requester's exception, acknowledged by the
    approving reviewer."""
    missing = [f for f in request.blocked_files if not (f.exception and f.exception.strip())]
    if missing:
        names = ", ".join(f.name for f in missing)
        raise PolicyViolation(
            f"the checks blocked {names} and the requester wrote no exception for it; return "
            "the request so that they can explain, or reject it"
        )
    if unacked := unacknowledged_blocked_files(request, acknowledged):
        raise PolicyViolation(
            f"the checks blocked {', '.join(unacked)}: acknowledge the requester's exception "
            "for each blocked file to approve"
        )


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
    return request.status == RequestStatus.APPROVED and has_enough_approvals(
        request, approvals_required
    )


def check_can_release(request: ReleaseRequest, approvals_required: int) -> None:
    """Approved, by enough distinct reviewers other than the requester (counted again here,
    against the configuration in force at the release)."""
    needed = approvals_needed(approvals_required)
    if request.status != RequestStatus.APPROVED:
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
    return request.status == RequestStatus.APPROVED


def can_download(request: ReleaseRequest) -> bool:
    return request.status == RequestStatus.RELEASED


def check_can_download(request: ReleaseRequest) -> None:
    if not can_download(request):
        raise PolicyViolation(
            f"request {request.id} is {request.status.value}; files are downloaded once it is "
            "released"
        )
