"""Beacon queries per caller and day, so the daily budget survives a restart.

Revision ID: 0002_beacon_queries
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_beacon_queries"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "beacon_queries",
        sa.Column("caller", sa.String(length=128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("queries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("caller", "day", name=op.f("pk_beacon_queries")),
    )
    with op.batch_alter_table("beacon_queries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_beacon_queries_day"), ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("beacon_queries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_beacon_queries_day"))
    op.drop_table("beacon_queries")
