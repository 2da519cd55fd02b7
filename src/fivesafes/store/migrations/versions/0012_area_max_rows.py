"""An area's row-level output setting: how many rows of a query result may be shown.

Revision ID: 0012_area_max_rows
Revises: 0011_server
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_area_max_rows"
down_revision = "0011_server"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add areas.max_rows (0: existing areas show summaries only, no rows)."""
    # A plain ADD COLUMN, as 0007: batch mode would copy and drop `areas` on SQLite.
    op.add_column(
        "areas",
        sa.Column("max_rows", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    """Drop the column (SQLite 3.35+ drops a column in place)."""
    op.drop_column("areas", "max_rows")
