"""Training courses, completions, and the courses an area requires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fivesafes.errors import ConflictError, ValidationError
from fivesafes.governance import permissions
from fivesafes.governance.roles import Role
from fivesafes.governance.training import (
    DEFAULT_VALIDITY_MONTHS,
    Completion,
    Course,
    completion_for,
    validate_validity,
)
from fivesafes.services.context import Actor, now, record, today_or
from fivesafes.services.governance.lookup import course_row, person_row
from fivesafes.store.models.governance import CompletionRow, CourseRow, PersonRoleRow, PersonRow


def course_of(row: CourseRow) -> Course:
    """Return the domain view of a course row."""
    return Course(row.name, row.validity_months, row.mandatory)


def add_course(
    session: Session,
    actor: Actor,
    name: str,
    validity_months: int = DEFAULT_VALIDITY_MONTHS,
    mandatory: bool = False,
) -> Course:
    """Register a training course (administrators only)."""
    permissions.check_administer(actor.person)
    name = name.strip()
    if not name:
        raise ValidationError("a course needs a name", hint="give the course title")
    validate_validity(validity_months)
    if session.scalars(select(CourseRow.id).where(CourseRow.name == name)).first() is not None:
        raise ConflictError(
            f"course {name!r} is already registered", hint="see `fivesafes training courses`"
        )
    row = CourseRow(name=name, validity_months=validity_months, mandatory=mandatory)
    session.add(row)
    session.flush()
    record(
        session,
        actor.login,
        "course.add",
        subject=name,
        details={"validity_months": validity_months, "mandatory": mandatory},
    )
    return course_of(row)


def record_completion(
    session: Session,
    actor: Actor,
    login: str,
    course: str,
    completed_on: date,
    evidence: str | None = None,
    today: date | None = None,
) -> Completion:
    """Record that ``login`` completed ``course`` on ``completed_on`` (self or an administrator)."""
    own = actor.login == login
    permissions.check_record_training(
        actor.person, login, sole_administrator=own and _sole_administrator(session, login)
    )
    person = person_row(session, login)
    crow = course_row(session, course)
    done = completion_for(course_of(crow), completed_on, today_or(today), evidence)
    session.add(
        CompletionRow(
            person_id=person.id,
            course_id=crow.id,
            completed_on=done.completed_on,
            expires_on=done.expires_on,
            evidence=evidence,
            recorded_at=now(),
            recorded_by=actor.login,
        )
    )
    session.flush()
    record(
        session,
        actor.login,
        "training.complete",
        subject=login,
        details={
            "course": course,
            "completed_on": completed_on.isoformat(),
            "expires_on": done.expires_on.isoformat(),
            "evidence": evidence,
            # the only administrator recording their own: allowed (nobody else could),
            # flagged here and by the review until another administrator records it
            **({"self_recorded": True} if own else {}),
        },
    )
    return done


def _sole_administrator(session: Session, login: str) -> bool:
    """True when ``login`` is the only active administrator (nobody else could record)."""
    others = session.scalar(
        select(func.count(PersonRow.id))
        .join(PersonRoleRow, PersonRoleRow.person_id == PersonRow.id)
        .where(
            PersonRow.status == "active",
            PersonRow.login != login,
            PersonRoleRow.role == Role.ADMINISTRATOR.value,
        )
    )
    return not others


def list_courses(session: Session) -> list[Course]:
    """Every registered course, mandatory first."""
    rows = session.scalars(select(CourseRow).order_by(CourseRow.mandatory.desc(), CourseRow.name))
    return [course_of(r) for r in rows]


@dataclass(frozen=True)
class TrainingStatus:
    """A person's latest completion of one course and whether it is valid today."""

    course: str
    completed_on: date | None
    expires_on: date | None
    valid: bool


def training_of(session: Session, login: str, today: date | None = None) -> list[TrainingStatus]:
    """The latest completion of every course for ``login`` (never-done courses included)."""
    day = today_or(today)
    person = person_row(session, login)
    latest: dict[int, CompletionRow] = {}
    for c in session.scalars(
        select(CompletionRow).where(CompletionRow.person_id == person.id)
    ).all():
        if c.course_id not in latest or c.expires_on > latest[c.course_id].expires_on:
            latest[c.course_id] = c
    out = []
    for course in session.scalars(select(CourseRow).order_by(CourseRow.name)).all():
        found = latest.get(course.id)
        if found is None:
            out.append(TrainingStatus(course.name, None, None, False))
        else:
            valid = found.completed_on <= day < found.expires_on
            out.append(TrainingStatus(course.name, found.completed_on, found.expires_on, valid))
    return out
