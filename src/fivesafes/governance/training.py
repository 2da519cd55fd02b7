"""Training courses and completions: a completion is valid for a number of months."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from fivesafes.errors import ValidationError

MANDATORY_COURSE = "Responsible for information"
DEFAULT_VALIDITY_MONTHS = 12


@dataclass(frozen=True)
class Course:
    """A training course; ``mandatory`` courses are required for every access."""

    name: str
    validity_months: int = DEFAULT_VALIDITY_MONTHS
    mandatory: bool = False


@dataclass(frozen=True)
class Completion:
    """One person's completion of one course."""

    course: str
    completed_on: date
    expires_on: date
    evidence: str | None = None

    def valid_on(self, today: date) -> bool:
        """True when the completion counts on ``today`` (expires at the start of expires_on)."""
        return self.completed_on <= today < self.expires_on


def add_months(start: date, months: int) -> date:
    """Return ``start`` plus ``months`` calendar months, clamped to the month's last day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def validate_validity(months: int) -> int:
    """Return ``months`` if it is a sensible course validity, else raise ValidationError."""
    if not 1 <= months <= 120:
        raise ValidationError(
            f"course validity of {months} months is out of range",
            hint="give a validity between 1 and 120 months (default 12)",
        )
    return months


def completion_for(
    course: Course, completed_on: date, today: date, evidence: str | None
) -> Completion:
    """Return the completion record for ``course`` done on ``completed_on``; no future dates."""
    if completed_on > today:
        raise ValidationError(
            f"completion date {completed_on.isoformat()} is in the future",
            hint="record a course only once it has been completed",
        )
    return Completion(
        course=course.name,
        completed_on=completed_on,
        expires_on=add_months(completed_on, course.validity_months),
        evidence=evidence,
    )


def best_expiry(completions: list[Completion], course: str) -> date | None:
    """Return the latest expiry among ``completions`` of ``course`` (None if never done)."""
    dates = [c.expires_on for c in completions if c.course == course]
    return max(dates) if dates else None
