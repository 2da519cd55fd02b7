"""Requests for information (issue 17): cases, their clarifications, exemptions, the
figures checked for answers and the releases that answer them.

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
    """Create the five tables."""
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
    op.create_table(
        "request_figures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("request_cases.id"), nullable=False),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("cell", sa.Text(), nullable=False),
        sa.Column("hierarchies_json", sa.Text(), nullable=False),
        sa.Column("codes_json", sa.Text(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("reasons_json", sa.Text(), nullable=False),
        sa.Column("rule_set", sa.String(80), nullable=True),
        sa.Column("checked_by", sa.String(64), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_request_figures_case_id", "request_figures", ["case_id"])
    op.create_index("ix_request_figures_source", "request_figures", ["source"])
    op.create_table(
        "request_releases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("request_cases.id"), nullable=False),
        sa.Column("release_id", sa.String(64), nullable=False),
        sa.Column("attached_by", sa.String(64), nullable=False),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_request_releases_case_id", "request_releases", ["case_id"])


def downgrade() -> None:
    """Drop the five tables."""
    op.drop_table("request_releases")
    op.drop_table("request_figures")
    op.drop_table("request_exemptions")
    op.drop_table("request_clarifications")
    op.drop_table("request_cases")
