"""Facts about approved researchers: their current accreditation, supervisor and
training, and ``researcher_facts`` for the access decision (read-only helpers)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from fivesafes.governance.access import ResearcherFacts
from fivesafes.governance.research import (
    SAFE_RESEARCHER_COURSE,
    Accreditation,
    AccreditationLevel,
    SupervisorFacts,
    is_staff,
    supervisor_ok,
)
from fivesafes.governance.research_projects import (
    ProjectStatus,
    is_active,
)
from fivesafes.store.models.governance import (
    CompletionRow,
    CourseRow,
    DatasetRow,
    PersonRow,
)
from fivesafes.store.models.research import (
    AccreditationRow,
    ProjectDatasetRow,
    ProjectMemberRow,
    ProjectRow,
)


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


def active_projects_covering(
    session: Session, person_id: int, dataset: str, today: date
) -> tuple[str, ...]:
    """References of the projects active today that include the person and cover ``dataset``."""
    rows = session.execute(
        select(ProjectRow.reference, ProjectRow.status, ProjectRow.start_on, ProjectRow.end_on)
        .join(ProjectMemberRow, ProjectMemberRow.project_id == ProjectRow.id)
        .join(ProjectDatasetRow, ProjectDatasetRow.project_id == ProjectRow.id)
        .join(DatasetRow, DatasetRow.id == ProjectDatasetRow.dataset_id)
        .where(
            ProjectMemberRow.person_id == person_id,
            ProjectMemberRow.removed_at.is_(None),
            DatasetRow.name == dataset,
            ProjectDatasetRow.removed_at.is_(None),
        )
        .order_by(ProjectRow.reference)
    ).all()
    active = (r for r in rows if is_active(ProjectStatus(r.status), r.start_on, r.end_on, today))
    return tuple(dict.fromkeys(r.reference for r in active))


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
