"""Who may do what: rules about users, from their hub groups. Nothing here looks at files.

Each rule is a ``check_user_*`` function raising :class:`PermissionDenied` (HTTP 403) with its
``user_can_*`` twin returning a bool. Groups: ``researchers`` act on their own requests,
``airlock-reviewers`` review other people's, ``admins`` change configuration and read the audit
log. A person in several groups gets each group's rights, never the right to review their own
request.
"""

from __future__ import annotations

from collections.abc import Collection

from airlock.domain import ReleaseRequest, User
from airlock.enums import RequestStatus
from airlock.exceptions import PermissionDenied

#: whose move it is in each status (a test checks that every status has an owner)
STATUS_OWNERS: dict[RequestStatus, str] = {
    RequestStatus.DRAFT: "requester",
    RequestStatus.SUBMITTED: "reviewers",
    RequestStatus.IN_REVIEW: "reviewers",
    RequestStatus.APPROVED: "system",  # the release follows the last approval
    RequestStatus.RETURNED: "requester",
    RequestStatus.REJECTED: "nobody",
    RequestStatus.RELEASED: "nobody",
    RequestStatus.WITHDRAWN: "nobody",
    RequestStatus.RELEASE_FAILED: "reviewers",  # retry the release, or return the request
}


def user_can_create_request(user: User, project: str, projects: Collection[str]) -> bool:
    return user.is_researcher and project in user.projects(projects)


def check_user_can_create_request(user: User, project: str, projects: Collection[str]) -> None:
    if not user.is_researcher:
        raise PermissionDenied(
            f"{user.name} is not in the researchers group, so cannot make airlock requests"
        )
    if project not in user.projects(projects):
        mine = ", ".join(user.projects(projects)) or "none"
        raise PermissionDenied(
            f"{user.name} is not a member of project {project!r} (your projects: {mine}); "
            "a request belongs to one of your projects"
        )


def user_can_bind_federation(user: User) -> bool:
    """Only the node's federation agent (its hub service, acting as the federation account)
    makes requests that answer a federated request."""
    return user.federation_agent


def check_user_can_bind_federation(user: User) -> None:
    if not user_can_bind_federation(user):
        raise PermissionDenied(
            f"{user.name} is not this node's federation agent, so cannot bind a request to a "
            "federated request (only the agent's own hub service token does that)"
        )


def user_is_requester(user: User, request: ReleaseRequest) -> bool:
    return user.name == request.requester


def user_can_view_request(user: User, request: ReleaseRequest) -> bool:
    """The requester, or a reviewer once the request has been submitted at least once."""
    return user_is_requester(user, request) or (user.is_reviewer and request.round > 0)


def check_user_can_view_request(user: User, request: ReleaseRequest) -> None:
    if not user_can_view_request(user, request):
        raise PermissionDenied(
            f"request {request.id} belongs to {request.requester} in project "
            f"{request.project}; {user.name} may not see it"
        )


def user_can_edit_request(user: User, request: ReleaseRequest, projects: Collection[str]) -> bool:
    """Only the requester, while still a researcher in the request's project."""
    return (
        user_is_requester(user, request)
        and user.is_researcher
        and request.project in user.projects(projects)
    )


def check_user_can_edit_request(
    user: User, request: ReleaseRequest, projects: Collection[str]
) -> None:
    if not user_is_requester(user, request):
        raise PermissionDenied(
            f"only {request.requester}, who made request {request.id}, may change it"
        )
    if not user_can_edit_request(user, request, projects):
        raise PermissionDenied(
            f"{user.name} is no longer a researcher in project {request.project}, so cannot "
            f"change request {request.id}; ask a node admin"
        )


def user_can_withdraw(user: User, request: ReleaseRequest) -> bool:
    """Only the requester withdraws a request."""
    return user_is_requester(user, request)


