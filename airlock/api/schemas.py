"""What the API accepts (``*Create``/``*Update``) and returns (``*Public``), apart from storage.

Input text is validated at the boundary: bounded length, no NUL and no unpaired surrogates
(PostgreSQL and file systems refuse both), unknown fields are errors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from airlock.abilities import Abilities
from airlock.domain import (
    MAX_FILE_NAME,
    MAX_PATH,
    MAX_TEXT,
    AuditEntry,
    Comment,
    ReleaseRequest,
    RequestFile,
    Review,
)
from airlock.enums import Decision, RequestStatus
from tresor.core.airlock_config import AirlockConfig


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no unpaired surrogates)") from None
    return value


def _text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length), AfterValidator(_clean_text)
    ]


ShortName = _text(64, 1)
PathText = _text(MAX_PATH, 1)
FileName = _text(MAX_FILE_NAME, 1)
Prose = _text(MAX_TEXT)
RequiredProse = _text(MAX_TEXT, 1)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FederationBindingIn(_In):
    request_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")] = Field(
        description="the federation coordinator's request id"
    )
    crate_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="SHA-256 of the coordinator's signed request crate"
    )


class RequestCreate(_In):
    project: ShortName = Field(description="one of your project groups")
    federation: FederationBindingIn | None = Field(
        None,
        description="the federated request this answers (only the node's federation account)",
    )


class FileCreate(_In):
    path: PathText = Field(description="relative to your workspace, e.g. results/freq.csv")
    name: FileName | None = Field(None, description="name in the bundle (default: path)")
    description: RequiredProse = Field(description="what the file is")
    disclosure_control: RequiredProse = Field(description="how disclosure was controlled")
    exception: Prose | None = Field(
        None, description="why a file the checks block should be released anyway"
    )


class FileUpdate(_In):
    description: RequiredProse | None = None
    disclosure_control: RequiredProse | None = None
    exception: Prose | None = None
    refresh: bool = Field(False, description="snapshot the workspace file again")


class ReviewCreate(_In):
    decision: Decision
    reason: Prose = Field("", description="required to reject or return")
    acknowledge_exceptions: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        [],
        max_length=1000,
        description="ids of blocked files whose exception you accept, and of files whose "
        "reviewer-only findings you accept as coincidences",
    )


class ReturnCreate(_In):
    reason: RequiredProse = Field(description="what the requester should change")


class CommentCreate(_In):
    body: RequiredProse
    file_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


#: what admins change while the service runs, each optional, with the bounds of its one
#: declaration (AirlockConfig)
ConfigUpdate = create_model(
    "ConfigUpdate",
    __base__=_In,
    __doc__="The settings to change; the others keep their values.",
    **{
        name: (
            AirlockConfig.model_fields[name].annotation | None,
            FieldInfo.merge_field_infos(AirlockConfig.model_fields[name], default=None),
        )
        for name in AirlockConfig.ADMIN_SETTINGS
    },
)


# -- output -----------------------------------------------------------------------------------
class LocationPublic(BaseModel):
    row: int | None = None
    column: str | None = None
    value: str | None = None


class FindingPublic(BaseModel):
    rule: str
    verdict: str
    message: str
    location: LocationPublic | None = None


class FilePublic(BaseModel):
    id: int
    name: str
    source_path: str
    description: str
    disclosure_control: str
    exception: str | None
    sha256: str
    size: int
    verdict: str
    findings: list[FindingPublic]
    reviewer_findings: list[FindingPublic] | None = Field(
        None,
        description="reviewers only (null for the requester): values matching sample IDs of "
        "datasets the request's project is not granted; they never change the verdict",
    )
    added_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, f: RequestFile, *, hide_values: bool = False, reviewer: bool = False) -> FilePublic:
        """``reviewer``: include the reviewer-only findings."""

        def shown(items) -> list[dict]:
            out = []
            for item in items:
                finding = dict(item)
                if hide_values and finding.get("location"):
                    finding["location"] = {**finding["location"], "value": None}
                out.append(finding)
            return out

        fields = {k: v for k, v in dataclasses.asdict(f).items() if k not in ("tables",)}
        fields["findings"] = shown(f.report.get("findings", []))
        fields["reviewer_findings"] = shown(f.reviewer_findings) if reviewer else None
        return cls.model_validate(fields)


class ReviewPublic(BaseModel):
    reviewer: str
    round: int
    decision: Decision
    reason: str
    acknowledged_files: list[int]
    created_at: dt.datetime

    @classmethod
    def of(cls, r: Review) -> ReviewPublic:
        return cls.model_validate(dataclasses.asdict(r))


class CommentPublic(BaseModel):
    id: int
    file_id: int | None
    author: str
    round: int
    body: str
    created_at: dt.datetime

    @classmethod
    def of(cls, c: Comment) -> CommentPublic:
        return cls.model_validate(dataclasses.asdict(c))


class FederationBindingPublic(BaseModel):
    request_id: str
    crate_sha256: str


class RequestSummary(BaseModel):
    id: str
    project: str
    requester: str
    status: RequestStatus
    round: int
    files: int
    size: int
    approvals: int
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    federation: FederationBindingPublic | None = None
    release_error: str | None = Field(description="why the release failed (release_failed)")

    @classmethod
    def of(cls, r: ReleaseRequest) -> RequestSummary:
        return cls(
            id=r.id,
            project=r.project,
            requester=r.requester,
            federation=_binding(r),
            status=r.status,
            round=r.round,
            files=len(r.files),
            size=r.total_size,
            approvals=len(r.approvers),
            created_at=r.created_at,
            updated_at=r.updated_at,
            submitted_at=r.submitted_at,
            release_error=r.release_error,
        )


class RequestPublic(BaseModel):
    id: str
    project: str
    requester: str
    status: RequestStatus
    round: int
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    released_at: dt.datetime | None
    bundle_name: str | None
    federation: FederationBindingPublic | None = Field(
        None, description="the federated request this answers, when the federation agent made it"
    )
    release_error: str | None = Field(description="why the release failed (release_failed)")
    approvals: list[str] = Field(description="reviewers who approved this round")
    approvals_required: int
    files: list[FilePublic]
    reviews: list[ReviewPublic]
    comments: list[CommentPublic]
    abilities: Abilities = Field(description="what you may do with the request now")

    @classmethod
    def of(
        cls, r: ReleaseRequest, *, abilities: Abilities, approvals_required: int
    ) -> RequestPublic:
        return cls(
            id=r.id,
            project=r.project,
            requester=r.requester,
            status=r.status,
            round=r.round,
            created_at=r.created_at,
            updated_at=r.updated_at,
            submitted_at=r.submitted_at,
            released_at=r.released_at,
            bundle_name=r.bundle_name,
            federation=_binding(r),
            release_error=r.release_error,
            approvals=sorted(r.approvers),
            approvals_required=approvals_required,
            files=[
                FilePublic.of(
                    f, hide_values=abilities.hide_values, reviewer=abilities.see_reviewer_findings
                )
                for f in r.files
            ],
            reviews=[ReviewPublic.of(x) for x in r.reviews],
            comments=[CommentPublic.of(c) for c in r.comments],
            abilities=abilities,
        )


def _binding(r: ReleaseRequest) -> FederationBindingPublic | None:
    return FederationBindingPublic(**r.federation.to_dict()) if r.federation else None


class QueuePublic(BaseModel):
    count: int
    requests: list[RequestSummary]


class MePublic(BaseModel):
    name: str
    groups: list[str]
    projects: list[str]
    researcher: bool
    reviewer: bool
    admin: bool


class AuditEntryPublic(BaseModel):
    seq: int
    time: str
    type: str
    actor: str
    request_id: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryPublic:
        return cls.model_validate(dataclasses.asdict(e))


class AuditVerifyPublic(BaseModel):
    ok: bool
    entries: int
    head: str
    problems: list[str]
    first_bad_entry: int | None = Field(description="the first entry known to be wrong")
    notes: list[str] = Field(description="not failures: e.g. entries newer than any checkpoint")


#: every limit in force: the site config's, with admins' changes
ConfigPublic = AirlockConfig
