"""The coordinator's HTTP API (FastAPI).

Researchers (``Authorization: Bearer <token>``, accounts made by ``tresor federation users
add``): ``POST /api/requests``, ``GET /api/requests``, ``GET /api/requests/{id}``,
``GET /api/requests/{id}/crate``, ``GET /api/requests/{id}/result`` (a tar archive).

Node agents, every call signed with their registered agent key (tresor.federation.signing):
``POST /api/node/poll`` (their status reports in, their unanswered signed crates out) and
``POST /api/node/requests/{id}/bundle`` (a released, signed bundle as a tar archive).

``GET /api/federation``: the federation's name and members (no secrets), for a quick check.
"""

from __future__ import annotations

import datetime as dt
import io
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field

from tresor.core.bundles import ARCHIVE_MEDIA_TYPE
from tresor.core.errors import TresorError
from tresor.federation.coordinator.service import (
    Account,
    Coordinator,
    CoordinatorError,
    RequestView,
    StatusReport,
)
from tresor.federation.coordinator.states import REPORTABLE, TargetStatus
from tresor.federation.crate import Target
from tresor.federation.signing import SignedCall
from tresor.federation.verify import BundleRefused

#: the largest bundle archive a node may upload
MAX_BUNDLE_BYTES = 1 << 30

_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"
RequestId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetIn(_In):
    node: str = Field(pattern=_NAME)
    dataset: str = Field(pattern=_NAME)


class RequestCreate(_In):
    project: str = Field(pattern=_NAME, description="one of your coordinator projects")
    analysis: str = Field(pattern=_NAME, description="a registered analysis")
    parameters: dict[str, Any] = {}
    targets: list[TargetIn] = Field(min_length=1, max_length=100)


class StatusIn(_In):
    request_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    status: Literal[tuple(sorted(REPORTABLE))]  # type: ignore[valid-type]
    reason: str = Field("", max_length=2000)


class PollIn(_In):
    statuses: list[StatusIn] = Field([], max_length=1000)


class TargetPublic(BaseModel):
    node: str
    dataset: str
    status: str
    reason: str
    updated_at: dt.datetime
    manifest_sha256: str | None


class RequestPublic(BaseModel):
    id: str
    created_at: dt.datetime
    requester: str
    project: str
    analysis: str
    analysis_version: str
    parameters: dict[str, Any]
    crate_sha256: str
    state: str
    message: str
    merged_at: dt.datetime | None
    targets: list[TargetPublic]

    @classmethod
    def of(cls, view: RequestView) -> RequestPublic:
        import dataclasses

        return cls.model_validate(dataclasses.asdict(view))


class PendingPublic(BaseModel):
    request_id: str
    status: str
    crate: dict[str, str] = Field(description="the signed crate (tresor-signed-crate/1)")


class PollPublic(BaseModel):
    requests: list[PendingPublic]
    ignored: list[str]


class ReceivedPublic(BaseModel):
    request_id: str
    node: str
    manifest_sha256: str


_bearer = APIKeyHeader(name="Authorization", auto_error=False)


def _token(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() in ("bearer", "token") and token.strip() else None


def coordinator(request: Request) -> Coordinator:
    return request.app.state.coordinator


CoordinatorDep = Annotated[Coordinator, Depends(coordinator)]


def researcher(request: Request, authorization: Annotated[str | None, Depends(_bearer)]) -> Account:
    return request.app.state.coordinator.authenticate(_token(authorization))


async def signed_node(request: Request) -> SignedCall:
    """A node's call: its agent key's signature over method, path, body, time and nonce."""
    body = await request.body()
    path = request.scope.get("root_path", "") + request.scope["path"]
    if query := request.scope.get("query_string", b"").decode():
        path = f"{path}?{query}"
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(  # the nonce is written to the database
        request.app.state.coordinator.authenticate_call,
        request.headers,
        request.method,
        path,
        body,
    )


Researcher = Annotated[Account, Depends(researcher)]
Node = Annotated[SignedCall, Depends(signed_node)]

ERRORS = {
    401: {"description": "no token or signature, or one the coordinator refuses"},
    403: {"description": "not yours"},
    404: {"description": "no such request"},
    409: {"description": "not possible in the request's state"},
    422: {"description": "invalid input, or a bundle refused (the detail says which check)"},
}

research = APIRouter(prefix="/api/requests", tags=["researchers"])
nodes = APIRouter(prefix="/api/node", tags=["nodes"])


@research.post(
    "", response_model=RequestPublic, status_code=status.HTTP_201_CREATED, responses=ERRORS
)
def create_request(body: RequestCreate, account: Researcher, c: CoordinatorDep):
    """Ask the named nodes to run a registered analysis; the coordinator signs it as a Five
    Safes RO-Crate and queues it for each node's agent."""
    view = c.create_request(
        account,
        project=body.project,
        analysis=body.analysis,
        parameters=body.parameters,
        targets=[Target(t.node, t.dataset) for t in body.targets],
    )
    return RequestPublic.of(view)


@research.get("", response_model=list[RequestPublic], responses=ERRORS)
def list_requests(account: Researcher, c: CoordinatorDep):
    return [RequestPublic.of(v) for v in c.list_requests(account)]


@research.get("/{request_id}", response_model=RequestPublic, responses=ERRORS)
def get_request(request_id: RequestId, account: Researcher, c: CoordinatorDep):
    return RequestPublic.of(c.get_request(account, request_id))


@research.get("/{request_id}/crate", responses=ERRORS)
def get_crate(request_id: RequestId, account: Researcher, c: CoordinatorDep) -> dict[str, str]:
    """The signed request crate (what nodes verify and run)."""
    return c.signed_crate(request_id, account).to_json()


@research.get(
    "/{request_id}/result",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {ARCHIVE_MEDIA_TYPE: {}}}},
)
def get_result(request_id: RequestId, account: Researcher, c: CoordinatorDep):
    """The merged result (every file the merge wrote) as a tar archive."""
    directory = c.result_dir(account, request_id)
    return Response(
        content=pack_directory(directory, request_id),
        media_type=ARCHIVE_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{request_id}.tar"'},
    )


