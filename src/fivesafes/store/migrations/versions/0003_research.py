"""Approved researchers, projects, change requests and reviews.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SAFE_RESEARCHER_COURSE = "Safe researcher training"  # seeded if absent; researchers need it
SAFE_RESEARCHER_MONTHS = 60  # renewed with a full accreditation (5 years)


def _when(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(name: str, target: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Integer(), sa.ForeignKey(target), nullable=nullable)


def upgrade() -> None:
    """Create the research tables and seed the safe-researcher course."""
    op.create_table(
        "accreditations",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("person_id", "people.id"),
        sa.Column("body", sa.String(200), nullable=False),
        sa.Column("reference", sa.String(100), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("granted_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        _fk("supervisor_id", "people.id", nullable=True),
        _when("recorded_at"),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("body", "reference", name="uq_accreditations_body"),
    )
    op.create_index("ix_accreditations_person_id", "accreditations", ["person_id"])
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("purpose_category", sa.String(40), nullable=False),
        sa.Column("public_benefit", sa.Text(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _fk("lead_id", "people.id"),
        sa.Column("proposed_by", sa.String(64), nullable=False),
        _when("proposed_at"),
        sa.Column("decided_by", sa.String(64), nullable=True),
        _when("decided_at", nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        _when("closed_at", nullable=True),
        sa.UniqueConstraint("reference", name="uq_projects_reference"),
    )
    op.create_table(
        "project_members",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("project_id", "projects.id"),
        _fk("person_id", "people.id"),
        sa.Column("role", sa.String(16), nullable=False),
        _when("added_at"),
        _when("removed_at", nullable=True),
    )
    op.create_index("ix_project_members_project_id", "project_members", ["project_id"])
    op.create_index("ix_project_members_person_id", "project_members", ["person_id"])
    op.create_table(
        "project_datasets",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("project_id", "projects.id"),
        _fk("dataset_id", "datasets.id"),
        _when("added_at"),
        _when("removed_at", nullable=True),
    )
    op.create_index("ix_project_datasets_project_id", "project_datasets", ["project_id"])
    op.create_table(
        "project_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("project_id", "projects.id"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        _when("requested_at"),
        sa.Column("decided_by", sa.String(64), nullable=True),
        _when("decided_at", nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
    )
    op.create_index("ix_project_changes_project_id", "project_changes", ["project_id"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("carried_out_by", sa.String(64), nullable=False),
        _when("carried_out_at"),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("within_days", sa.Integer(), nullable=False),
        sa.Column("findings_total", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("markdown_sha256", sa.String(64), nullable=False),
        sa.Column("html_sha256", sa.String(64), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
    )
    courses = sa.table(
        "courses",
        sa.column("name", sa.String),
        sa.column("validity_months", sa.Integer),
        sa.column("mandatory", sa.Boolean),
    )
    present = (
        op.get_bind()
        .execute(sa.select(courses.c.name).where(courses.c.name == SAFE_RESEARCHER_COURSE))
        .first()
    )
    if present is None:
        op.execute(
            courses.insert().values(
                name=SAFE_RESEARCHER_COURSE,
                validity_months=SAFE_RESEARCHER_MONTHS,
                mandatory=False,
            )
        )


def downgrade() -> None:
    """Drop the research tables (children first); the seeded course stays (it may be used)."""
    for table in (
        "reviews",
        "project_changes",
        "project_datasets",
        "project_members",
        "projects",
        "accreditations",
    ):
        op.drop_table(table)
