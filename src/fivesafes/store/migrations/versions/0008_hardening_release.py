"""Release hardening: which releases' sources were verified, the asset owner's confirmation of a
declared source, and the history of every check run (at submission, each vote, publication).

Revision ID: 0008_hardening_release
Revises: 0007_area_withhold_thresholds
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_hardening_release"
down_revision = "0007_area_withhold_thresholds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the columns (in place: a batch copy would break foreign keys on SQLite)."""
    op.add_column(
        "published_releases",
        sa.Column("source_verified", sa.Boolean(), nullable=False, server_default="0"),
    )
    # A release already published was verified when its published version was.
    op.execute(
        "UPDATE published_releases SET source_verified = COALESCE(("
        " SELECT v.source_verified FROM release_request_versions v"
        " JOIN release_requests r ON r.id = v.request_id"
        " WHERE r.id = published_releases.request_id AND v.version = r.current_version"
        "), published_releases.source_verified)"
    )
    for column in (
        sa.Column("source_confirmed_by", sa.String(64), nullable=True),
        sa.Column("source_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_confirmation_note", sa.Text(), nullable=True),
    ):
        op.add_column("release_request_versions", column)
    # Checks stored before this migration were run at submission.
    op.add_column(
        "release_checks",
        sa.Column("stage", sa.String(16), nullable=False, server_default="submission"),
    )
    op.add_column("release_checks", sa.Column("rule_set", sa.String(80), nullable=True))
    op.add_column("release_checks", sa.Column("run_by", sa.String(64), nullable=True))


def downgrade() -> None:
    """Drop the columns (SQLite 3.35+ drops a column in place)."""
    for table, column in (
        ("release_checks", "run_by"),
        ("release_checks", "rule_set"),
        ("release_checks", "stage"),
        ("release_request_versions", "source_confirmation_note"),
        ("release_request_versions", "source_confirmed_at"),
        ("release_request_versions", "source_confirmed_by"),
        ("published_releases", "source_verified"),
    ):
        op.drop_column(table, column)
