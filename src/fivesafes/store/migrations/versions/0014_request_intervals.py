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
    with op.batch_alter_table("release_request_versions") as batch:
        batch.add_column(sa.Column("sealed_intervals", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("intervals_wrapped_key_json", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the two columns."""
    with op.batch_alter_table("release_request_versions") as batch:
        batch.drop_column("intervals_wrapped_key_json")
        batch.drop_column("sealed_intervals")
