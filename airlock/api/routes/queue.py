"""``/api/queue``: what waits for review, for airlock reviewers."""

from __future__ import annotations

from fastapi import APIRouter

from airlock.api.deps import AirlockDep, CurrentUser
from airlock.api.routes.requests import ERRORS
from airlock.api.schemas import QueuePublic, RequestSummary

router = APIRouter(prefix="/queue", tags=["review"])


@router.get("", response_model=QueuePublic, responses=ERRORS)
def queue(user: CurrentUser, airlock: AirlockDep):
    """Requests you may review that wait for a decision, oldest first."""
    waiting = airlock.queue(user)
    return QueuePublic(count=len(waiting), requests=[RequestSummary.of(r) for r in waiting])
