"""Approved researchers: record accreditations, list them, and gather the facts
the access decision needs about a researcher (``researcher_facts``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from fivesafes.errors import AccessDenied, ConflictError, ValidationError
from fivesafes.governance import permissions
from fivesafes.governance.access import ResearcherFacts
from fivesafes.governance.research import (
    SAFE_RESEARCHER_COURSE,
    Accreditation,
    AccreditationLevel,
    ProjectStatus,
    SupervisorFacts,
    check_supervisor,
    default_expiry,
    is_active,
    is_staff,
    supervisor_ok,
    validate_accreditation,
)
from fivesafes.governance.roles import Role
from fivesafes.services.context import Actor, now, record, today_or
from fivesafes.services.lookup import person_row
from fivesafes.store.models.governance import (
    CompletionRow,
    CourseRow,
    DatasetRow,
    PersonRoleRow,
    PersonRow,
)
from fivesafes.store.models.research import (
    AccreditationRow,
    ProjectDatasetRow,
    ProjectMemberRow,
    ProjectRow,
)

# Who may record an accreditation received from an accrediting body.
ACCREDITING_ROLES = frozenset({Role.ADMINISTRATOR, Role.HEAD_OF_PROFESSION})


def roles_of(row: PersonRow) -> frozenset[str]:
    """The role names a person row holds."""
    return frozenset(r.role for r in row.roles)


def current_accreditation(session: Session, person_id: int, today: date) -> AccreditationRow | None:
    """The accreditation that counts today: the one granted most recently, not in the future."""
    return session.scalars(
        select(AccreditationRow)
        .where(AccreditationRow.person_id == person_id, AccreditationRow.granted_on <= today)
        .order_by(AccreditationRow.granted_on.desc(), AccreditationRow.id.desc())
        .limit(1)
    ).first()


def accreditation_of(row: AccreditationRow) -> Accreditation:
    """The domain view of an accreditation row."""
    return Accreditation(
        researcher=row.person.login,
        body=row.body,
        reference=row.reference,
        level=AccreditationLevel(row.level),
        granted=row.granted_on,
        expires=row.expires_on,
        supervisor=row.supervisor.login if row.supervisor else None,
    )


def supervisor_facts(session: Session, row: PersonRow, today: date) -> SupervisorFacts:
    """What decides whether ``row`` may supervise a provisional researcher today."""
    acc = current_accreditation(session, row.id, today)
    full = (
        acc is not None
        and acc.level == AccreditationLevel.FULL.value
        and acc.granted_on <= today <= acc.expires_on
    )
    return SupervisorFacts(
        login=row.login,
        active=row.status == "active",
        is_staff=is_staff(roles_of(row)),
        full_accreditation_valid=full,
    )


def accreditation_valid(session: Session, row: PersonRow, today: date) -> bool:
    """True when ``row`` holds an accreditation valid today (supervisor included)."""
    acc = current_accreditation(session, row.id, today)
    if acc is None or not acc.granted_on <= today <= acc.expires_on:
        return False
    sup = supervisor_facts(session, acc.supervisor, today) if acc.supervisor else None
    return supervisor_ok(AccreditationLevel(acc.level), sup)


def training_valid(session: Session, person_id: int, course: str, today: date) -> bool:
    """True when the person's latest completion of ``course`` is valid today."""
    expiries = session.scalars(
        select(CompletionRow.expires_on)
        .join(CourseRow, CourseRow.id == CompletionRow.course_id)
        .where(
            CompletionRow.person_id == person_id,
            CourseRow.name == course,
            CompletionRow.completed_on <= today,
        )
    ).all()
    return any(today < expires for expires in expiries)


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


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def as_json(view: Any) -> dict[str, Any]:
    """A dataclass view as a JSON-ready dict (dates as ISO strings, tuples as lists)."""
    out: dict[str, Any] = _jsonable(asdict(view))
    return out


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