def check_user_can_withdraw(user: User, request: ReleaseRequest) -> None:
    if not user_can_withdraw(user, request):
        raise PermissionDenied(f"only {request.requester} may withdraw request {request.id}")


def user_can_review(user: User, request: ReleaseRequest) -> bool:
    """A reviewer who is not the requester."""
    return user.is_reviewer and not user_is_requester(user, request)


def check_user_can_review(user: User, request: ReleaseRequest) -> None:
    if user_is_requester(user, request):
        raise PermissionDenied(
            f"{user.name} made request {request.id} and so cannot review it: two other "
            "reviewers must"
        )
    if not user.is_reviewer:
        raise PermissionDenied(f"{user.name} is not in the airlock-reviewers group")


def user_can_comment(user: User, request: ReleaseRequest) -> bool:
    return user_can_review(user, request) or user_is_requester(user, request)


def check_user_can_comment(user: User, request: ReleaseRequest) -> None:
    if not user_can_comment(user, request):
        raise PermissionDenied(
            f"only the requester and reviewers may comment on request {request.id}"
        )


def user_can_preview_file(user: User, request: ReleaseRequest) -> bool:
    """Reviewers see file contents; the requester only gets them once released (download)."""
    return user_can_review(user, request) and request.round > 0


def check_user_can_preview_file(user: User, request: ReleaseRequest) -> None:
    if user_is_requester(user, request):
        raise PermissionDenied(
            "file contents leave the node only after release; open the file in your "
            "workspace instead"
        )
    if not user_can_preview_file(user, request):
        raise PermissionDenied(f"{user.name} may not see the files of request {request.id}")


def user_can_see_finding_values(user: User, request: ReleaseRequest) -> bool:
    """Findings name the cell values they flag; the requester's browser gets none of them back
    before release (they are the workspace's contents, which leave only by release)."""
    return not user_is_requester(user, request) or request.status == RequestStatus.RELEASED


def user_can_see_reviewer_findings(user: User, request: ReleaseRequest) -> bool:
    """Findings about datasets the request's project is not granted are for reviewers only,
    never the requester: they would tell who is in those datasets (airlock.checking)."""
    return user_can_review(user, request) and request.round > 0


def user_can_download_release(user: User, request: ReleaseRequest) -> bool:
    return user_is_requester(user, request)


def check_user_can_download_release(user: User, request: ReleaseRequest) -> None:
    if not user_can_download_release(user, request):
        raise PermissionDenied(
            f"only {request.requester}, who made request {request.id}, downloads its released files"
        )


def user_can_see_queue(user: User) -> bool:
    return user.is_reviewer


def check_user_can_see_queue(user: User) -> None:
    if not user_can_see_queue(user):
        raise PermissionDenied(f"{user.name} is not in the airlock-reviewers group")


def user_can_see_failed_releases(user: User) -> bool:
    """Reviewers retry or return them; admins fix what made them fail (disk, outbox, store)."""
    return user.is_reviewer or user.is_admin


def check_user_can_see_failed_releases(user: User) -> None:
    if not user_can_see_failed_releases(user):
        raise PermissionDenied(
            f"{user.name} is neither a reviewer nor an admin, so does not see failed releases"
        )


def user_can_read_audit(user: User) -> bool:
    return user.is_admin


def check_user_can_read_audit(user: User) -> None:
    if not user_can_read_audit(user):
        raise PermissionDenied(f"{user.name} is not an admin; the audit log is for admins")


def user_can_configure(user: User) -> bool:
    return user.is_admin


def check_user_can_configure(user: User) -> None:
    if not user_can_configure(user):
        raise PermissionDenied(f"{user.name} is not an admin; only admins change the airlock")


def user_can_manage_reviewers(user: User) -> bool:
    return user.is_admin


def check_user_can_manage_reviewers(user: User) -> None:
    if not user_can_manage_reviewers(user):
        raise PermissionDenied(f"{user.name} is not an admin; only admins change the reviewers")
