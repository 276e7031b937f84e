"""Values stored in the airlock database.

Changing or removing a value needs an Alembic migration (rows hold these strings), and changing
an audit event's value breaks nothing but readability: the audit chain hashes what was stored.
"""

from __future__ import annotations

import enum


class RequestStatus(enum.StrEnum):
    """Where a release request is in its life; see ``states.VALID_STATE_TRANSITIONS``."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"
    RELEASED = "released"
    WITHDRAWN = "withdrawn"
    #: approved, but writing the bundle failed: a reviewer retries or returns it
    RELEASE_FAILED = "release_failed"


class Decision(enum.StrEnum):
    """A reviewer's decision on a whole request in one review round."""

    APPROVE = "approve"
    REJECT = "reject"
    RETURN = "return"


class Role(enum.StrEnum):
    """What a hub group lets a user do in the airlock (tresor.core.site.ROLE_GROUPS)."""

    RESEARCHER = "researchers"
    REVIEWER = "airlock-reviewers"
    ADMIN = "admins"


class AuditEventType(enum.StrEnum):
    """Every kind of entry in the hash-chained audit log."""

    REQUEST_CREATED = "request_created"
    REQUEST_SUBMITTED = "request_submitted"
    REQUEST_IN_REVIEW = "request_in_review"
    REQUEST_APPROVED = "request_approved"
    REQUEST_REJECTED = "request_rejected"
    REQUEST_RETURNED = "request_returned"
    REQUEST_RELEASED = "request_released"
    REQUEST_WITHDRAWN = "request_withdrawn"
    REQUEST_RELEASE_FAILED = "request_release_failed"
    REVIEW_DECISION = "review_decision"
    FILE_ADDED = "file_added"
    FILE_UPDATED = "file_updated"
    FILE_REMOVED = "file_removed"
    FILE_CHECKED = "file_checked"
    FILE_VIEWED = "file_viewed"
    FILE_DOWNLOADED = "file_downloaded"
    BUNDLE_DOWNLOADED = "bundle_downloaded"
    FILE_COMMENTED = "file_commented"
    CONFIG_CHANGED = "config_changed"
    REVIEWERS_CHANGED = "reviewers_changed"
