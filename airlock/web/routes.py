"""The reviewer and researcher web UI: server-rendered pages and plain HTML forms.

Login is the hub's OAuth (HubOAuth with PKCE): ``login`` redirects to the hub, the hub sends
the browser back to ``oauth_callback`` with a code, which is exchanged for a token kept in the
session cookie. Pages call the same workflow verbs as the API; errors are shown as a page with
the same status code the API would give.
"""

from __future__ import annotations

import dataclasses
import hmac
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from airlock import permissions, policies, reviewers
from airlock.api.deps import NotAuthenticated, identify
from airlock.api.errors import HubUnavailable
from airlock.api.routes.files import attachment
from airlock.api.routes.params import FileId, RequestId
from airlock.domain import MAX_FILE_NAME, MAX_PATH, MAX_TEXT, ReleaseRequest, User
from airlock.enums import Decision
from airlock.exceptions import InvalidInput, PermissionDenied
from airlock.web.findings import group_findings
from airlock.web.previews import make_diff, make_preview
from airlock.web.sessions import SESSION_COOKIE, STATE_COOKIE, Session
from airlock.workflow import Airlock
from tresor.core.airlock_config import AirlockConfig, MiB

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """No valid session: send the browser to the hub's login."""


@dataclasses.dataclass(frozen=True)
class Web:
    """The signed-in user of a page, with their session and the service."""

    user: User
    session: Session
    airlock: Airlock
    prefix: str


async def web_context(request: Request) -> Web:
    sessions = request.app.state.sessions
    session = sessions.decode(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise LoginRequired()
    try:
        user = await identify(request, session.token)
    except NotAuthenticated:
        raise LoginRequired() from None
    return Web(user, session, request.app.state.airlock, request.app.state.settings.base_url)


WebDep = Annotated[Web, Depends(web_context)]


def _csrf_ok(web: Web, token: str) -> None:
    if not hmac.compare_digest(web.session.csrf, token or ""):
        raise PermissionDenied("this form has expired; reload the page and try again")


def render(request: Request, web: Web | None, template: str, status_code=200, **context):
    context.update(
        request=request,
        user=web.user if web else None,
        csrf=web.session.csrf if web else "",
        prefix=request.app.state.settings.base_url,
        node=request.app.state.settings.node_name,
    )
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)


def _to_request(web: Web, request_id: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"{web.prefix}requests/{request_id}{anchor}", status_code=303)


# -- login ------------------------------------------------------------------------------------
def _safe_next(prefix: str, value: str | None) -> str:
    if value and value.startswith(prefix) and "//" not in value and "\\" not in value:
        return value
    return prefix


@router.get("/login")
def login(request: Request, next: str | None = None):
    auth = request.app.state.hub_auth
    if auth is None:
        raise PermissionDenied("this airlock runs without a hub; sign-in is not available")
    prefix = request.app.state.settings.base_url
    verifier, challenge, method = auth.generate_pkce_code_challenge()
    state = auth.generate_state(_safe_next(prefix, next), code_verifier=verifier)
    query = urlencode(
        {"state": state, "code_challenge": challenge, "code_challenge_method": method}
    )
    response = RedirectResponse(f"{auth.login_url}&{query}", status_code=302)
    response.set_cookie(
        STATE_COOKIE,
        request.app.state.sessions.encode_state(state),
        **request.app.state.sessions.cookie_args(600),
    )
    return response


