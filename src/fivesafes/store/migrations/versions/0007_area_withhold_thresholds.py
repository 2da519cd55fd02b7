"""An area's policy on its methods notes: withhold exact rule thresholds, or state them.

Revision ID: 0007_area_withhold_thresholds
Revises: 0006_output_provenance
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_area_withhold_thresholds"
down_revision = "0006_output_provenance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add areas.withhold_thresholds (false: existing areas keep stating thresholds)."""
    # A plain ALTER TABLE ADD COLUMN, not batch mode: on SQLite batch mode copies and
    # drops `areas`, which the foreign keys of datasets and grants refuse once rows exist.
    # A literal string default keeps Alembic from choosing the copy ("0" is false in both).
    op.add_column(
        "areas",
        sa.Column("withhold_thresholds", sa.Boolean(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    """Drop the column (SQLite 3.35+ drops a column in place)."""
    op.drop_column("areas", "withhold_thresholds")
