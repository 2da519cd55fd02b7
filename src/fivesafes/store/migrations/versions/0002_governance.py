"""Governance register: people, roles, training, declarations, areas, datasets, grants.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MANDATORY_COURSE = "Responsible for information"  # seeded: every access requires it


def _when(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create the register tables and seed the mandatory course."""
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _when("registered_at"),
        _when("left_at", nullable=True),
        sa.UniqueConstraint("login", name="uq_people_login"),
    )
    op.create_table(
        "person_roles",
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), primary_key=True),
        sa.Column("role", sa.String(40), primary_key=True),
    )
    courses = op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("validity_months", sa.Integer(), nullable=False),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("name", name="uq_courses_name"),
    )
    op.create_table(
        "training_completions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("course_id", sa.Integer(), sa.ForeignKey("courses.id"), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("evidence", sa.String(400), nullable=True),
        _when("recorded_at"),
        sa.Column("recorded_by", sa.String(64), nullable=False),
    )
    op.create_index("ix_training_completions_person_id", "training_completions", ["person_id"])
    op.create_table(
        "declaration_versions",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        _when("published_at"),
        sa.Column("published_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "declaration_signatures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column(
            "version",
            sa.Integer(),
            sa.ForeignKey("declaration_versions.version"),
            nullable=False,
        ),
        sa.Column("text_hash", sa.String(64), nullable=False),
        _when("signed_at"),
        sa.UniqueConstraint("person_id", "version", name="uq_declaration_signatures_person_id"),
    )
    op.create_index("ix_declaration_signatures_person_id", "declaration_signatures", ["person_id"])
    op.create_table(
        "areas",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        _when("created_at"),
        sa.UniqueConstraint("name", name="uq_areas_name"),
    )
    op.create_table(
        "area_courses",
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("areas.id"), primary_key=True),
        sa.Column("course_id", sa.Integer(), sa.ForeignKey("courses.id"), primary_key=True),
    )
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("areas.id"), nullable=False),
        sa.Column("identifiable", sa.Boolean(), nullable=False),
        sa.Column("not_public", sa.Boolean(), nullable=False),
        sa.Column("harmful", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(400), nullable=False),
        sa.Column("lawful_basis", sa.String(400), nullable=False),
        sa.Column("retention_until", sa.Date(), nullable=True),
        sa.Column("privacy_notice", sa.String(400), nullable=True),
        _when("registered_at"),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("name", name="uq_datasets_name"),
    )
    op.create_index("ix_datasets_area_id", "datasets", ["area_id"])
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("areas.id"), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("requester_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("approver_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=False),
        _when("requested_at"),
        _when("decided_at", nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        _when("revoked_at", nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_grants_person_id", "grants", ["person_id"])
    op.bulk_insert(courses, [{"name": MANDATORY_COURSE, "validity_months": 12, "mandatory": True}])


def downgrade() -> None:
    """Drop the register tables (children first)."""
    for table in (
        "grants",
        "datasets",
        "area_courses",
        "areas",
        "declaration_signatures",
        "declaration_versions",
        "training_completions",
        "courses",
        "person_roles",
        "people",
    ):
        op.drop_table(table)