@router.get("/oauth_callback")
async def oauth_callback(request: Request, code: str = "", state: str = "", error: str = ""):
    auth = request.app.state.hub_auth
    sessions = request.app.state.sessions
    if auth is None or error or not code:
        raise PermissionDenied(f"the hub did not sign you in ({error or 'no code'}); try again")
    if not sessions.state_matches(request.cookies.get(STATE_COOKIE), state):
        raise PermissionDenied("the sign-in expired or came from elsewhere; sign in again")
    next_url = auth.get_next_url(state)
    verifier = auth.get_code_verifier(state)
    auth.clear_oauth_state(state)
    token = await auth.token_for_code(code, code_verifier=verifier, sync=False)
    await identify(request, token)  # refuse tokens that may not use the airlock
    response = RedirectResponse(_safe_next(request.app.state.settings.base_url, next_url), 302)
    response.set_cookie(SESSION_COOKIE, sessions.encode(token), **sessions.cookie_args(43200))
    response.delete_cookie(STATE_COOKIE, path=sessions.path)
    return response


@router.get("/logout")
def logout(request: Request):
    response = RedirectResponse("/hub/logout", status_code=302)
    response.delete_cookie(SESSION_COOKIE, path=request.app.state.sessions.path)
    return response


# -- pages ------------------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def home(request: Request, web: WebDep):
    airlock = web.airlock
    queue = airlock.queue(web.user) if permissions.user_can_see_queue(web.user) else None
    failed = (
        airlock.failed_releases(web.user)
        if permissions.user_can_see_failed_releases(web.user)
        else []
    )
    requests = airlock.list_requests(web.user)
    return render(
        request,
        web,
        "home.html",
        mine=[r for r in requests if r.requester == web.user.name],
        others=[r for r in requests if r.requester != web.user.name],
        queue=queue,
        failed=failed,
        projects=web.user.projects(airlock.settings.projects),
    )


@router.post("/requests")
def create(web: WebDep, project: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""):
    _csrf_ok(web, csrf)
    request = web.airlock.create_request(web.user, project)
    return _to_request(web, request.id)


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_page(request: Request, request_id: RequestId, web: WebDep):
    airlock = web.airlock
    release_request = airlock.get_request(web.user, request_id)
    files = release_request.files
    return render(
        request,
        web,
        "request.html",
        r=release_request,
        groups={f.id: group_findings(f.report["findings"]) for f in files},
        reviewer_groups={f.id: group_findings(f.reviewer_findings) for f in files},
        images={f.id for f in files if f.name.lower().endswith(IMAGE_SUFFIXES)},
        changes=_round_changes(web, release_request),
        **_abilities(web.user, release_request, airlock),
    )


def _round_changes(web: Web, r: ReleaseRequest):
    """What changed since the previous round, for those who preview files."""
    if r.round < 2 or not permissions.user_can_preview_file(web.user, r):
        return None
    return web.airlock.round_changes(web.user, r.id)


#: files shown inline on the request's page (the raw route serves only real images inline)
IMAGE_SUFFIXES = (".png", ".svg")


def _abilities(user: User, r: ReleaseRequest, airlock: Airlock) -> dict:
    """What the page shows: the user's abilities (the API's too), the approvals needed, and
    why no approval can succeed now (Approve is then disabled with that reason)."""
    return {
        **dataclasses.asdict(airlock.abilities(user, r)),
        "approvals_required": airlock.config().approvals_required,
        "approval_refusal": policies.approval_refusal(r),
    }


@router.post("/requests/{request_id}/files")
def add_file(
    request_id: RequestId,
    web: WebDep,
    path: Annotated[str, Form(max_length=MAX_PATH)] = "",
    name: Annotated[str, Form(max_length=MAX_FILE_NAME)] = "",
    description: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    disclosure_control: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    exception: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    csrf: Annotated[str, Form()] = "",
):
    _csrf_ok(web, csrf)
    web.airlock.add_file(
        web.user,
        request_id,
        path=path,
        name=name or None,
        description=description,
        disclosure_control=disclosure_control,
        exception=exception or None,
    )
    return _to_request(web, request_id)


