"""Where a submitted version's source comes from: verified from a stored output, or declared.

Revision ID: 0006_output_provenance
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_output_provenance"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add source_verified and output_object_id to release_request_versions."""
    # ADD COLUMN in place (a batch copy of the table would break the foreign keys of
    # reviews and checks that point at it on SQLite).
    # Versions submitted before this migration named their source themselves.
    op.add_column(
        "release_request_versions",
        sa.Column("source_verified", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "release_request_versions", sa.Column("output_object_id", sa.String(32), nullable=True)
    )


def downgrade() -> None:
    """Drop the two columns."""
    with op.batch_alter_table("release_request_versions") as batch:
        batch.drop_column("output_object_id")
        batch.drop_column("source_verified")
