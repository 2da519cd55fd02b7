"""The release register (migration 0005): rule sets, requests, reviews, published cells.

Confidential values never sit here in plain text: a request version's submitted
files and a release's hidden cells are sealed (AES-256-GCM) under a data key that
the restricted area's key wraps (``sealed`` + ``wrapped_key``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fivesafes.store.base import Base
from fivesafes.store.models.governance import AreaRow, PersonRow


class RuleSetRow(Base):
    """One version of the organisation's disclosure rules (parameters as JSON)."""

    __tablename__ = "rule_sets"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_rule_sets_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    parameters_json: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReleaseRequestRow(Base):
    """A request to release one output from an area; ``state`` is a workflow.RequestState."""

    __tablename__ = "release_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # table | file
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    state: Mapped[str] = mapped_column(String(24))
    current_version: Mapped[int] = mapped_column(Integer)
    rule_set_id: Mapped[int | None] = mapped_column(ForeignKey("rule_sets.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    area: Mapped[AreaRow] = relationship(lazy="joined")
    author: Mapped[PersonRow] = relationship(lazy="joined")
    rule_set: Mapped[RuleSetRow | None] = relationship(lazy="joined")


class RequestVersionRow(Base):
    """One submitted version: its files' hashes, context, and the sealed content."""

    __tablename__ = "release_request_versions"
    __table_args__ = (UniqueConstraint("request_id", "version", name="uq_request_versions"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("release_requests.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    files_json: Mapped[str] = mapped_column(Text)  # {name: sha256}
    context_json: Mapped[str] = mapped_column(Text)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_key_json: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # True only when the content was read from a stored `table protect --dataset` output
    # whose provenance gave the source (migration 0006); else the author declared it.
    source_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    output_object_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # A declared source confirmed by the area's information asset owner (migration 0008):
    # without it (or a verified source) approval cannot complete.
    source_confirmed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source_confirmed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    source_confirmation_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # A table's audit intervals (required and achieved per hidden cell), sealed like the
    # content under its own data key (migration 0014); NULL for a file or an older version.
    sealed_intervals: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    intervals_wrapped_key_json: Mapped[str | None] = mapped_column(Text, nullable=True)


class ReviewRow(Base):
    """One output checker's vote on one version."""

    __tablename__ = "release_reviews"
    __table_args__ = (UniqueConstraint("version_id", "reviewer_id", name="uq_review_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("release_request_versions.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    vote: Mapped[str] = mapped_column(String(24))
    comment: Mapped[str] = mapped_column(Text)
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    reviewer: Mapped[PersonRow] = relationship(lazy="joined")


class CheckResultRow(Base):
    """One automated check of a version: name, verdict (pass|review|fail), details JSON."""

    __tablename__ = "release_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("release_request_versions.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    verdict: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    details_json: Mapped[str] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When it ran (submission | vote | publication), under which rule set, for whom
    # (migration 0008): every run is kept, the latest of each check is the one in force.
    stage: Mapped[str] = mapped_column(
        String(16), default="submission", server_default="submission"
    )
    rule_set: Mapped[str | None] = mapped_column(String(80), nullable=True)
    run_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class PublishedReleaseRow(Base):
    """A published release: where its bundle is, what it was checked against, its hierarchies."""

    __tablename__ = "published_releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[str] = mapped_column(String(64), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("release_requests.id"), unique=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    source: Mapped[str] = mapped_column(String(200), index=True)
    spec_hash: Mapped[str] = mapped_column(String(64))
    spec_json: Mapped[str] = mapped_column(Text)
    hierarchies_json: Mapped[str] = mapped_column(Text)  # {dimension: [[code, parent(, label)]]}
    rule_set_id: Mapped[int | None] = mapped_column(ForeignKey("rule_sets.id"), nullable=True)
    rule_parameters_json: Mapped[str] = mapped_column(Text)
    bundle_path: Mapped[str] = mapped_column(Text)
    manifest_json: Mapped[str] = mapped_column(Text)
    # Whether the release's source was proven (migration 0008): a declared one may be any
    # dataset of the area, so later differencing checks of every source include it.
    source_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    sealed_hidden: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    wrapped_key_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    published_on: Mapped[date] = mapped_column(Date)
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    area: Mapped[AreaRow] = relationship(lazy="joined")


class PublishedCellRow(Base):
    """One published cell: its source, release, coordinates (JSON dimension -> code), value."""

    __tablename__ = "published_cells"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_pk: Mapped[int] = mapped_column(ForeignKey("published_releases.id"), index=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    spec_hash: Mapped[str] = mapped_column(String(64))
    published_on: Mapped[date] = mapped_column(Date)
    codes_json: Mapped[str] = mapped_column(Text)
    value: Mapped[float] = mapped_column(Float)
