"""The audit's protection intervals of a submitted table, sealed with the version.

The output checker's view shows each hidden cell's required and achieved interval: the
audit computes them at submission, and they pin hidden values down, so they are sealed
under the area key exactly as the version's content is (ciphertext + wrapped data key).

Revision ID: 0014_request_intervals
Revises: 0013_dataset_family
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_request_intervals"
down_revision = "0013_dataset_family"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the sealed intervals and their wrapped data key (NULL: a file, or submitted before)."""
    # Plain ALTER TABLE ADD COLUMN, not batch mode (as 0007): on SQLite batch mode may copy
    # and drop the table, which the foreign keys of reviews and check results refuse.
    op.add_column(
        "release_request_versions", sa.Column("sealed_intervals", sa.LargeBinary(), nullable=True)
    )
    op.add_column(
        "release_request_versions",
        sa.Column("intervals_wrapped_key_json", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    """Drop the two columns (SQLite 3.35+ drops a column in place)."""
    op.drop_column("release_request_versions", "intervals_wrapped_key_json")
    op.drop_column("release_request_versions", "sealed_intervals")
