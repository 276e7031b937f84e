"""``/api/requests``: a researcher's requests, their files, and the reviewers' decisions."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import Response

from airlock.api.deps import AirlockDep, CurrentUser
from airlock.api.routes.files import attachment
from airlock.api.routes.params import FileId, RequestId
from airlock.api.schemas import (
    CommentCreate,
    FileCreate,
    FilePublic,
    FileUpdate,
    RequestCreate,
    RequestPublic,
    RequestSummary,
    ReturnCreate,
    ReviewCreate,
)
from airlock.domain import FederationBinding, ReleaseRequest, User
from airlock.workflow import Airlock
from tresor.core.bundles import ARCHIVE_MEDIA_TYPE, pack_bundle_bytes

router = APIRouter(prefix="/requests", tags=["requests"])

ERRORS = {
    401: {"description": "no hub token, or one the hub does not know"},
    403: {"description": "you may not do this (who)"},
    404: {"description": "no such request or file"},
    409: {"description": "the request's state does not allow this (what)"},
    422: {"description": "invalid input"},
}


def _public(airlock: Airlock, request: ReleaseRequest, user: User) -> RequestPublic:
    return RequestPublic.of(
        request,
        abilities=airlock.abilities(user, request),
        approvals_required=airlock.config().approvals_required,
    )


@router.get("", response_model=list[RequestSummary], responses=ERRORS)
def list_requests(user: CurrentUser, airlock: AirlockDep):
    """Your own requests; for reviewers also every submitted request."""
    return [RequestSummary.of(r) for r in airlock.list_requests(user)]


@router.post(
    "", response_model=RequestPublic, status_code=status.HTTP_201_CREATED, responses=ERRORS
)
def create_request(body: RequestCreate, user: CurrentUser, airlock: AirlockDep):
    """Start a draft request for one of your projects (the node's federation agent also names
    the federated request it answers)."""
    binding = FederationBinding(**body.federation.model_dump()) if body.federation else None
    return _public(airlock, airlock.create_request(user, body.project, federation=binding), user)


@router.get("/{request_id}", response_model=RequestPublic, responses=ERRORS)
def get_request(request_id: RequestId, user: CurrentUser, airlock: AirlockDep):
    return _public(airlock, airlock.get_request(user, request_id), user)


@router.post(
    "/{request_id}/files",
    response_model=FilePublic,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
)
def add_file(request_id: RequestId, body: FileCreate, user: CurrentUser, airlock: AirlockDep):
    """Snapshot a file from your workspace into the request; the checks run on the snapshot."""
    f = airlock.add_file(user, request_id, **body.model_dump())
    return FilePublic.of(f, hide_values=True)


@router.patch("/{request_id}/files/{file_id}", response_model=FilePublic, responses=ERRORS)
def update_file(
    request_id: RequestId,
    file_id: FileId,
    body: FileUpdate,
    user: CurrentUser,
    airlock: AirlockDep,
):
    """Change a file's context or exception, or snapshot it again (draft or returned only)."""
    f = airlock.update_file(user, request_id, file_id, **body.model_dump())
    return FilePublic.of(f, hide_values=True)


@router.delete(
    "/{request_id}/files/{file_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS
)
def remove_file(request_id: RequestId, file_id: FileId, user: CurrentUser, airlock: AirlockDep):
    airlock.remove_file(user, request_id, file_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{request_id}/files/{file_id}/content",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {"application/octet-stream": {}}}},
)
def file_content(request_id: RequestId, file_id: FileId, user: CurrentUser, airlock: AirlockDep):
    """A reviewer reads a submitted file (audited; starts the review)."""
    content = airlock.view_file(user, request_id, file_id, how="api")
    return attachment(content.data, content.file.name)


@router.get(
    "/{request_id}/files/{file_id}/download",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {"application/octet-stream": {}}}},
)
def download(request_id: RequestId, file_id: FileId, user: CurrentUser, airlock: AirlockDep):
    """The requester downloads a released file from the signed bundle (audited)."""
    content = airlock.download(user, request_id, file_id)
    return attachment(content.data, content.file.name)


@router.get(
    "/{request_id}/bundle",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {ARCHIVE_MEDIA_TYPE: {}}}},
)
def download_bundle(request_id: RequestId, user: CurrentUser, airlock: AirlockDep):
    """The requester downloads the whole signed bundle of a released request (manifest.json,
    manifest.sig, files/) as one tar archive (audited)."""
    request, path = airlock.download_bundle(user, request_id)
    return Response(
        content=pack_bundle_bytes(path),
        media_type=ARCHIVE_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{request.bundle_name}.tar"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@router.post("/{request_id}/submit", response_model=RequestPublic, responses=ERRORS)
def submit(request_id: RequestId, user: CurrentUser, airlock: AirlockDep):
    """Run the checks on every file and hand the request to the reviewers."""
    return _public(airlock, airlock.submit(user, request_id), user)


@router.post("/{request_id}/withdraw", response_model=RequestPublic, responses=ERRORS)
def withdraw(request_id: RequestId, user: CurrentUser, airlock: AirlockDep):
    return _public(airlock, airlock.withdraw(user, request_id), user)


@router.post("/{request_id}/reviews", response_model=RequestPublic, responses=ERRORS)
def review(request_id: RequestId, body: ReviewCreate, user: CurrentUser, airlock: AirlockDep):
    """Approve, reject or return (a reason is required to reject or return). The last
    approval needed releases the request."""
    request = airlock.decide(
        user,
        request_id,
        body.decision,
        reason=body.reason,
        acknowledge=body.acknowledge_exceptions,
    )
    return _public(airlock, request, user)


@router.post("/{request_id}/comments", response_model=RequestPublic, responses=ERRORS)
def comment(request_id: RequestId, body: CommentCreate, user: CurrentUser, airlock: AirlockDep):
    request = airlock.comment(user, request_id, body.body, file_id=body.file_id)
    return _public(airlock, request, user)


@router.post("/{request_id}/release", response_model=RequestPublic, responses=ERRORS)
def release(request_id: RequestId, user: CurrentUser, airlock: AirlockDep):
    """Finish the release of an approved request (it normally follows the last approval), or
    try again one whose release failed: the result is released, or release_failed again with
    the reason."""
    return _public(airlock, airlock.release(user, request_id), user)


@router.post("/{request_id}/return", response_model=RequestPublic, responses=ERRORS)
def return_release(
    request_id: RequestId, body: ReturnCreate, user: CurrentUser, airlock: AirlockDep
):
    """Send a request whose release failed back to the requester (reviewers)."""
    return _public(airlock, airlock.return_release(user, request_id, reason=body.reason), user)
