"""Domain errors -> HTTP status: who (403), what state allows (409), missing (404), input (422)."""

from __future__ import annotations

from airlock import exceptions as exc

#: most specific first: OutsideWorkspace is a PermissionDenied, WorkspaceFileError an InvalidInput
STATUS: list[tuple[type[exc.AirlockError], int]] = [
    (exc.PermissionDenied, 403),
    (exc.InvalidStateTransition, 409),
    (exc.PolicyViolation, 409),
    (exc.RequestNotFound, 404),
    (exc.FileNotFoundInRequest, 404),
    (exc.InvalidInput, 422),
    (exc.IntegrityError, 500),
    (exc.HubRefused, 502),
]


class HubUnavailable(exc.AirlockError):
    """The hub could not confirm who the user is."""


STATUS.append((HubUnavailable, 503))


def status_for(error: exc.AirlockError) -> int:
    return next((code for cls, code in STATUS if isinstance(error, cls)), 400)
