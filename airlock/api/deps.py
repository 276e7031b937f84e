"""FastAPI dependencies: the service, and the current user as the hub says (HubOAuth).

Every request is identified by a hub token: the API takes it from ``Authorization: token ...``
(a researcher's notebook uses its server's ``JUPYTERHUB_API_TOKEN``), the web UI from its
encrypted session cookie (airlock.web.sessions). The hub answers with the user's name, groups
and the token's scopes; the token must carry ``access:services!service=airlock``, which the hub
grants through the roles in tresor.node.roles. One hub service is let in: the node's federation
agent (``[federation]`` of the site config), which acts as the node's federation account with
that account's groups from the site config; every other service is refused.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader
from jupyterhub.services.auth import HubOAuth, check_scopes

from airlock.api.errors import HubUnavailable
from airlock.config import Settings
from airlock.domain import User
from airlock.exceptions import PermissionDenied
from airlock.workflow import Airlock

log = logging.getLogger(__name__)

#: the scope that lets a token use this service (JupyterHub's access scope for services)
ACCESS_SCOPE = "access:services!service=airlock"


class NotAuthenticated(Exception):
    """No token, or one the hub does not recognise."""


class IdentityProvider(Protocol):
    """Who owns a token: the hub's user model (``name``, ``groups``, ``scopes``) or None."""

    async def user_for_token(self, token: str) -> dict[str, Any] | None: ...


class HubIdentity:
    """Identity from the hub through :class:`jupyterhub.services.auth.HubOAuth`."""

    def __init__(self, auth: HubOAuth) -> None:
        self.auth = auth

    async def user_for_token(self, token: str) -> dict[str, Any] | None:
        try:
            return await self.auth.user_for_token(token, sync=False)
        except Exception as e:  # tornado.web.HTTPError from HubAuth when the hub is down
            log.warning("the hub could not identify a token: %s", e)
            raise HubUnavailable(
                "the hub could not confirm who you are; try again in a minute"
            ) from None


def user_from_model(
    model: dict[str, Any], access_scopes: set[str], settings: Settings | None = None
) -> User:
    """A :class:`User` from the hub's user model, if the token may use the airlock. The
    federation agent's service token (``settings.federation_service``) is the federation
    account, with that account's groups from the site config."""
    kind = model.get("kind", "user")
    agent = settings is not None and settings.federation_service is not None
    if kind == "service" and agent and model.get("name") == settings.federation_service:
        user = User(
            settings.federation_account,
            frozenset(settings.federation_groups),
            federation_agent=True,
        )
    elif kind != "user":
        raise PermissionDenied("only hub users use the airlock, not services")
    else:
        user = User(name=model["name"], groups=frozenset(model.get("groups") or ()))
    if not check_scopes(access_scopes, set(model.get("scopes") or ())):
        raise PermissionDenied(
            f"this token does not allow access to the airlock ({', '.join(sorted(access_scopes))})"
        )
    return user


async def identify(request: Request, token: str | None) -> User:
    """The user behind ``token``; NotAuthenticated when there is none or the hub refuses it."""
    if not token:
        raise NotAuthenticated("no token")
    identity: IdentityProvider = request.app.state.identity
    model = await identity.user_for_token(token)
    if model is None:
        raise NotAuthenticated("the hub does not know this token")
    return user_from_model(model, request.app.state.access_scopes, request.app.state.settings)


_token_header = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    description="A JupyterHub API token: `token <TOKEN>` (or `Bearer <TOKEN>`)",
)


def _token_from_header(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() in ("token", "bearer") and token.strip():
        return token.strip()
    return None


async def api_user(request: Request, authorization: Annotated[str | None, Depends(_token_header)]):
    return await identify(request, _token_from_header(authorization))


def get_airlock(request: Request) -> Airlock:
    return request.app.state.airlock


CurrentUser = Annotated[User, Depends(api_user)]
AirlockDep = Annotated[Airlock, Depends(get_airlock)]