@router.post("/requests/{request_id}/files/{file_id}/edit")
def edit_file(
    request_id: RequestId,
    file_id: FileId,
    web: WebDep,
    description: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    disclosure_control: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    exception: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    refresh: Annotated[bool, Form()] = False,
    csrf: Annotated[str, Form()] = "",
):
    _csrf_ok(web, csrf)
    web.airlock.update_file(
        web.user,
        request_id,
        file_id,
        description=description or None,
        disclosure_control=disclosure_control or None,
        exception=exception,
        refresh=refresh,
    )
    return _to_request(web, request_id, f"#file-{file_id}")


@router.post("/requests/{request_id}/files/{file_id}/remove")
def remove_file(
    request_id: RequestId, file_id: FileId, web: WebDep, csrf: Annotated[str, Form()] = ""
):
    _csrf_ok(web, csrf)
    web.airlock.remove_file(web.user, request_id, file_id)
    return _to_request(web, request_id)


@router.post("/requests/{request_id}/review")
def review(
    request_id: RequestId,
    web: WebDep,
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    acknowledge: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    csrf: Annotated[str, Form()] = "",
):
    _csrf_ok(web, csrf)
    try:
        chosen = Decision(decision)
    except ValueError:
        raise InvalidInput("choose approve, return or reject") from None
    web.airlock.decide(web.user, request_id, chosen, reason=reason, acknowledge=acknowledge)
    return _to_request(web, request_id)


@router.post("/requests/{request_id}/comments")
def comment(
    request_id: RequestId,
    web: WebDep,
    body: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    file_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
    csrf: Annotated[str, Form()] = "",
):
    _csrf_ok(web, csrf)
    web.airlock.comment(web.user, request_id, body, file_id=file_id)
    if file_id is not None:
        return RedirectResponse(f"{web.prefix}requests/{request_id}/files/{file_id}", 303)
    return _to_request(web, request_id, "#comments")


@router.post("/requests/{request_id}/return")
def return_release(
    request_id: RequestId,
    web: WebDep,
    reason: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    csrf: Annotated[str, Form()] = "",
):
    _csrf_ok(web, csrf)
    web.airlock.return_release(web.user, request_id, reason=reason)
    return _to_request(web, request_id)


# registered after /review, /comments and /return, which it would otherwise shadow
@router.post("/requests/{request_id}/{action}")
def request_action(
    request_id: RequestId, action: str, web: WebDep, csrf: Annotated[str, Form()] = ""
):
    _csrf_ok(web, csrf)
    verbs = {
        "submit": web.airlock.submit,
        "withdraw": web.airlock.withdraw,
        "release": web.airlock.release,
    }
    if action not in verbs:
        raise InvalidInput(f"unknown action {action!r}")
    verbs[action](web.user, request_id)
    return _to_request(web, request_id)


@router.get("/requests/{request_id}/files/{file_id}", response_class=HTMLResponse)
def file_page(
    request: Request,
    request_id: RequestId,
    file_id: FileId,
    web: WebDep,
    sort: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    desc: bool = False,
):
    """A reviewer's view of one file: the preview beside the findings (audited); a table
    sorted by its ``sort``-th column (1-based) when asked."""
    content = web.airlock.view_file(web.user, request_id, file_id, how="preview")
    findings = [*content.file.report["findings"], *content.file.reviewer_findings]  # reviewers'
    order = (sort - 1, desc) if sort else None
    preview = make_preview(content.file.name, content.data, findings, order)
    before = web.airlock.previous_version(web.user, request_id, file_id)
    ids = [f.id for f in content.request.files]
    at = ids.index(file_id)
    return render(
        request,
        web,
        "file.html",
        r=content.request,
        f=content.file,
        preview=preview,
        groups=group_findings(content.file.report["findings"], first=20),
        reviewer_groups=group_findings(content.file.reviewer_findings, first=20),
        diff=None if before is None else make_diff(before, content.data, content.file.name),
        previous_round=content.request.round - 1,
        previous_file=ids[at - 1] if at > 0 else None,
        next_file=ids[at + 1] if at + 1 < len(ids) else None,
        comments=[c for c in content.request.comments if c.file_id == file_id],
        **_abilities(web.user, content.request, web.airlock),
    )


