"""Approved researchers: record accreditations and supervisors, list and show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import AccessDenied, ConflictError, ValidationError
from fivesafes.governance import permissions
from fivesafes.governance.research import (
    SAFE_RESEARCHER_COURSE,
    Accreditation,
    AccreditationLevel,
    check_supervisor,
    default_expiry,
    supervisor_ok,
    validate_accreditation,
)
from fivesafes.governance.roles import Role
from fivesafes.services.context import Actor, now, record, today_or
from fivesafes.services.governance.lookup import person_row
from fivesafes.services.research.facts import (
    accreditation_valid,
    as_json,
    current_accreditation,
    roles_of,
    supervisor_facts,
    training_valid,
)
from fivesafes.store.models.governance import (
    PersonRoleRow,
    PersonRow,
)
from fivesafes.store.models.research import (
    AccreditationRow,
    ProjectMemberRow,
    ProjectRow,
)

# Who may record an accreditation received from an accrediting body.
ACCREDITING_ROLES = frozenset({Role.ADMINISTRATOR, Role.HEAD_OF_PROFESSION})


@dataclass(frozen=True)
class AccreditationView:
    """An accreditation as the CLI and reports show it."""

    researcher: str
    body: str
    reference: str
    level: str
    granted: date
    expires: date
    supervisor: str | None
    recorded_by: str
    recorded_at: datetime
    valid_today: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO strings)."""
        return as_json(self)


@dataclass(frozen=True)
class ResearcherView:
    """A researcher with the accreditation that counts today and its history."""

    login: str
    name: str
    active: bool
    roles: tuple[str, ...]
    current: AccreditationView | None
    accredited: bool  # valid accreditation with a valid supervisor where needed
    supervisor_ok: bool
    safe_researcher_training_valid: bool
    history: tuple[AccreditationView, ...]
    projects: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO strings)."""
        return as_json(self)


def view_of(row: AccreditationRow, today: date) -> AccreditationView:
    """The display view of an accreditation row."""
    return AccreditationView(
        researcher=row.person.login,
        body=row.body,
        reference=row.reference,
        level=row.level,
        granted=row.granted_on,
        expires=row.expires_on,
        supervisor=row.supervisor.login if row.supervisor else None,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
        valid_today=row.granted_on <= today <= row.expires_on,
    )


def check_record_accreditation(actor: Actor, researcher: str) -> None:
    """Raise AccessDenied unless ``actor`` may record an accreditation for ``researcher``."""
    permissions.check_active(actor.person)
    if actor.login == researcher:
        raise AccessDenied(
            f"{actor.login} may not record their own accreditation",
            reasons=("nobody records their own accreditation",),
            hint="ask an administrator or the head of profession to record it",
        )
    if not (actor.person.roles & ACCREDITING_ROLES):
        raise AccessDenied(
            f"{actor.login} may not record accreditations",
            reasons=("only an administrator or the head of profession records accreditations",),
            hint="ask an administrator or the head of profession",
        )


def accredit(
    session: Session,
    actor: Actor,
    researcher: str,
    *,
    body: str,
    reference: str,
    level: AccreditationLevel,
    granted: date | None = None,
    expires: date | None = None,
    supervisor: str | None = None,
    today: date | None = None,
) -> AccreditationView:
    """Record an accreditation of ``researcher`` (defaults: granted today, maximum length)."""
    day = today_or(today)
    check_record_accreditation(actor, researcher)
    person = person_row(session, researcher)
    if person.status != "active":
        raise ValidationError(
            f"{researcher} is a leaver", hint="only active people can be accredited"
        )
    if Role.APPROVED_RESEARCHER.value not in roles_of(person):
        raise ValidationError(
            f"{researcher} does not hold the approved_researcher role",
            hint=f"give it first: fivesafes people roles {researcher} --add approved_researcher",
        )
    granted_on = granted or day
    if granted_on > day:
        raise ValidationError(
            f"grant date {granted_on} is in the future",
            hint="record an accreditation once the body has granted it",
        )
    acc = Accreditation(
        researcher=researcher,
        body=body.strip(),
        reference=reference.strip(),
        level=level,
        granted=granted_on,
        expires=expires or default_expiry(level, granted_on),
        supervisor=supervisor,
    )
    validate_accreditation(acc)
    supervisor_row = None
    if acc.supervisor is not None:
        supervisor_row = person_row(session, acc.supervisor)
        check_supervisor(supervisor_facts(session, supervisor_row, day))
    clash = session.scalars(
        select(AccreditationRow.id).where(
            AccreditationRow.body == acc.body, AccreditationRow.reference == acc.reference
        )
    ).first()
    if clash is not None:
        raise ConflictError(
            f"accreditation {acc.reference} of {acc.body} is already recorded",
            hint=f"see `fivesafes researcher show {researcher}`; a renewal has a new reference",
        )
    row = AccreditationRow(
        person_id=person.id,
        body=acc.body,
        reference=acc.reference,
        level=acc.level.value,
        granted_on=acc.granted,
        expires_on=acc.expires,
        supervisor_id=supervisor_row.id if supervisor_row else None,
        recorded_at=now(),
        recorded_by=actor.login,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor.login,
        "researcher.accredit",
        subject=researcher,
        details={
            "body": acc.body,
            "reference": acc.reference,
            "level": acc.level.value,
            "granted": acc.granted.isoformat(),
            "expires": acc.expires.isoformat(),
            "supervisor": acc.supervisor,
        },
    )
    return view_of(row, day)


def change_supervisor(
    session: Session,
    actor: Actor,
    researcher: str,
    supervisor: str,
    today: date | None = None,
) -> AccreditationView:
    """Name a new supervisor on a researcher's current provisional accreditation."""
    day = today_or(today)
    check_record_accreditation(actor, researcher)
    person = person_row(session, researcher)
    acc = current_accreditation(session, person.id, day)
    if acc is None or acc.level != AccreditationLevel.PROVISIONAL.value:
        raise ValidationError(
            f"{researcher} holds no provisional accreditation",
            hint="only a provisional accreditation has a supervisor",
        )
    if supervisor == researcher:
        raise ValidationError(
            "a researcher cannot supervise themselves", hint="name another person"
        )
    new = person_row(session, supervisor)
    check_supervisor(supervisor_facts(session, new, day))
    old = acc.supervisor.login if acc.supervisor else None
    if old == supervisor:
        raise ConflictError(f"{supervisor} already supervises {researcher}", hint="nothing to do")
    acc.supervisor_id = new.id
    session.flush()
    session.refresh(acc)
    record(
        session,
        actor.login,
        "researcher.supervisor",
        subject=researcher,
        details={"reference": acc.reference, "from": old, "to": supervisor},
    )
    return view_of(acc, day)


