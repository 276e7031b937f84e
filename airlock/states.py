"""The request's state machine as data: which status may follow which, and what each records.

``VALID_STATE_TRANSITIONS`` is the whole state machine (docs/airlock.md draws it,
airlock.diagram); ``check_status`` validates a transition, and ``airlock.workflow.set_status``
validates, then writes it with its audit entry. Everything else that depends on the status
(airlock.policies) reads this table rather than listing statuses again.
"""

from __future__ import annotations

from airlock.domain import ReleaseRequest
from airlock.enums import AuditEventType, RequestStatus
from airlock.exceptions import InvalidStateTransition

S = RequestStatus

#: every allowed move; anything else is refused (409)
VALID_STATE_TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset({S.IN_REVIEW, S.WITHDRAWN}),
    S.IN_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.RETURNED, S.WITHDRAWN}),
    S.RETURNED: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    # back to review when approvals_required was raised after the approvals (Airlock.release);
    # release_failed when the bundle cannot be written (Airlock.release records why)
    S.APPROVED: frozenset({S.RELEASED, S.IN_REVIEW, S.RELEASE_FAILED}),
    # a reviewer's retry ("Finish release": released, or back to review as from approved), or
    # back to the requester (e.g. to rename a file)
    S.RELEASE_FAILED: frozenset({S.RELEASED, S.IN_REVIEW, S.RETURNED}),
    S.REJECTED: frozenset(),
    S.RELEASED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

#: final statuses: no move leads out of them
CLOSED = frozenset(s for s, targets in VALID_STATE_TRANSITIONS.items() if not targets)

#: the audit event recorded when a request enters each status
STATUS_AUDIT_EVENT: dict[RequestStatus, AuditEventType] = {
    S.DRAFT: AuditEventType.REQUEST_CREATED,
    S.SUBMITTED: AuditEventType.REQUEST_SUBMITTED,
    S.IN_REVIEW: AuditEventType.REQUEST_IN_REVIEW,
    S.APPROVED: AuditEventType.REQUEST_APPROVED,
    S.REJECTED: AuditEventType.REQUEST_REJECTED,
    S.RETURNED: AuditEventType.REQUEST_RETURNED,
    S.RELEASED: AuditEventType.REQUEST_RELEASED,
    S.WITHDRAWN: AuditEventType.REQUEST_WITHDRAWN,
    S.RELEASE_FAILED: AuditEventType.REQUEST_RELEASE_FAILED,
}

#: the requester's status moves; the others belong to reviewers or the system
REQUESTER_TRANSITIONS = frozenset({S.SUBMITTED, S.WITHDRAWN})


def can_transition(request: ReleaseRequest, to: RequestStatus) -> bool:
    return to in VALID_STATE_TRANSITIONS[request.status]


def check_status(request: ReleaseRequest, to: RequestStatus) -> None:
    if not can_transition(request, to):
        allowed = ", ".join(sorted(s.value for s in VALID_STATE_TRANSITIONS[request.status]))
        raise InvalidStateTransition(
            f"request {request.id} is {request.status.value} and cannot become {to.value} "
            f"(from {request.status.value} it can become: {allowed or 'nothing; it is final'})"
        )
