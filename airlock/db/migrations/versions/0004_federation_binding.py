"""A request may answer a federated request: the coordinator's request id and crate SHA-256.

Both columns are empty for every existing request (none was made by a federation agent).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("federation_request_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("federation_crate_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("federation_crate_sha256")
        batch.drop_column("federation_request_id")
