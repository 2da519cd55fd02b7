"""Derived datasets: a dataset of a subset of another's units, and the family's membership patterns.

Revision ID: 0013_dataset_family
Revises: 0012_area_max_rows
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_dataset_family"
down_revision = "0012_area_max_rows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the parent, the unit column and (on a parent) the family's membership patterns."""
    with op.batch_alter_table("datasets") as batch:
        batch.add_column(sa.Column("derived_from_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("unit_column", sa.String(128), nullable=True))
        batch.add_column(sa.Column("membership_json", sa.Text(), nullable=True))
        batch.create_foreign_key(
            "fk_datasets_derived_from_id", "datasets", ["derived_from_id"], ["id"]
        )
        batch.create_index("ix_datasets_derived_from_id", ["derived_from_id"])


def downgrade() -> None:
    """Drop the three columns."""
    with op.batch_alter_table("datasets") as batch:
        batch.drop_index("ix_datasets_derived_from_id")
        batch.drop_constraint("fk_datasets_derived_from_id", type_="foreignkey")
        batch.drop_column("membership_json")
        batch.drop_column("unit_column")
        batch.drop_column("derived_from_id")
