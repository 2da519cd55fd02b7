"""An approved figure's hierarchies with every code of its columns, sealed.

A figure of country X is checked as a table of part of the units: its hierarchy holds every
code of the column in the data, not only X, else the check takes X for all of them. Later
checks read the figure back with that hierarchy; a column may be a unit identifier, so the
codes the figure leaves out are sealed under the area key (ciphertext + wrapped data key),
as a release's filter column is, and the plain ``hierarchies_json`` keeps the figure's own.

Revision ID: 0015_figure_hierarchies
Revises: 0014_request_intervals
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_figure_hierarchies"
down_revision = "0014_request_intervals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the sealed hierarchies and their wrapped data key (NULL: refused, or before)."""
    # Plain ALTER TABLE ADD COLUMN, not batch mode (as 0014): batch mode may copy and drop
    # the table on SQLite.
    op.add_column(
        "request_figures", sa.Column("sealed_hierarchies", sa.LargeBinary(), nullable=True)
    )
    op.add_column(
        "request_figures", sa.Column("hierarchies_wrapped_key_json", sa.Text(), nullable=True)
    )


def downgrade() -> None:
    """Drop the two columns (SQLite 3.35+ drops a column in place)."""
    op.drop_column("request_figures", "hierarchies_wrapped_key_json")
    op.drop_column("request_figures", "sealed_hierarchies")
