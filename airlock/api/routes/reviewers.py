"""``/api/reviewers``: admins add and remove members of airlock-reviewers, through the hub.

Mounted only when the airlock runs with the hub (``create_app(hub_groups=...)``): without it
there is no group to change.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from airlock import reviewers
from airlock.api.deps import AirlockDep, CurrentUser
from airlock.api.routes.requests import ERRORS
from airlock.permissions import check_user_can_manage_reviewers

router = APIRouter(prefix="/reviewers", tags=["admin"])


@router.get("", response_model=list[str], responses=ERRORS)
def list_reviewers(request: Request, user: CurrentUser):
    """The members of airlock-reviewers, as the hub has them."""
    check_user_can_manage_reviewers(user)
    return sorted(hub_groups(request).members(reviewers.GROUP))


def hub_groups(request: Request) -> reviewers.HubGroups:
    """The hub's groups (these routes exist only when the airlock has them)."""
    return request.app.state.hub_groups


UserName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]


@router.put("/{name}", response_model=list[str], responses=ERRORS)
def add_reviewer(name: UserName, request: Request, user: CurrentUser, airlock: AirlockDep):
    """Make ``name`` a reviewer (audited with who did it; someone who adds themself may review,
    but their approvals do not count)."""
    return sorted(reviewers.change(airlock, user, name, add=True, hub=hub_groups(request)))


@router.delete("/{name}", response_model=list[str], responses=ERRORS)
def remove_reviewer(name: UserName, request: Request, user: CurrentUser, airlock: AirlockDep):
    """Take ``name`` out of the reviewers (audited)."""
    return sorted(reviewers.change(airlock, user, name, add=False, hub=hub_groups(request)))