def _researcher_view(session: Session, row: PersonRow, day: date) -> ResearcherView:
    rows = session.scalars(
        select(AccreditationRow)
        .where(AccreditationRow.person_id == row.id)
        .order_by(AccreditationRow.granted_on, AccreditationRow.id)
    ).all()
    current = current_accreditation(session, row.id, day)
    sup_ok = False
    if current is not None:
        sup = supervisor_facts(session, current.supervisor, day) if current.supervisor else None
        sup_ok = supervisor_ok(AccreditationLevel(current.level), sup)
    projects = session.scalars(
        select(ProjectRow.reference)
        .join(ProjectMemberRow, ProjectMemberRow.project_id == ProjectRow.id)
        .where(ProjectMemberRow.person_id == row.id, ProjectMemberRow.removed_at.is_(None))
        .order_by(ProjectRow.reference)
    ).all()
    return ResearcherView(
        login=row.login,
        name=row.name,
        active=row.status == "active",
        roles=tuple(sorted(roles_of(row))),
        current=view_of(current, day) if current else None,
        accredited=accreditation_valid(session, row, day),
        supervisor_ok=sup_ok,
        safe_researcher_training_valid=training_valid(session, row.id, SAFE_RESEARCHER_COURSE, day),
        history=tuple(view_of(r, day) for r in rows),
        projects=tuple(projects),
    )


def list_researchers(session: Session, today: date | None = None) -> list[ResearcherView]:
    """Everyone who holds the approved_researcher role or was ever accredited, by login."""
    day = today_or(today)
    accredited_ids = select(AccreditationRow.person_id)
    role_ids = select(PersonRoleRow.person_id).where(
        PersonRoleRow.role == Role.APPROVED_RESEARCHER.value
    )
    rows = session.scalars(
        select(PersonRow)
        .where(PersonRow.id.in_(accredited_ids) | PersonRow.id.in_(role_ids))
        .order_by(PersonRow.login)
    ).all()
    return [_researcher_view(session, r, day) for r in rows]


def show_researcher(session: Session, login: str, today: date | None = None) -> ResearcherView:
    """One researcher with their accreditation history and projects (NotFoundError if unknown)."""
    return _researcher_view(session, person_row(session, login), today_or(today))
