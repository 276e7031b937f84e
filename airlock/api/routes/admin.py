"""``/api/audit`` and ``/api/config``: for node admins; ``/api/failed-releases``: for admins
and reviewers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from airlock.api.deps import AirlockDep, CurrentUser
from airlock.api.routes.requests import ERRORS
from airlock.api.schemas import (
    AuditEntryPublic,
    AuditVerifyPublic,
    ConfigPublic,
    ConfigUpdate,
    RequestSummary,
)

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
    """Recompute the hash chain and check it against the signed checkpoints and the released
    bundles' signed heads: ``ok`` is false if any entry was edited, deleted or moved, even with
    every later hash recomputed."""
    report = airlock.verify_audit(user)
    return AuditVerifyPublic(
        ok=report.ok,
        entries=report.entries,
        head=report.head,
        problems=list(report.problems),
        first_bad_entry=report.first_bad,
        notes=list(report.notes),
    )


@router.get("/failed-releases", response_model=list[RequestSummary], responses=ERRORS)
def failed_releases(user: CurrentUser, airlock: AirlockDep):
    """Requests whose release failed, with the reason (reviewers and admins)."""
    return [RequestSummary.of(r) for r in airlock.failed_releases(user)]


@router.get("/config", response_model=ConfigPublic, responses=ERRORS)
def get_config(user: CurrentUser, airlock: AirlockDep):
    from airlock.permissions import check_user_can_configure

    check_user_can_configure(user)
    return airlock.config()


@router.patch("/config", response_model=ConfigPublic, responses=ERRORS)
def update_config(body: ConfigUpdate, user: CurrentUser, airlock: AirlockDep):
    """Change run-time settings (audited). Two approvals is the least the airlock allows."""
    return airlock.set_config(user, **body.model_dump(exclude_none=True))
