"""What a user can do with a request now: who (airlock.permissions) and what the request's
state allows (airlock.policies), combined once for the web pages and the API.

The verbs check the same rules again when they are called; this only decides which buttons a
page shows and what ``GET /api/requests/{id}`` announces, so the two never disagree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

from airlock import permissions, policies
from airlock.domain import ReleaseRequest, User


@dataclasses.dataclass(frozen=True)
class Abilities:
    """Each field: whether ``user`` may do that to the request in its present state."""

    #: the user made the request
    is_requester: bool
    #: add, change and remove files
    can_edit: bool
    #: hand the request to the reviewers
    can_submit: bool
    can_withdraw: bool
    #: approve, return or reject in this review round
    can_review: bool
    can_comment: bool
    #: read file contents before release (reviewers)
    can_preview: bool
    #: take the released files (the requester)
    can_download: bool
    #: retry the release of an approved request ("Finish release")
    can_release: bool
    #: send a request whose release failed back to the requester
    can_return_release: bool
    #: findings are shown without the cell values they flag
    hide_values: bool
    #: see the reviewer-only findings (matches with datasets the project is not granted)
    see_reviewer_findings: bool


def abilities(user: User, request: ReleaseRequest, projects: Collection[str]) -> Abilities:
    """What ``user`` can do with ``request``; ``projects`` are the site's project groups."""
    editor = permissions.user_can_edit_request(user, request, projects)
    can_edit = editor and policies.can_edit_files(request)
    reviewer = permissions.user_can_review(user, request)
    return Abilities(
        is_requester=permissions.user_is_requester(user, request),
        can_edit=can_edit,
        can_submit=can_edit and policies.can_submit(request),
        can_withdraw=permissions.user_can_withdraw(user, request)
        and policies.can_withdraw(request),
        can_review=reviewer
        and policies.can_review(request)
        and policies.can_decide(request, user.name),
        can_comment=permissions.user_can_comment(user, request) and policies.can_comment(request),
        can_preview=permissions.user_can_preview_file(user, request),
        can_download=permissions.user_can_download_release(user, request)
        and policies.can_download(request),
        can_release=reviewer and policies.can_finish_release(request),
        can_return_release=reviewer and policies.can_return_release(request),
        hide_values=not permissions.user_can_see_finding_values(user, request),
        see_reviewer_findings=permissions.user_can_see_reviewer_findings(user, request),
    )
