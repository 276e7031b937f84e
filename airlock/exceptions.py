"""Named airlock errors. The API maps each family to one HTTP status (airlock.api.errors).

Messages say what is wrong and what to do; they are shown to researchers and reviewers.
"""

from __future__ import annotations


class AirlockError(Exception):
    """Base class of every refusal the airlock explains to its user."""


# -- who: 403 -------------------------------------------------------------------------------
class PermissionDenied(AirlockError):
    """The user may not do this (airlock.permissions)."""


# -- what: 409 ------------------------------------------------------------------------------
class InvalidStateTransition(AirlockError):
    """The request's status does not allow this transition (airlock.workflow)."""


class PolicyViolation(AirlockError):
    """The request or file's state does not allow this action (airlock.policies)."""


class ConcurrentChange(PolicyViolation):
    """Someone else changed the request at the same moment; reload and try again."""


class ReturnedToReview(PolicyViolation):
    """An approved request lacks approvals that the configuration now requires: its release is
    refused and it is back in review. The one refusal that changes something (the status),
    because an approved request that cannot be released would be stuck."""


# -- not found: 404 -------------------------------------------------------------------------
class RequestNotFound(AirlockError):
    pass


class FileNotFoundInRequest(AirlockError):
    pass


# -- bad input: 422 (or 403 when it tries to escape the workspace) --------------------------
class InvalidInput(AirlockError):
    """A value the user sent is not acceptable (empty context, bad name...)."""


class WorkspaceFileError(InvalidInput):
    """A workspace file cannot be snapshotted: missing, not a regular file, too large."""


class OutsideWorkspace(PermissionDenied):
    """A path that is a symlink, or resolves outside the requester's workspace."""


# -- integrity: bundles and the audit chain -------------------------------------------------
class IntegrityError(AirlockError):
    """Stored bytes, a bundle or the audit chain do not match their hashes or signature."""


class AuditLogUnavailable(AirlockError):
    """There is no airlock database where asked, or it cannot be read (airlock.service)."""


class HubRefused(AirlockError):
    """The hub did not make a change the airlock asked of it (airlock.reviewers)."""
