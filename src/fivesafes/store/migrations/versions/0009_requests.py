"""Requests for information (issue 17): cases, their clarifications and exemptions.

Revision ID: 0009_requests
Revises: 0008_hardening_release
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_requests"
down_revision = "0008_hardening_release"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the three tables."""
    op.create_table(
        "request_cases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("received", sa.Date(), nullable=False),
        sa.Column("calendar", sa.String(24), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("officer", sa.String(64), nullable=True),
        sa.Column("extended", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("answered", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(24), nullable=True),
        sa.Column("review_requested", sa.Date(), nullable=True),
        sa.Column("review_decided", sa.Date(), nullable=True),
        sa.Column("review_result", sa.Text(), nullable=True),
        sa.Column("complaint_made", sa.Date(), nullable=True),
        sa.Column("complaint_decided", sa.Date(), nullable=True),
        sa.Column("complaint_result", sa.Text(), nullable=True),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("requester_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("requester_wrapped_key", sa.Text(), nullable=True),
        sa.Column("retain_until", sa.Date(), nullable=True),
        sa.Column("shredded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    for column in ("kind", "state", "received", "officer"):
        op.create_index(f"ix_request_cases_{column}", "request_cases", [column])
    op.create_table(
        "request_clarifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("request_cases.id"), nullable=False),
        sa.Column("sought", sa.Date(), nullable=False),
        sa.Column("answered", sa.Date(), nullable=True),
    )
    op.create_index("ix_request_clarifications_case_id", "request_clarifications", ["case_id"])
    op.create_table(
        "request_exemptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("request_cases.id"), nullable=False),
        sa.Column("part", sa.Text(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("public_interest", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_request_exemptions_case_id", "request_exemptions", ["case_id"])


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("request_exemptions")
    op.drop_table("request_clarifications")
    op.drop_table("request_cases")
