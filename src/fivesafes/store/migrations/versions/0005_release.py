"""Release pipeline: rule sets, requests, versions, reviews, checks, published releases and cells.

Revision ID: 0005
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", sa.Integer(), primary_key=True)


def upgrade() -> None:
    """Create the release tables."""
    op.create_table(
        "rule_sets",
        _id(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("parameters_json", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _when("created_at"),
        sa.UniqueConstraint("name", "version", name="uq_rule_sets_name_version"),
    )
    op.create_table(
        "release_requests",
        _id(),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("areas.id"), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("rule_set_id", sa.Integer(), sa.ForeignKey("rule_sets.id"), nullable=True),
        _when("created_at"),
        _when("updated_at"),
    )
    op.create_index("ix_release_requests_area_id", "release_requests", ["area_id"])
    op.create_index("ix_release_requests_author_id", "release_requests", ["author_id"])
    op.create_index("ix_release_requests_source", "release_requests", ["source"])
    op.create_table(
        "release_request_versions",
        _id(),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("release_requests.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("files_json", sa.Text(), nullable=False),
        sa.Column("context_json", sa.Text(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("wrapped_key_json", sa.Text(), nullable=False),
        sa.Column("submitted_by", sa.String(64), nullable=False),
        _when("submitted_at"),
        sa.UniqueConstraint("request_id", "version", name="uq_request_versions"),
    )
    op.create_index(
        "ix_release_request_versions_request_id", "release_request_versions", ["request_id"]
    )
    op.create_table(
        "release_reviews",
        _id(),
        sa.Column(
            "version_id",
            sa.Integer(),
            sa.ForeignKey("release_request_versions.id"),
            nullable=False,
        ),
        sa.Column("reviewer_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("vote", sa.String(24), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        _when("reviewed_at"),
        sa.UniqueConstraint("version_id", "reviewer_id", name="uq_review_once"),
    )
    op.create_index("ix_release_reviews_version_id", "release_reviews", ["version_id"])
    op.create_table(
        "release_checks",
        _id(),
        sa.Column(
            "version_id",
            sa.Integer(),
            sa.ForeignKey("release_request_versions.id"),
            nullable=False,
        ),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details_json", sa.Text(), nullable=False),
        _when("checked_at"),
    )
    op.create_index("ix_release_checks_version_id", "release_checks", ["version_id"])
    op.create_table(
        "published_releases",
        _id(),
        sa.Column("release_id", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "request_id",
            sa.Integer(),
            sa.ForeignKey("release_requests.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("areas.id"), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("hierarchies_json", sa.Text(), nullable=False),
        sa.Column("rule_set_id", sa.Integer(), sa.ForeignKey("rule_sets.id"), nullable=True),
        sa.Column("rule_parameters_json", sa.Text(), nullable=False),
        sa.Column("bundle_path", sa.Text(), nullable=False),
        sa.Column("manifest_json", sa.Text(), nullable=False),
        sa.Column("sealed_hidden", sa.LargeBinary(), nullable=True),
        sa.Column("wrapped_key_json", sa.Text(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("published_by", sa.String(64), nullable=False),
        _when("published_at"),
    )
    op.create_index("ix_published_releases_source", "published_releases", ["source"])
    op.create_table(
        "published_cells",
        _id(),
        sa.Column(
            "release_pk", sa.Integer(), sa.ForeignKey("published_releases.id"), nullable=False
        ),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("codes_json", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
    )
    op.create_index("ix_published_cells_release_pk", "published_cells", ["release_pk"])
    op.create_index("ix_published_cells_source", "published_cells", ["source"])


def downgrade() -> None:
    """Drop the release tables."""
    for name in (
        "published_cells",
        "published_releases",
        "release_checks",
        "release_reviews",
        "release_request_versions",
        "release_requests",
        "rule_sets",
    ):
        op.drop_table(name)
