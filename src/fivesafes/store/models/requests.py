"""Requests for information (migration 0009_requests): cases, clarifications, exemptions.

The requester's details are personal data: they never sit here in plain text but
sealed (AES-256-GCM) under a data key that the requests area's key wraps
(``requester_sealed`` + ``requester_wrapped_key``); shredding deletes both.
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
)
from sqlalchemy import false as sql_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fivesafes.store.base import Base


class RequestCaseRow(Base):
    """One request for information; ``state`` is a requests.cases.CaseState."""

    __tablename__ = "request_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(String(24), index=True)
    received: Mapped[date] = mapped_column(Date, index=True)
    calendar: Mapped[str] = mapped_column(String(24))
    summary: Mapped[str] = mapped_column(Text)
    opened_by: Mapped[str] = mapped_column(String(64))
    officer: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    extended: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql_false())
    extension_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered: Mapped[date | None] = mapped_column(Date, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(24), nullable=True)
    review_requested: Mapped[date | None] = mapped_column(Date, nullable=True)
    review_decided: Mapped[date | None] = mapped_column(Date, nullable=True)
    review_result: Mapped[str | None] = mapped_column(Text, nullable=True)
    complaint_made: Mapped[date | None] = mapped_column(Date, nullable=True)
    complaint_decided: Mapped[date | None] = mapped_column(Date, nullable=True)
    complaint_result: Mapped[str | None] = mapped_column(Text, nullable=True)
    area: Mapped[str] = mapped_column(String(64))  # the area whose key seals the requester
    requester_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    requester_wrapped_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    retain_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    shredded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    clarifications: Mapped[list[RequestClarificationRow]] = relationship(
        order_by="RequestClarificationRow.id", cascade="all, delete-orphan"
    )
    exemptions: Mapped[list[RequestExemptionRow]] = relationship(
        order_by="RequestExemptionRow.id", cascade="all, delete-orphan"
    )


class RequestClarificationRow(Base):
    """The clock stood from ``sought`` until ``answered`` (None: it still stands)."""

    __tablename__ = "request_clarifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("request_cases.id"), index=True)
    sought: Mapped[date] = mapped_column(Date)
    answered: Mapped[date | None] = mapped_column(Date, nullable=True)


class RequestExemptionRow(Base):
    """One withheld part of an answer and the exemption (with its public-interest test)."""

    __tablename__ = "request_exemptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("request_cases.id"), index=True)
    part: Mapped[str] = mapped_column(Text)
    code: Mapped[str] = mapped_column(String(32))
    public_interest: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RequestFigureRow(Base):
    """A figure asked for in an answer: approved (its value is then public and joins the
    checks of later answers) or refused (the value is not kept: it is confidential)."""

    __tablename__ = "request_figures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("request_cases.id"), index=True)
    area: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(200), index=True)  # DATASET:MEASURE
    cell: Mapped[str] = mapped_column(Text)  # as asked: region=N,industry=A+B+C
    hierarchies_json: Mapped[str] = mapped_column(Text)  # {dimension: [[code, parent]]}
    # an approved figure's hierarchies with every code of each column (sealed: a column may
    # be a unit identifier) and their wrapped data key; NULL: refused, or approved before
    sealed_hierarchies: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    hierarchies_wrapped_key_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    codes_json: Mapped[str] = mapped_column(Text)  # {dimension: the answer's code}
    approved: Mapped[bool] = mapped_column(Boolean)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)  # approved only
    reasons_json: Mapped[str] = mapped_column(Text)  # why refused (no values)
    rule_set: Mapped[str | None] = mapped_column(String(80), nullable=True)
    checked_by: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RequestReleaseRow(Base):
    """A published release that is part of a case's answer (a table answer goes through
    the release workflow: table protect --dataset, two output checkers, the register)."""

    __tablename__ = "request_releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("request_cases.id"), index=True)
    release_id: Mapped[str] = mapped_column(String(64))
    attached_by: Mapped[str] = mapped_column(String(64))
    attached_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
