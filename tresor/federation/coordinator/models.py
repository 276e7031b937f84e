"""SQLAlchemy tables of the coordinator. The schema is made by its Alembic migrations only
(tresor/federation/coordinator/migrations).

Guarantees the service relies on: one part per (request, node) (unique); a node's nonce is
stored once (primary key), so a signed call cannot be replayed; researchers' tokens are stored
as SHA-256 hashes only; one count of Beacon queries per (caller, day) (primary key).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from tresor.core.database import UTCDateTime, metadata


class Base(DeclarativeBase):
    metadata = metadata()


class AccountRow(Base):
    """A researcher of the coordinator: a name, the coordinator projects, a hashed token."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    projects: Mapped[str] = mapped_column(Text)  # JSON list
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RequestRow(Base):
    """A federated request: the signed crate exactly as signed, and where it stands."""

    __tablename__ = "requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    requester: Mapped[str] = mapped_column(String(64), index=True)
    project: Mapped[str] = mapped_column(String(64))
    analysis: Mapped[str] = mapped_column(String(64))
    analysis_version: Mapped[str] = mapped_column(String(32))
    parameters: Mapped[str] = mapped_column(Text)  # JSON
    crate: Mapped[str] = mapped_column(Text)  # the canonical JSON text that was signed
    crate_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    signature: Mapped[str] = mapped_column(Text)
    signed_by: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)  # states.RequestState
    message: Mapped[str] = mapped_column(Text, default="")
    merged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    targets: Mapped[list[TargetRow]] = relationship(order_by="TargetRow.node")


class TargetRow(Base):
    """One node's part of a request: its dataset, status and (once verified) bundle."""

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("request_id", "node"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    node: Mapped[str] = mapped_column(String(32), index=True)
    dataset: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # states.TargetStatus
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    bundle: Mapped[str | None] = mapped_column(String(255), nullable=True)  # under data_dir
    manifest_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


class NonceRow(Base):
    """A signed call's nonce, kept while its timestamp could still be accepted."""

    __tablename__ = "nonces"

    node: Mapped[str] = mapped_column(String(32), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class EventRow(Base):
    """What happened: requests made, statuses reported, bundles received or refused, merges."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    node: Mapped[str | None] = mapped_column(String(32), nullable=True)
    details: Mapped[str] = mapped_column(Text)  # JSON


class BeaconQueriesRow(Base):
    """Beacon and portal variant queries of one caller on one day (UTC): the daily budget, kept
    across restarts. A caller is an account name or ``anonymous:<address>``; earlier days' rows
    are deleted as new days begin."""

    __tablename__ = "beacon_queries"

    caller: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True, index=True)
    queries: Mapped[int] = mapped_column(Integer)
