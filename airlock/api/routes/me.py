"""``/api/me`` (who you are to the airlock) and ``/api/public-key`` (to verify bundles)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from airlock.api.deps import AirlockDep, CurrentUser
from airlock.api.routes.requests import ERRORS
from airlock.api.schemas import MePublic
from airlock.bundles import public_key_pem

router = APIRouter(tags=["identity"])


@router.get("/me", response_model=MePublic, responses=ERRORS)
def me(user: CurrentUser, airlock: AirlockDep):
    return MePublic(
        name=user.name,
        groups=sorted(user.groups),
        projects=list(user.projects(airlock.settings.projects)),
        researcher=user.is_researcher,
        reviewer=user.is_reviewer,
        admin=user.is_admin,
    )


@router.get(
    "/public-key",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}},
)
def public_key(airlock: AirlockDep):
    """The node's Ed25519 public key (PEM): ``tresor airlock verify B --public-key KEY``."""
    return PlainTextResponse(public_key_pem(airlock.signing_key.public_key()).decode())