# Core statements built once: researcher_facts runs on every access check of a researcher.
_PERSON_ID = select(PersonRow.id).where(PersonRow.login == bindparam("login"))
_ACCREDITATION = (
    select(AccreditationRow.level, AccreditationRow.expires_on, AccreditationRow.supervisor_id)
    .where(
        AccreditationRow.person_id == bindparam("person_id"),
        AccreditationRow.granted_on <= bindparam("day"),
    )
    .order_by(AccreditationRow.granted_on.desc(), AccreditationRow.id.desc())
    .limit(1)
)
_TRAINED = (
    select(CompletionRow.id)
    .join(CourseRow, CourseRow.id == CompletionRow.course_id)
    .where(
        CompletionRow.person_id == bindparam("person_id"),
        CourseRow.name == SAFE_RESEARCHER_COURSE,
        CompletionRow.completed_on <= bindparam("day"),
        CompletionRow.expires_on > bindparam("day"),
    )
    .limit(1)
)
_PROJECT = select(ProjectRow.id, ProjectRow.status, ProjectRow.start_on, ProjectRow.end_on).where(
    ProjectRow.reference == bindparam("ref")
)
_MEMBER = (
    select(ProjectMemberRow.id)
    .where(
        ProjectMemberRow.project_id == bindparam("project_id"),
        ProjectMemberRow.person_id == bindparam("person_id"),
        ProjectMemberRow.removed_at.is_(None),
    )
    .limit(1)
)
_IN_SCOPE = (
    select(ProjectDatasetRow.id)
    .join(DatasetRow, DatasetRow.id == ProjectDatasetRow.dataset_id)
    .where(
        ProjectDatasetRow.project_id == bindparam("project_id"),
        DatasetRow.name == bindparam("dataset"),
        ProjectDatasetRow.removed_at.is_(None),
    )
    .limit(1)
)


def researcher_facts(
    session: Session,
    person: str | PersonRow,
    dataset: str | DatasetRow | None,
    project_ref: str | None,
    today: date,
) -> ResearcherFacts:
    """Gather what the access decision needs about a researcher; anything unknown denies."""
    db = session.connection()
    person_id = (
        db.execute(_PERSON_ID, {"login": person}).scalar() if isinstance(person, str) else person.id
    )
    dataset_name = dataset.name if isinstance(dataset, DatasetRow) else dataset
    level: str | None = None
    expires: date | None = None
    sup_ok = training_ok = False
    if person_id is not None:
        params = {"person_id": person_id, "day": today}
        acc = db.execute(_ACCREDITATION, params).one_or_none()
        if acc is not None:
            level, expires = acc.level, acc.expires_on
            supervisor = session.get(PersonRow, acc.supervisor_id) if acc.supervisor_id else None
            sup = supervisor_facts(session, supervisor, today) if supervisor else None
            sup_ok = level in set(AccreditationLevel) and supervisor_ok(
                AccreditationLevel(level), sup
            )
        training_ok = db.execute(_TRAINED, params).first() is not None
    project = db.execute(_PROJECT, {"ref": project_ref}).one_or_none() if project_ref else None
    active = includes_person = includes_dataset = False
    if project is not None:
        active = is_active(ProjectStatus(project.status), project.start_on, project.end_on, today)
        includes_person = (
            person_id is not None
            and db.execute(_MEMBER, {"project_id": project.id, "person_id": person_id}).first()
            is not None
        )
        includes_dataset = (
            dataset_name is not None
            and db.execute(_IN_SCOPE, {"project_id": project.id, "dataset": dataset_name}).first()
            is not None
        )
    return ResearcherFacts(
        accreditation_level=level,
        accreditation_expires=expires,
        supervisor_ok=sup_ok,
        project_ref=project_ref or None,
        project_active=active,
        project_includes_person=includes_person,
        project_includes_dataset=includes_dataset,
        safe_researcher_training_valid=training_ok,
    )