@nodes.post("/poll", response_model=PollPublic, responses=ERRORS)
def poll(body: PollIn, call: Node, c: CoordinatorDep):
    """The node's status reports in; its unanswered requests (signed crates) out."""
    reports = [StatusReport(s.request_id, TargetStatus(s.status), s.reason) for s in body.statuses]
    pending, ignored = c.poll(call.node, reports)
    return PollPublic(
        requests=[PendingPublic(request_id=p.request_id, status=p.status, crate=p.crate.to_json())
                  for p in pending],
        ignored=ignored,
    )  # fmt: skip


@nodes.post("/requests/{request_id}/bundle", response_model=ReceivedPublic, responses=ERRORS)
async def upload_bundle(request_id: RequestId, request: Request, call: Node, c: CoordinatorDep):
    """A released bundle of the calling node (tar archive of manifest.json, manifest.sig and
    files/), verified against the registry and the request before it counts."""
    from starlette.concurrency import run_in_threadpool

    archive = await request.body()
    if len(archive) > MAX_BUNDLE_BYTES:
        raise BundleRefused("size", f"bundle archives are at most {MAX_BUNDLE_BYTES} bytes")
    verified = await run_in_threadpool(
        c.receive_bundle, request_id, archive, poster=call.node, actor=f"node:{call.node}"
    )
    return ReceivedPublic(
        request_id=request_id, node=verified.node, manifest_sha256=verified.manifest_sha256
    )


def pack_directory(directory: Path, name: str) -> bytes:
    """Every regular file under ``directory`` in a tar archive under ``name/``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(p for p in directory.rglob("*") if p.is_file() and not p.is_symlink()):
            tar.add(path, arcname=f"{name}/{path.relative_to(directory).as_posix()}")
    return buffer.getvalue()


def discovery_routers(c: Coordinator) -> list[APIRouter]:
    """The Beacon v2 API (``/beacon``) and the portal (``/portal``) over the summaries nodes
    released (registered analysis ``allele_frequency_summary``); docs/discovery.md."""
    from tresor.discovery import beacon, portal
    from tresor.federation.coordinator.budget import DatabaseDailyCounts

    def releases() -> list[beacon.Release]:
        return [
            beacon.Release(node, c.registry.nodes[node].country, directory, at.isoformat(), sha)
            for node, _, directory, at, sha in c.released_outputs(beacon.ANALYSIS)
            if node in c.registry.nodes
        ]

    summaries = beacon.ReleasedSummaries(releases)
    access = c.settings.beacon_access()
    # one budget for the Beacon and the portal's lookups, its daily counts in the database
    budget = beacon.Budget(access, days=DatabaseDailyCounts(c.store))

    def identify(request: Request) -> str | None:
        token = _token(request.headers.get("Authorization"))
        if token is None:
            return None
        try:
            return c.authenticate(token).name
        except CoordinatorError:
            raise beacon.BeaconError(401, "the coordinator does not know this token") from None

    federation = c.registry.federation
    info = beacon.BeaconInfo(
        id=f"org.tresor.{federation}",
        name=f"{federation} allele-frequency beacon",
        organization=f"{federation} coordinator",
        description=(
            "Allele frequencies per node from summaries each node released through its airlock"
        ),
    )
    return [
        beacon.router(summaries, info, access=access, identify=identify, budget=budget),
        portal.router(
            summaries, federation=federation, access=access, identify=identify, budget=budget
        ),
    ]


def create_app(c: Coordinator) -> FastAPI:
    from tresor.core.version import __version__

    app = FastAPI(
        title="tresor federation coordinator",
        version=__version__,
        summary="Queue signed federated requests; receive, verify and merge nodes' bundles.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.coordinator = c
    app.include_router(research)
    app.include_router(nodes)
    for router in discovery_routers(c):
        app.include_router(router)

    @app.get("/api/federation")
    def federation() -> dict[str, Any]:
        return {"federation": c.registry.federation, "nodes": sorted(c.registry.nodes)}

    @app.exception_handler(CoordinatorError)
    async def _refused(request: Request, error: CoordinatorError):
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return JSONResponse(
            {"detail": str(error), "error": type(error).__name__}, error.status, headers=headers
        )

    @app.exception_handler(BundleRefused)
    async def _bundle(request: Request, error: BundleRefused):
        return JSONResponse({"detail": str(error), "check": error.check}, 422)

    @app.exception_handler(TresorError)
    async def _tresor(request: Request, error: TresorError):
        return JSONResponse({"detail": str(error), "error": type(error).__name__}, 400)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError):
        from fastapi.encoders import jsonable_encoder

        problems = jsonable_encoder(error.errors(), custom_encoder={bytes: lambda b: "<bytes>"})
        return JSONResponse({"detail": problems}, 422)

    return app


def serve(c: Coordinator, host: str, port: int) -> None:
    """Run the coordinator: merges in one background thread, uvicorn in front."""
    import uvicorn

    merges = ThreadPoolExecutor(max_workers=1, thread_name_prefix="merge")
    c.run_later = merges.submit
    for line in c.recover():
        print(f"recovery: {line}", flush=True)
    try:
        uvicorn.run(create_app(c), host=host, port=port, log_level="info", proxy_headers=False)
    finally:
        merges.shutdown(wait=True)
        c.close()
