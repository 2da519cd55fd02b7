"""Register tables: people and roles, courses and completions, declarations,
restricted areas, datasets and need-to-know grants (migration 0002)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fivesafes.store.base import Base


class PersonRow(Base):
    """A registered person; ``status`` is 'active' or 'leaver'."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    roles: Mapped[list[PersonRoleRow]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )


class PersonRoleRow(Base):
    """One role held by one person."""

    __tablename__ = "person_roles"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)

    person: Mapped[PersonRow] = relationship(back_populates="roles")


class CourseRow(Base):
    """A training course; the mandatory one is seeded by migration 0002."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    validity_months: Mapped[int] = mapped_column(Integer, default=12)
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False)


class CompletionRow(Base):
    """A person's completion of a course, valid until ``expires_on`` (exclusive)."""

    __tablename__ = "training_completions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    completed_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    evidence: Mapped[str | None] = mapped_column(String(400), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(64))


class DeclarationVersionRow(Base):
    """One published version of the confidentiality declaration."""

    __tablename__ = "declaration_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str] = mapped_column(String(64))


class SignatureRow(Base):
    """A person's signature of one declaration version, with the hash of what they signed."""

    __tablename__ = "declaration_signatures"
    __table_args__ = (UniqueConstraint("person_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    version: Mapped[int] = mapped_column(ForeignKey("declaration_versions.version"))
    text_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AreaRow(Base):
    """A restricted area and its information asset owner."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Methods notes of this area's releases leave out exact thresholds (migration 0007).
    withhold_thresholds: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Rows a query may show outside the area (migration 0012); 0: only summaries.
    max_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    owner: Mapped[PersonRow] = relationship(lazy="joined")
    courses: Mapped[list[AreaCourseRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class AreaCourseRow(Base):
    """An extra course an area requires."""

    __tablename__ = "area_courses"

    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), primary_key=True)

    course: Mapped[CourseRow] = relationship(lazy="joined")


class DatasetRow(Base):
    """A registered dataset and the facts that make it confidential."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    identifiable: Mapped[bool] = mapped_column(Boolean)
    not_public: Mapped[bool] = mapped_column(Boolean)
    harmful: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(400))
    lawful_basis: Mapped[str] = mapped_column(String(400))
    retention_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    privacy_notice: Mapped[str | None] = mapped_column(String(400), nullable=True)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    registered_by: Mapped[str] = mapped_column(String(64))
    # A derived dataset: a subset of the parent's units, matched on ``unit_column``.
    derived_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("datasets.id", name="fk_datasets_derived_from_id"), nullable=True, index=True
    )
    unit_column: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # On a parent: the family's membership patterns that hold units (JSON list of lists of
    # derived dataset names; no counts, no ids). None until the parent and a child are stored.
    membership_json: Mapped[str | None] = mapped_column(Text, nullable=True)

    area: Mapped[AreaRow] = relationship(lazy="joined")
    derived_from: Mapped[DatasetRow | None] = relationship(
        remote_side="DatasetRow.id", lazy="joined", join_depth=1
    )


class GrantRow(Base):
    """A need-to-know grant of one person to one area."""

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    purpose: Mapped[str] = mapped_column(String(40))
    justification: Mapped[str] = mapped_column(Text)
    requester_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revocation_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    person: Mapped[PersonRow] = relationship(foreign_keys=[person_id], lazy="joined")
    area: Mapped[AreaRow] = relationship(lazy="joined")
    requester: Mapped[PersonRow] = relationship(foreign_keys=[requester_id], lazy="joined")
    approver: Mapped[PersonRow | None] = relationship(foreign_keys=[approver_id], lazy="joined")
