"""The node's own Beacon for its researchers (``tresor discovery beacon``, a hub service).

The same Beacon v2 API as the coordinator's (:func:`tresor.discovery.beacon.router`), over the
summaries ``tresor discovery summarize`` computed on this node (``<state_dir>/discovery``, one
directory per dataset, with the disclosure rules and floor of the released summaries), served
at ``/services/beacon/`` behind the hub. Every endpoint wants a hub token that holds
``access:services!service=beacon``, which researchers and their servers' tokens have
(tresor.node.roles): a kernel queries it with its ``JUPYTERHUB_API_TOKEN``. No anonymous
access; each researcher has the ``[discovery]`` daily budget and rate, counted in memory (a
restart of the service renews the day). A refreshed summary is served from the next query on.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from fastapi import Depends, FastAPI, Request

from tresor.core.site import BEACON_SERVICE, SiteConfig
from tresor.discovery import beacon

log = logging.getLogger(__name__)

#: the scope a token needs (JupyterHub's access scope for this service)
ACCESS_SCOPE = f"access:services!service={BEACON_SERVICE}"
PREFIX = f"/services/{BEACON_SERVICE}"


class Identity(Protocol):
    """Who holds a token: the hub's model (``kind``, ``name``, ``scopes``), or None."""

    async def user_for_token(self, token: str) -> dict[str, Any] | None: ...


class HubIdentity:
    """Tokens checked with the hub (:class:`jupyterhub.services.auth.HubAuth`, cached a minute)."""

    def __init__(self, api_token: str) -> None:
        from jupyterhub.services.auth import HubAuth

        self.auth = HubAuth(api_token=api_token, cache_max_age=60)

    async def user_for_token(self, token: str) -> dict[str, Any] | None:
        try:
            return await self.auth.user_for_token(token, sync=False)
        except Exception as e:  # tornado's HTTPError when the hub does not answer
            log.warning("the hub could not identify a token: %s", e)
            raise beacon.BeaconError(503, "the hub could not say who you are; try again") from None


def local_releases(directory: Path, node: str) -> Callable[[], list[beacon.Release]]:
    """The summaries under ``directory`` (``<dataset>/manifest.json``; hidden directories are
    refreshes in progress), each known by its manifest's path and time, so a refresh is a new
    release."""

    def releases() -> list[beacon.Release]:
        found = []
        for manifest in sorted(Path(directory).glob("*/manifest.json")):
            if manifest.parent.name.startswith("."):
                continue
            written = manifest.stat().st_mtime_ns
            at = dt.datetime.fromtimestamp(written / 1e9, dt.UTC).isoformat()
            found.append(
                beacon.Release(node, "", manifest.parent, at, f"{manifest.parent}@{written}")
            )
        return found

    return releases


def _token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() in ("token", "bearer") and token.strip() else None


def create_app(
    summaries: beacon.Summaries,
    info: beacon.BeaconInfo,
    *,
    access: beacon.Access,
    identity: Identity,
    prefix: str = PREFIX,
) -> FastAPI:
    """The Beacon under ``prefix``, every endpoint for researchers' hub tokens only."""
    from jupyterhub.services.auth import check_scopes

    async def researcher(request: Request) -> None:
        token = _token(request)
        if token is None:
            raise beacon.BeaconError(
                401, "this Beacon is for the node's researchers: send your hub token "
                "(Authorization: token $JUPYTERHUB_API_TOKEN)"
            )  # fmt: skip
        model = await identity.user_for_token(token)
        if model is None:
            raise beacon.BeaconError(401, "the hub does not know this token")
        if model.get("kind", "user") != "user":
            raise beacon.BeaconError(403, "only the node's researchers use its Beacon")
        if not check_scopes({ACCESS_SCOPE}, set(model.get("scopes") or ())):
            raise beacon.BeaconError(403, f"this token does not allow {ACCESS_SCOPE}")
        request.state.caller = model["name"]

    app = FastAPI(title=info.name, docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(
        beacon.router(
            summaries,
            info,
            access=access,
            identify=lambda request: request.state.caller,
            prefix=prefix.rstrip("/"),
        ),
        dependencies=[Depends(researcher)],
    )

    @app.exception_handler(beacon.BeaconError)
    async def _refused(request: Request, error: beacon.BeaconError):
        return beacon.error_response(info, error.status, str(error))

    return app


def site_app(site: SiteConfig, identity: Identity) -> FastAPI:
    """The node's Beacon as its site config sets it."""
    d = site.discovery
    access = beacon.Access(
        anonymous_granularity="boolean",  # never used: every caller is a researcher
        authenticated_granularity="record",
        daily_budget=d.daily_budget,
        per_minute=d.per_minute,
    )
    info = beacon.BeaconInfo(
        id=f"org.tresor.node.{site.node_name}",
        name=f"tresor node {site.node_name} allele-frequency beacon",
        organization=f"tresor node {site.node_name}",
        description="Allele frequencies of this node's datasets, for its researchers, from "
        "summaries computed on the node under the discovery disclosure rules",
    )
    summaries = beacon.ReleasedSummaries(local_releases(site.discovery_path, site.node_name))
    return create_app(summaries, info, access=access, identity=identity)


def serve(site: SiteConfig) -> None:
    """Run as the hub starts it: its token and the hub's API from the environment."""
    import uvicorn

    token = os.environ.get("JUPYTERHUB_API_TOKEN")
    if not token:
        raise SystemExit(
            "the node's Beacon runs as a hub service: enable [discovery] in the site config "
            "and start the node (tresor node start), which starts it with its token"
        )
    app = site_app(site, HubIdentity(token))
    uvicorn.run(app, host="127.0.0.1", port=site.discovery.port, log_level="info",
                proxy_headers=False)  # fmt: skip
