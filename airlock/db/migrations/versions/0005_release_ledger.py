"""The release ledger (differencing) and findings only reviewers see (no oracle).

``request_files`` gains ``reviewer_findings`` (matches with sample IDs of datasets the
request's project is not granted) and ``tables`` (the file's tables with counts of people, as
last checked); ``released_tables`` records each such table when its request is released, with
``released_table_datasets``, the datasets its project was granted then. Existing files get
empty lists: nothing was released into the ledger before it existed.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("request_files", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reviewer_findings", sa.Text(), server_default="[]", nullable=False)
        )
        batch_op.add_column(sa.Column("tables", sa.Text(), server_default="[]", nullable=False))
    op.create_table(
        "released_tables",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("project", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=255), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_released_tables_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_released_tables")),
    )
    with op.batch_alter_table("released_tables", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_released_tables_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_released_tables_project"), ["project"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_released_tables_request_id"), ["request_id"], unique=False
        )
    op.create_table(
        "released_table_datasets",
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["released_tables.id"],
            name=op.f("fk_released_table_datasets_table_id_released_tables"),
        ),
        sa.PrimaryKeyConstraint("table_id", "dataset", name=op.f("pk_released_table_datasets")),
    )
    with op.batch_alter_table("released_table_datasets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_released_table_datasets_dataset"), ["dataset"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("released_table_datasets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_released_table_datasets_dataset"))
    op.drop_table("released_table_datasets")
    with op.batch_alter_table("released_tables", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_released_tables_request_id"))
        batch_op.drop_index(batch_op.f("ix_released_tables_project"))
        batch_op.drop_index(batch_op.f("ix_released_tables_kind"))
    op.drop_table("released_tables")
    with op.batch_alter_table("request_files", schema=None) as batch_op:
        batch_op.drop_column("tables")
        batch_op.drop_column("reviewer_findings")
