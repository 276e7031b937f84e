"""SQLAlchemy tables of the airlock. The schema is made by Alembic (airlock/db/migrations) only.

Database-level guarantees the workflow relies on:

- ``reviews``: one decision per reviewer per review round (unique), so a reviewer cannot
  approve twice even from two browser tabs at the same instant;
- ``requests.bundle_name`` is unique, so a request has at most one bundle;
- ``audit_log``: ``prev_hash`` and ``hash`` are unique, so the chain cannot fork; appends lock
  the single ``audit_head`` row, which records the last entry (a deleted tail is detected);
  triggers refuse UPDATE and DELETE on it (migration 0002);
- ``released_tables``: the release ledger, one row per released table with counts of people,
  written in the transaction that marks its request released; with the datasets its project
  was granted then (``released_table_datasets``), so that the projects sharing one are
  compared with it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from tresor.core.database import UTCDateTime, metadata


class Base(DeclarativeBase):
    metadata = metadata()


class RequestRow(Base):
    __tablename__ = "requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project: Mapped[str] = mapped_column(String(64), index=True)
    requester: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # enums.RequestStatus
    round: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    bundle_name: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)
    #: the federated request it answers (migration 0004); both or neither
    federation_request_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    federation_crate_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: why the last release attempt failed (status release_failed only); migration 0003
    release_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    files: Mapped[list[FileRow]] = relationship(
        back_populates="request", order_by="FileRow.id", cascade="all, delete-orphan"
    )
    reviews: Mapped[list[ReviewRow]] = relationship(order_by="ReviewRow.id")
    comments: Mapped[list[CommentRow]] = relationship(order_by="CommentRow.id")


class FileRow(Base):
    __tablename__ = "request_files"
    __table_args__ = (UniqueConstraint("request_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    source_path: Mapped[str] = mapped_column(String(1024))
    description: Mapped[str] = mapped_column(Text)
    disclosure_control: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    verdict: Mapped[str] = mapped_column(String(8))  # airlock.checks.Verdict
    report: Mapped[str] = mapped_column(Text)  # FileReport.to_dict() as JSON
    #: findings only reviewers see (airlock.checking): JSON list of Finding.to_dict()
    reviewer_findings: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    #: the file's tables with counts of people (TableRecord.to_dict()), for the ledger: JSON
    tables: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    exception: Mapped[str | None] = mapped_column(Text, nullable=True)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    request: Mapped[RequestRow] = relationship(back_populates="files")


class ReviewRow(Base):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("request_id", "round", "reviewer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    reviewer: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(8))  # enums.Decision
    reason: Mapped[str] = mapped_column(Text, default="")
    acknowledged: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of file ids
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CommentRow(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    file_id: Mapped[int | None] = mapped_column(
        ForeignKey("request_files.id", ondelete="SET NULL"), nullable=True
    )
    author: Mapped[str] = mapped_column(String(64))
    round: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ReleasedTableRow(Base):
    """The release ledger: a table with counts of people that left the node."""

    __tablename__ = "released_tables"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    project: Mapped[str] = mapped_column(String(64), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(255), index=True)
    record: Mapped[str] = mapped_column(Text)  # TableRecord.to_dict() as JSON
    released_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    datasets: Mapped[list[ReleasedTableDatasetRow]] = relationship(
        order_by="ReleasedTableDatasetRow.dataset", cascade="all, delete-orphan"
    )


class ReleasedTableDatasetRow(Base):
    """A dataset the releasing project was granted when the table was released."""

    __tablename__ = "released_table_datasets"

    table_id: Mapped[int] = mapped_column(ForeignKey("released_tables.id"), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class AuditRow(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    time: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC, exactly as hashed
    type: Mapped[str] = mapped_column(String(32), index=True)  # enums.AuditEventType
    actor: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    details: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHeadRow(Base):
    """One row (id 1): the last entry of the chain. Appends lock it, so the chain stays a line."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class ConfigRow(Base):
    """Run-time settings changed by admins (``AirlockConfig.ADMIN_SETTINGS``), JSON values."""

    __tablename__ = "runtime_config"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
