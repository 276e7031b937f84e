"""Release failures: ``requests.release_error`` says why the last release attempt of a request
in the new ``release_failed`` status failed (statuses are strings: no other change).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


# plain ALTER TABLE on both backends (SQLite >= 3.35 drops columns): a batch migration would
# copy the requests table, which other tables' foreign keys point at


def upgrade() -> None:
    op.add_column("requests", sa.Column("release_error", sa.Text(), nullable=True))


def downgrade() -> None:
    # a failed release becomes approved again, which the service's start retries
    op.execute("UPDATE requests SET status = 'approved' WHERE status = 'release_failed'")
    op.drop_column("requests", "release_error")
