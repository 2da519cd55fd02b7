"""Approved researchers, approved projects, their change requests, and reviews (migration 0003).

History is kept: accreditations are never overwritten (the newest granted one
counts), project team and scope rows carry ``added_at``/``removed_at``, and every
change request stays with its decision.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fivesafes.store.base import Base
from fivesafes.store.models.governance import DatasetRow, PersonRow


class AccreditationRow(Base):
    """One accreditation of a researcher by an accrediting body; ``expires_on`` is inclusive."""

    __tablename__ = "accreditations"
    __table_args__ = (UniqueConstraint("body", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    body: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    granted_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(64))

    person: Mapped[PersonRow] = relationship(foreign_keys=[person_id], lazy="joined")
    supervisor: Mapped[PersonRow | None] = relationship(foreign_keys=[supervisor_id], lazy="joined")


class ProjectRow(Base):
    """An approved-research project; ``status`` is a stored ProjectStatus value."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    purpose_category: Mapped[str] = mapped_column(String(40))
    public_benefit: Mapped[str] = mapped_column(Text)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)  # last day, inclusive
    status: Mapped[str] = mapped_column(String(16))
    lead_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    lead: Mapped[PersonRow] = relationship(lazy="joined")
    members: Mapped[list[ProjectMemberRow]] = relationship(
        back_populates="project", lazy="selectin", order_by="ProjectMemberRow.id"
    )
    datasets: Mapped[list[ProjectDatasetRow]] = relationship(
        back_populates="project", lazy="selectin", order_by="ProjectDatasetRow.id"
    )
    changes: Mapped[list[ProjectChangeRow]] = relationship(
        back_populates="project", order_by="ProjectChangeRow.id"
    )


class ProjectMemberRow(Base):
    """A person on a project team over a period (``removed_at`` None: still on it)."""

    __tablename__ = "project_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # "lead" or "member"
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    project: Mapped[ProjectRow] = relationship(back_populates="members")
    person: Mapped[PersonRow] = relationship(lazy="joined")


class ProjectDatasetRow(Base):
    """A dataset in a project's scope over a period (``removed_at`` None: still in scope)."""

    __tablename__ = "project_datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    project: Mapped[ProjectRow] = relationship(back_populates="datasets")
    dataset: Mapped[DatasetRow] = relationship(lazy="joined")


class ProjectChangeRow(Base):
    """A change request on a project and its decision; ``payload`` holds the kind's fields."""

    __tablename__ = "project_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)

    project: Mapped[ProjectRow] = relationship(back_populates="changes")


class ReviewRow(Base):
    """A periodic review that was carried out: who, when, and the hashes of its report."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    carried_out_by: Mapped[str] = mapped_column(String(64))
    carried_out_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    as_of: Mapped[date] = mapped_column(Date)
    within_days: Mapped[int] = mapped_column(Integer)
    findings_total: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    markdown_sha256: Mapped[str] = mapped_column(String(64))
    html_sha256: Mapped[str] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(Text)
