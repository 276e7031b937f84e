"""Assemble the airlock service: workflow, REST API, web UI, identity, error pages.

``build_airlock(settings)`` opens the (already migrated) database and the stores;
``create_app(airlock, identity=...)`` returns the ASGI app. The identity provider is the hub
(:class:`~airlock.api.deps.HubIdentity`) in a running node; tests without a hub pass their own.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware

from airlock.api.deps import ACCESS_SCOPE, IdentityProvider, NotAuthenticated
from airlock.api.errors import status_for
from airlock.api.routes import admin, me, queue, requests
from airlock.api.routes import reviewers as reviewer_routes
from airlock.checking import Checker, node_checker
from airlock.config import Settings
from airlock.db.data_access import DataAccess
from airlock.db.engine import make_engine
from airlock.db.schema import is_current
from airlock.exceptions import AirlockError
from airlock.samples import CatalogueSamples, SampleIdProvider
from airlock.web import routes as web
from airlock.web.sessions import Sessions
from airlock.workflow import Airlock

PAGE_CSP = (
    "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'none'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def build_airlock(
    settings: Settings,
    *,
    checker: Checker | None = None,
    samples: SampleIdProvider | None = None,
) -> Airlock:
    """The workflow over the settings' database and directories (migrated beforehand), with
    the node's disclosure checks and the sample IDs of its catalogue unless given others."""
    engine = make_engine(settings.database_url)
    if not is_current(engine):
        raise RuntimeError(
            "the airlock database is not at the newest schema; run: python -m airlock migrate"
        )
    return Airlock(
        settings=settings,
        dal=DataAccess(engine, settings.defaults),
        checker=checker or node_checker,
        samples=samples or CatalogueSamples(settings.catalogue_dir),
    )


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response


def create_app(
    airlock: Airlock,
    *,
    identity: IdentityProvider,
    sessions: Sessions,
    hub_auth=None,
    access_scopes: set[str] | None = None,
    hub_groups=None,
) -> FastAPI:
    settings = airlock.settings
    prefix = settings.base_url
    api_prefix = f"{prefix}api"
    app = FastAPI(
        title="tresor airlock",
        version=_version(),
        summary="Release outputs from a tresor node: checks, two reviewers, signed bundles.",
        openapi_url=f"{api_prefix}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.airlock = airlock
    app.state.settings = settings
    app.state.identity = identity
    app.state.hub_auth = hub_auth
    app.state.hub_groups = hub_groups  # airlock.reviewers.HubGroups: the reviewers group
    app.state.sessions = sessions
    app.state.access_scopes = access_scopes or {ACCESS_SCOPE}

    api = APIRouter(prefix=api_prefix)
    for module in (me, requests, queue, admin):
        api.include_router(module.router)
    if hub_groups is not None:  # reviewers are the hub's group: managed only through it
        api.include_router(reviewer_routes.router)
    app.include_router(api)
    app.include_router(web.router, prefix=prefix.rstrip("/"))
    app.mount(
        f"{prefix}static",
        StaticFiles(directory=Path(web.__file__).parent / "static"),
        name="static",
    )
    app.add_middleware(SecurityHeaders)

    def is_api(request: Request) -> bool:
        return request.url.path.startswith(api_prefix)

    @app.exception_handler(AirlockError)
    async def _airlock_error(request: Request, error: AirlockError):
        code = status_for(error)
        if is_api(request):
            return JSONResponse({"detail": str(error), "error": type(error).__name__}, code)
        return web.render(request, None, "error.html", code, title=_title(code), message=str(error))

    @app.exception_handler(NotAuthenticated)
    async def _not_authenticated(request: Request, error: NotAuthenticated):
        if is_api(request):
            return JSONResponse(
                {"detail": f"sign in with a hub token: {error}"},
                401,
                headers={"WWW-Authenticate": "token"},
            )
        return web.login_redirect(request)

    @app.exception_handler(web.LoginRequired)
    async def _login(request: Request, error: web.LoginRequired):
        return web.login_redirect(request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError):
        if is_api(request):
            return JSONResponse({"detail": _jsonable(error.errors())}, 422)
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        return web.render(request, None, "error.html", 422, title=_title(422), message=problems)

    return app


def _jsonable(errors) -> list:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(errors, custom_encoder={bytes: lambda b: b.decode("latin-1")})


def _title(code: int) -> str:
    return {
        401: "Please sign in",
        403: "Not allowed",
        404: "Not found",
        409: "Not possible now",
        422: "Please check what you entered",
        503: "Try again shortly",
    }.get(code, "Something went wrong")


def _version() -> str:
    from tresor.core.version import __version__

    return __version__
