"""``/api/audit``, ``/api/config`` and ``/api/reviewers``: for node admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from airlock import reviewers
from airlock.api.deps import AirlockDep, CurrentUser
from airlock.api.errors import HubUnavailable
from airlock.api.routes.requests import ERRORS
from airlock.api.schemas import AuditEntryPublic, AuditVerifyPublic, ConfigPublic, ConfigUpdate
from airlock.permissions import check_user_can_manage_reviewers

router = APIRouter(tags=["admin"])


@router.get("/audit", response_model=list[AuditEntryPublic], responses=ERRORS)
def audit_log(
    user: CurrentUser,
    airlock: AirlockDep,
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    request_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{16}$")] = None,
):
    """Audit entries after sequence number ``after``, in order."""
    entries = airlock.audit_entries(user, after=after, limit=limit, request_id=request_id)
    return [AuditEntryPublic.of(e) for e in entries]


@router.get("/audit/verify", response_model=AuditVerifyPublic, responses=ERRORS)
def audit_verify(user: CurrentUser, airlock: AirlockDep):
    """Recompute the hash chain: ``ok`` is false if any entry was edited, deleted or moved."""
    report = airlock.verify_audit(user)
    return AuditVerifyPublic(
        ok=report.ok, entries=report.entries, head=report.head, problems=list(report.problems)
    )


@router.get("/config", response_model=ConfigPublic, responses=ERRORS)
def get_config(user: CurrentUser, airlock: AirlockDep):
    from airlock.permissions import check_user_can_configure

    check_user_can_configure(user)
    return airlock.config()


@router.patch("/config", response_model=ConfigPublic, responses=ERRORS)
def update_config(body: ConfigUpdate, user: CurrentUser, airlock: AirlockDep):
    """Change run-time settings (audited). Two approvals is the least the airlock allows."""
    return airlock.set_config(user, **body.model_dump(exclude_none=True))


@router.get("/reviewers", response_model=list[str], responses=ERRORS)
def list_reviewers(request: Request, user: CurrentUser):
    """The members of airlock-reviewers, as the hub has them."""
    check_user_can_manage_reviewers(user)
    return sorted(hub_groups(request).members(reviewers.GROUP))


def hub_groups(request: Request) -> reviewers.HubGroups:
    """The hub's groups; 503 for an airlock started without the hub (tests, tools)."""
    hub = request.app.state.hub_groups
    if hub is None:
        raise HubUnavailable("this airlock runs without the hub, which keeps the reviewers")
    return hub


UserName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]


@router.put("/reviewers/{name}", response_model=list[str], responses=ERRORS)
def add_reviewer(name: UserName, request: Request, user: CurrentUser, airlock: AirlockDep):
    """Make ``name`` a reviewer (audited with who did it; someone who adds themself may review,
    but their approvals do not count)."""
    return sorted(reviewers.change(airlock, user, name, add=True, hub=hub_groups(request)))


@router.delete("/reviewers/{name}", response_model=list[str], responses=ERRORS)
def remove_reviewer(name: UserName, request: Request, user: CurrentUser, airlock: AirlockDep):
    """Take ``name`` out of the reviewers (audited)."""
    return sorted(reviewers.change(airlock, user, name, add=False, hub=hub_groups(request)))
