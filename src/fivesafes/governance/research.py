"""Approved researchers: accreditation validity and supervisors (pure rules).

Projects are in ``research_projects``, their change requests in
``research_changes``. No database here: services gather plain facts, call these
functions, and record the outcome with its audit event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from fivesafes.errors import ValidationError
from fivesafes.governance.roles import Role

ROLE_RESEARCHER = Role.APPROVED_RESEARCHER
ROLE_HEAD_OF_PROFESSION = Role.HEAD_OF_PROFESSION
ROLE_ASSET_OWNER = Role.INFORMATION_ASSET_OWNER

SAFE_RESEARCHER_COURSE = "Safe researcher training"
STATISTICAL_PURPOSE = "statistical"


class AccreditationLevel(StrEnum):
    """How far an accrediting body trusts a researcher."""

    FULL = "full"
    PROVISIONAL = "provisional"


# Maximum life of an accreditation, in years (ONS/UKSA Digital Economy Act pattern).
ACCREDITATION_YEARS: dict[AccreditationLevel, int] = {
    AccreditationLevel.FULL: 5,
    AccreditationLevel.PROVISIONAL: 3,
}


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def default_expiry(level: AccreditationLevel, granted: date) -> date:
    """The last valid day of an accreditation of ``level`` granted on ``granted``."""
    return add_years(granted, ACCREDITATION_YEARS[level]) - timedelta(days=1)


def parse_level(text: str) -> AccreditationLevel:
    """Read an accreditation level, or raise a ValidationError naming the choices."""
    try:
        return AccreditationLevel(text.strip().lower())
    except ValueError:
        choices = ", ".join(level.value for level in AccreditationLevel)
        raise ValidationError(
            f"unknown accreditation level {text!r}", hint=f"use one of: {choices}"
        ) from None


@dataclass(frozen=True)
class Accreditation:
    """A researcher's accreditation as recorded from the accrediting body."""

    researcher: str  # login
    body: str
    reference: str
    level: AccreditationLevel
    granted: date
    expires: date  # the last valid day, as decide_access reads it
    supervisor: str | None = None  # login of the named supervisor (provisional only)

    def valid_on(self, today: date) -> bool:
        """True when the accreditation counts on ``today`` (both ends inclusive)."""
        return self.granted <= today <= self.expires


def validate_accreditation(acc: Accreditation) -> None:
    """Raise ValidationError unless the accreditation record is well formed."""
    if not acc.body.strip():
        raise ValidationError(
            "the accrediting body is empty", hint="give --body, e.g. 'UK Statistics Authority'"
        )
    if not acc.reference.strip():
        raise ValidationError(
            "the accreditation reference is empty",
            hint="give --reference as printed on the accreditation letter",
        )
    if acc.expires < acc.granted:
        raise ValidationError(
            f"accreditation expires on {acc.expires}, before it was granted ({acc.granted})",
            hint="give an expiry date after the grant date, or leave --expires out for the default",
        )
    limit = default_expiry(acc.level, acc.granted)
    if acc.expires > limit:
        raise ValidationError(
            f"a {acc.level.value} accreditation lasts at most "
            f"{ACCREDITATION_YEARS[acc.level]} years (until {limit}), not until {acc.expires}",
            hint="use the expiry date on the accreditation letter, at most the maximum",
        )
    if acc.level is AccreditationLevel.PROVISIONAL:
        if not acc.supervisor:
            raise ValidationError(
                "a provisional accreditation needs a named supervisor",
                hint="give --supervisor LOGIN: a fully accredited researcher or staff member",
            )
        if acc.supervisor == acc.researcher:
            raise ValidationError(
                "a researcher cannot supervise themselves",
                hint="name another person as --supervisor",
            )
    elif acc.supervisor is not None:
        raise ValidationError(
            "only a provisional accreditation has a supervisor",
            hint="leave --supervisor out for a full accreditation",
        )


def is_staff(roles: Iterable[str]) -> bool:
    """True when a person holds any role besides approved researcher (i.e. is staff)."""
    return any(role != ROLE_RESEARCHER for role in roles)


@dataclass(frozen=True)
class SupervisorFacts:
    """What is known about a named supervisor on the day of a decision."""

    login: str
    active: bool
    is_staff: bool
    full_accreditation_valid: bool


def supervisor_ok(level: AccreditationLevel | None, supervisor: SupervisorFacts | None) -> bool:
    """True when the accreditation needs no supervisor or has a supervisor who still qualifies."""
    if level is AccreditationLevel.FULL:
        return True
    if level is None or supervisor is None:
        return False
    return supervisor.active and (supervisor.is_staff or supervisor.full_accreditation_valid)


def check_supervisor(supervisor: SupervisorFacts) -> None:
    """Raise ValidationError unless the person may supervise a provisional researcher."""
    if not supervisor.active:
        raise ValidationError(
            f"{supervisor.login} has left and cannot supervise",
            hint="name an active supervisor",
        )
    if not (supervisor.is_staff or supervisor.full_accreditation_valid):
        raise ValidationError(
            f"{supervisor.login} is neither staff nor a fully accredited researcher",
            hint="a supervisor must hold a valid full accreditation or be a member of staff",
        )