@router.get("/requests/{request_id}/files/{file_id}/raw")
def file_raw(request_id: RequestId, file_id: FileId, web: WebDep, inline: bool = False):
    """The bytes for a reviewer: images inline for the preview, anything else as a download."""
    content = web.airlock.view_file(web.user, request_id, file_id, how="raw")
    preview_type = make_preview(content.file.name, content.data[:65536], []).image_type
    if inline and preview_type:
        return Response(
            content=content.data,
            media_type=preview_type,
            headers={
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            },
        )
    return attachment(content.data, content.file.name)


@router.get("/requests/{request_id}/files/{file_id}/download")
def download(request_id: RequestId, file_id: FileId, web: WebDep):
    content = web.airlock.download(web.user, request_id, file_id)
    return attachment(content.data, content.file.name)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, web: WebDep, after: int = 0):
    entries = web.airlock.audit_entries(web.user, after=max(0, min(after, 2**31 - 1)), limit=200)
    report = web.airlock.verify_audit(web.user)
    return render(request, web, "audit.html", entries=entries, report=report)


@router.get("/config", response_class=HTMLResponse)
def config_page(request: Request, web: WebDep):
    permissions.check_user_can_configure(web.user)
    bounds = {name: AirlockConfig.bounds(name) for name in AirlockConfig.ADMIN_SETTINGS}
    for mb, name in (("max_file_mb", "max_file_bytes"),
                     ("max_summary_statistics_mb", "max_summary_statistics_bytes")):  # fmt: skip
        low, high = AirlockConfig.bounds(name)
        bounds[mb] = (max(1, low // MiB), high // MiB)
    hub = request.app.state.hub_groups
    members = sorted(hub.members(reviewers.GROUP)) if hub is not None else []
    self_made = web.airlock.self_appointed_reviewers(web.user)
    return render(
        request,
        web,
        "config.html",
        config=web.airlock.config(),
        bounds=bounds,
        reviewers=members,
        self_appointed=self_made,
    )


@router.post("/reviewers")
def reviewers_update(
    request: Request,
    web: WebDep,
    name: Annotated[str, Form()],
    action: Annotated[str, Form(pattern="^(add|remove)$")],
    csrf: Annotated[str, Form()] = "",
):
    """Add or remove a member of airlock-reviewers through the hub (audited)."""
    _csrf_ok(web, csrf)
    hub = request.app.state.hub_groups
    if hub is None:
        raise HubUnavailable("this airlock runs without the hub, which keeps the reviewers")
    reviewers.change(web.airlock, web.user, name.strip(), add=action == "add", hub=hub)
    return RedirectResponse(f"{web.prefix}config", status_code=303)


@router.post("/config")
def config_update(
    web: WebDep,
    approvals_required: Annotated[int, Form()],
    max_file_mb: Annotated[int, Form()],
    max_files_per_request: Annotated[int, Form()],
    max_summary_statistics_mb: Annotated[int | None, Form()] = None,
    csrf: Annotated[str, Form()] = "",
):
    """Validated by set_config, through the one declaration of the limits (422 when out of
    bounds, as the API)."""
    _csrf_ok(web, csrf)
    web.airlock.set_config(
        web.user,
        approvals_required=approvals_required,
        max_file_bytes=max_file_mb * MiB,
        max_files_per_request=max_files_per_request,
        **(
            {"max_summary_statistics_bytes": max_summary_statistics_mb * MiB}
            if max_summary_statistics_mb is not None
            else {}
        ),
    )
    return RedirectResponse(f"{web.prefix}config", status_code=303)


def login_redirect(request: Request) -> Response:
    prefix = request.app.state.settings.base_url
    if request.method != "GET":
        return HTMLResponse("Your session has expired: sign in again.", status_code=401)
    return RedirectResponse(f"{prefix}login?next={quote(request.url.path)}", status_code=302)
