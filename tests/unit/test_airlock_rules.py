"""The state machine as data, the permission table, and the generated state diagram."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest

from airlock import diagram, permissions, policies
from airlock.abilities import abilities
from airlock.domain import ReleaseRequest, RequestFile, Review, User
from airlock.enums import Decision, RequestStatus
from airlock.exceptions import InvalidStateTransition, PermissionDenied, PolicyViolation
from airlock.states import CLOSED, STATUS_AUDIT_EVENT, VALID_STATE_TRANSITIONS, check_status
from tests.airlock_support import PROJECTS, USERS

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
REPO_DOCS = diagram.Path(__file__).resolve().parents[2] / "docs" / "airlock.md"


def user(name: str) -> User:
    return User(name, USERS[name])


def request(status=RequestStatus.SUBMITTED, requester="researcher1", round=1, files=(), reviews=()):
    return ReleaseRequest(
        id="0123456789abcdef",
        project="nordic-gwas",
        requester=requester,
        status=status,
        round=round,
        created_at=NOW,
        updated_at=NOW,
        submitted_at=NOW if round else None,
        released_at=None,
        bundle_name=None,
        files=tuple(files),
        reviews=tuple(reviews),
    )


def test_state_machine__every_status_has_an_owner_and_an_audit_event():
    assert set(VALID_STATE_TRANSITIONS) == set(RequestStatus)
    assert set(permissions.STATUS_OWNERS) == set(RequestStatus)
    assert set(STATUS_AUDIT_EVENT) == set(RequestStatus)


def test_state_machine__final_states_are_only_reached_never_left():
    final = {s for s, targets in VALID_STATE_TRANSITIONS.items() if not targets}
    assert final == {RequestStatus.REJECTED, RequestStatus.RELEASED, RequestStatus.WITHDRAWN}
    assert RequestStatus.RELEASED in VALID_STATE_TRANSITIONS[RequestStatus.APPROVED]

    def sources(target):
        return {s for s, targets in VALID_STATE_TRANSITIONS.items() if target in targets}

    # only an approved request is released: from approved, or from release_failed (a retry),
    # which only approved leads to; and only a review leads to approved
    assert sources(RequestStatus.RELEASED) == {RequestStatus.APPROVED, RequestStatus.RELEASE_FAILED}
    assert sources(RequestStatus.RELEASE_FAILED) == {RequestStatus.APPROVED}
    assert sources(RequestStatus.APPROVED) == {RequestStatus.IN_REVIEW}


@pytest.mark.parametrize(
    ("source", "target"), list(itertools.product(RequestStatus, RequestStatus))
)
def test_check_status__follows_the_table(source, target):
    r = request(source)
    if target in VALID_STATE_TRANSITIONS[source]:
        check_status(r, target)
    else:
        with pytest.raises(InvalidStateTransition, match=source.value):
            check_status(r, target)


S = RequestStatus
#: (user, request status, requester) -> may view, may edit, may review, may preview contents
TABLE = [
    ("researcher1", S.DRAFT, "researcher1", (True, True, False, False)),
    ("researcher1", S.SUBMITTED, "researcher1", (True, True, False, False)),
    ("researcher2", S.SUBMITTED, "researcher1", (False, False, False, False)),
    ("reviewer1", S.DRAFT, "researcher1", (False, False, True, False)),
    ("reviewer1", S.SUBMITTED, "researcher1", (True, False, True, True)),
    ("reviewer1", S.RELEASED, "researcher1", (True, False, True, True)),
    ("both1", S.SUBMITTED, "both1", (True, True, False, False)),
    ("both1", S.SUBMITTED, "researcher1", (True, False, True, True)),
    ("admin1", S.SUBMITTED, "researcher1", (False, False, False, False)),
    ("outsider", S.SUBMITTED, "researcher1", (False, False, False, False)),
]


@pytest.mark.parametrize(("name", "status", "requester", "expected"), TABLE)
def test_permissions__table(name, status, requester, expected):
    r = request(status, requester=requester, round=0 if status == S.DRAFT else 1)
    u = user(name)
    got = (
        permissions.user_can_view_request(u, r),
        permissions.user_can_edit_request(u, r, PROJECTS),
        permissions.user_can_review(u, r),
        permissions.user_can_preview_file(u, r),
    )
    assert got == expected
    for allowed, check in zip(
        got,
        (
            lambda: permissions.check_user_can_view_request(u, r),
            lambda: permissions.check_user_can_edit_request(u, r, PROJECTS),
            lambda: permissions.check_user_can_review(u, r),
            lambda: permissions.check_user_can_preview_file(u, r),
        ),
        strict=True,
    ):
        if allowed:
            check()
        else:
            with pytest.raises(PermissionDenied):
                check()


def test_permissions__create_only_in_own_project():
    assert permissions.user_can_create_request(user("researcher1"), "nordic-gwas", PROJECTS)
    assert not permissions.user_can_create_request(user("researcher1"), "uk-study", PROJECTS)
    assert not permissions.user_can_create_request(user("reviewer1"), "nordic-gwas", PROJECTS)
    # a hub group that the site does not declare as a project is not a project
    stray = User("researcher9", frozenset({"researchers", "stray-group"}))
    assert stray.projects(PROJECTS) == ()


def _file(fid, verdict="pass", exception=None):
    return RequestFile(fid, f"f{fid}.csv", f"f{fid}.csv", "d", "c", "0" * 64, 1, verdict,
                       {"findings": []}, exception, NOW, NOW)  # fmt: skip


def test_policies__blocked_file_needs_exception_and_acknowledgement():
    plain = request(files=[_file(1)])
    policies.check_blocked_files_acknowledged(plain, [])
    no_exception = request(files=[_file(1), _file(2, "block")])
    with pytest.raises(PolicyViolation, match="no exception"):
        policies.check_blocked_files_acknowledged(no_exception, [2])
    excused = request(files=[_file(1), _file(2, "block", "aggregate of 3 cohorts")])
    with pytest.raises(PolicyViolation, match="acknowledge"):
        policies.check_blocked_files_acknowledged(excused, [1])
    policies.check_blocked_files_acknowledged(excused, [2])


def test_policies__reviewer_only_findings_need_a_reviewers_acknowledgement_only():
    """No requester exception (they must not learn of the match), and the review record the
    requester reads keeps only the acknowledgements of files the checks blocked for them."""
    match = {"rule": "individual-level.sample-id.not-granted", "verdict": "block",
             "message": "m", "location": None}  # fmt: skip
    flagged = dataclasses.replace(_file(2), reviewer_findings=(match,))
    r = request(files=[_file(1), flagged, _file(3, "block", "aggregate of 3 cohorts")])
    assert flagged.blocked_for_reviewers and not flagged.is_blocked
    with pytest.raises(PolicyViolation, match=r"f2\.csv: values match sample IDs"):
        policies.check_reviewer_findings_acknowledged(r, [3])
    policies.check_reviewer_findings_acknowledged(r, [2, 3])
    assert policies.requester_visible_acknowledgements(r, [2, 3]) == [3]


def test_policies__release_counts_distinct_reviewers_other_than_the_requester():
    def approval(reviewer, round=1):
        return Review(reviewer, round, Decision.APPROVE, "", (), NOW)

    approved = S.APPROVED
    assert not policies.can_release(request(approved, reviews=[approval("reviewer1")]), 2)
    assert not policies.can_release(
        request(approved, reviews=[approval("reviewer1"), approval("researcher1")]), 2
    )
    assert not policies.can_release(
        request(approved, round=2, reviews=[approval("reviewer1", 1), approval("reviewer2", 1)]), 2
    )
    assert policies.can_release(
        request(approved, reviews=[approval("reviewer1"), approval("reviewer2")]), 2
    )
    # the floor is two whatever the configuration says
    assert not policies.can_release(request(approved, reviews=[approval("reviewer1")]), 1)
    with pytest.raises(PolicyViolation):
        policies.check_can_release(request(S.IN_REVIEW, reviews=[approval("a"), approval("b")]), 2)


def test_policies__a_failed_release_is_retried_or_returned():
    def approval(reviewer):
        return Review(reviewer, 1, Decision.APPROVE, "", (), NOW)

    failed = request(S.RELEASE_FAILED, reviews=[approval("reviewer1"), approval("reviewer2")])
    assert policies.can_finish_release(failed) and policies.can_release(failed, 2)
    policies.check_can_release(failed, 2)
    assert not policies.can_release(failed, 3)  # the approvals are counted again
    assert policies.can_return_release(failed)
    policies.check_can_return_release(failed)
    for status in set(RequestStatus) - {S.RELEASE_FAILED}:
        assert not policies.can_return_release(request(status))
        with pytest.raises(PolicyViolation):
            policies.check_can_return_release(request(status))


def test_state_machine__closed_states_are_the_final_ones():
    assert {S.REJECTED, S.RELEASED, S.WITHDRAWN} == CLOSED
    for status in RequestStatus:
        assert policies.can_comment(request(status)) == (status not in CLOSED)


def _approval(reviewer):
    return Review(reviewer, 1, Decision.APPROVE, "", (), NOW)


#: (user, status, requester, reviews) -> the abilities that are true (all others false)
ABILITIES = [
    ("researcher1", S.DRAFT, "researcher1", (), {"is_requester", "can_edit", "can_submit",
     "can_withdraw", "can_comment", "hide_values"}),
    ("researcher1", S.IN_REVIEW, "researcher1", (), {"is_requester", "can_withdraw",
     "can_comment", "hide_values"}),
    ("reviewer1", S.SUBMITTED, "researcher1", (), {"can_review", "can_comment", "can_preview",
     "see_reviewer_findings"}),
    ("reviewer1", S.IN_REVIEW, "researcher1", (_approval("reviewer1"),),
     {"can_comment", "can_preview", "see_reviewer_findings"}),
    ("reviewer2", S.IN_REVIEW, "researcher1", (_approval("reviewer1"),),
     {"can_review", "can_comment", "can_preview", "see_reviewer_findings"}),
    ("reviewer1", S.APPROVED, "researcher1", (), {"can_release", "can_comment", "can_preview",
     "see_reviewer_findings"}),
    # a failed release: a reviewer retries it or returns it to the requester
    ("reviewer1", S.RELEASE_FAILED, "researcher1", (), {"can_release", "can_return_release",
     "can_comment", "can_preview", "see_reviewer_findings"}),
    ("researcher1", S.RELEASE_FAILED, "researcher1", (), {"is_requester", "can_comment",
     "hide_values"}),
    ("admin1", S.RELEASE_FAILED, "researcher1", (), set()),
    ("researcher1", S.APPROVED, "researcher1", (), {"is_requester", "can_comment",
     "hide_values"}),
    ("researcher1", S.RELEASED, "researcher1", (), {"is_requester", "can_download"}),
    ("reviewer1", S.RELEASED, "researcher1", (), {"can_preview", "see_reviewer_findings"}),
    ("researcher1", S.REJECTED, "researcher1", (), {"is_requester", "hide_values"}),
    ("both1", S.SUBMITTED, "both1", (), {"is_requester", "can_withdraw", "can_comment",
     "hide_values"}),
    ("both1", S.SUBMITTED, "researcher1", (), {"can_review", "can_comment", "can_preview",
     "see_reviewer_findings"}),
    # a requester who has left the project can no longer change the request
    ("researcher2", S.DRAFT, "researcher2", (), {"is_requester", "can_withdraw", "can_comment",
     "hide_values"}),
    ("admin1", S.SUBMITTED, "researcher1", (), set()),
]  # fmt: skip


@pytest.mark.parametrize(("name", "status", "requester", "reviews", "expected"), ABILITIES)
def test_abilities__table(name, status, requester, reviews, expected):
    r = request(
        status,
        requester=requester,
        round=0 if status == S.DRAFT else 1,
        files=[_file(1)],
        reviews=reviews,
    )
    got = abilities(user(name), r, PROJECTS)
    assert {k for k, v in dataclasses.asdict(got).items() if v} == expected


def test_docs__state_diagram_is_generated_from_the_table():
    text = REPO_DOCS.read_text("utf-8")
    assert diagram.block() in text, "run: python -m airlock diagram --write docs/airlock.md"
