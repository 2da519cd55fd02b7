"""Decide an attempted access to a dataset, and audit the decision whatever it is.

Facts come from the register; approved researchers' facts come from
``fivesafes.services.research.facts.researcher_facts`` (a caller may pass another source,
or None: then an approved researcher is denied, their facts unavailable).
Bad input (unknown person or dataset, odd purpose) is not an error here: it is a
denial with its reasons, and it is audited like any other decision.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from fivesafes.audit.events import Outcome
from fivesafes.governance.access import (
    AccessFacts,
    Decision,
    GrantFact,
    PeopleFacts,
    ResearcherFacts,
    TrainingFact,
    decide_access,
)
from fivesafes.governance.grants import GrantState
from fivesafes.governance.people import PersonStatus
from fivesafes.governance.roles import Role
from fivesafes.services.context import Actor, record, today_or
from fivesafes.services.research.facts import researcher_facts
from fivesafes.store.models.governance import (
    AreaCourseRow,
    AreaRow,
    CompletionRow,
    CourseRow,
    DatasetRow,
    DeclarationVersionRow,
    GrantRow,
    PersonRoleRow,
    PersonRow,
    SignatureRow,
)

# (session, login, dataset, project reference, day) -> an approved researcher's facts
ResearcherFactsSource = Callable[[Session, str, str, str | None, date], ResearcherFacts | None]


# Built once: constructing SQLAlchemy statements costs more than running them on SQLite,
# and an access check runs these five on every attempted access.
_DATASET = (
    select(DatasetRow.area_id, AreaRow.name)
    .join(AreaRow, DatasetRow.area_id == AreaRow.id)
    .where(DatasetRow.name == bindparam("dataset"))
)
_PERSON = (
    select(PersonRow.id, PersonRow.status, PersonRoleRow.role)
    .outerjoin(PersonRoleRow, PersonRoleRow.person_id == PersonRow.id)
    .where(PersonRow.login == bindparam("login"))
)
# Every required course (the mandatory ones and the area's extra ones) with the
# latest expiry among the person's completions up to today (NULL: never done).
_TRAINING = (
    select(CourseRow.name, func.max(CompletionRow.expires_on))
    .outerjoin(
        CompletionRow,
        (CompletionRow.course_id == CourseRow.id)
        & (CompletionRow.person_id == bindparam("person_id"))
        & (CompletionRow.completed_on <= bindparam("day")),
    )
    .where(
        CourseRow.mandatory.is_(True)
        | CourseRow.id.in_(
            select(AreaCourseRow.course_id).where(AreaCourseRow.area_id == bindparam("area_id"))
        )
    )
    .group_by(CourseRow.id, CourseRow.name)
    .order_by(CourseRow.name)
)
_CURRENT_VERSION = select(func.max(DeclarationVersionRow.version)).scalar_subquery()
_DECLARATION = select(
    _CURRENT_VERSION,
    select(func.count())
    .where(
        SignatureRow.person_id == bindparam("person_id"),
        SignatureRow.version == _CURRENT_VERSION,
    )
    .scalar_subquery(),
)
_GRANTS = select(GrantRow.state, GrantRow.start_on, GrantRow.end_on).where(
    GrantRow.person_id == bindparam("person_id"), GrantRow.area_id == bindparam("area_id")
)


def gather_facts(
    session: Session,
    login: str,
    dataset: str,
    purpose: str,
    today: date | None = None,
    project_ref: str | None = None,
    *,
    research: ResearcherFactsSource | None = researcher_facts,
) -> AccessFacts:
    """Collect from the register every fact the access decision needs."""
    day = today_or(today)
    db = session.connection()  # Core queries: the ORM adds nothing to reading facts
    found = db.execute(_DATASET, {"dataset": dataset}).one_or_none()
    area_id, area_name = (found.area_id, found.name) if found is not None else (None, None)
    person_rows = db.execute(_PERSON, {"login": login}).all()
    if not person_rows:
        return AccessFacts(person=login, dataset=dataset, purpose=purpose, dataset_area=area_name)
    person = person_rows[0]
    roles = {r.role for r in person_rows if r.role is not None}
    # No area: only the mandatory courses (area id -1 matches nothing).
    params = {"person_id": person.id, "area_id": -1 if area_id is None else area_id, "day": day}
    training = tuple(
        TrainingFact(name, expires_on, None) for name, expires_on in db.execute(_TRAINING, params)
    )
    current, signed_current = db.execute(_DECLARATION, params).one()
    grants: tuple[GrantFact, ...] = ()
    if area_name is not None:
        grants = tuple(
            GrantFact(area_name, GrantState(state), start_on, end_on)
            for state, start_on, end_on in db.execute(_GRANTS, params)
        )
    researcher = Role.APPROVED_RESEARCHER.value in roles
    rfacts = None
    if researcher and found is not None and research is not None:
        rfacts = research(session, login, dataset, project_ref, day)
    return AccessFacts(
        person=login,
        dataset=dataset,
        purpose=purpose,
        person_known=True,
        person_active=person.status == PersonStatus.ACTIVE.value,
        approved_researcher=researcher,
        dataset_area=area_name,
        training=training,
        current_declaration=current,
        # Only whether the current version is signed matters to the decision.
        signed_declarations=frozenset({current}) if signed_current else frozenset(),
        grants=grants,
        researcher=rfacts,
    )


_AREA_ID = select(AreaRow.id).where(AreaRow.name == bindparam("area"))


def gather_people_facts(
    session: Session, login: str, area: str | None, today: date | None = None
) -> PeopleFacts:
    """The people-check facts of ``login`` for work on ``area`` (its extra courses count)."""
    day = today_or(today)
    db = session.connection()
    person_rows = db.execute(_PERSON, {"login": login}).all()
    if not person_rows:
        return PeopleFacts(person=login)
    person = person_rows[0]
    area_id = db.execute(_AREA_ID, {"area": area}).scalar() if area is not None else None
    params = {"person_id": person.id, "area_id": -1 if area_id is None else area_id, "day": day}
    training = tuple(
        TrainingFact(name, expires_on, None) for name, expires_on in db.execute(_TRAINING, params)
    )
    current, signed_current = db.execute(_DECLARATION, params).one()
    return PeopleFacts(
        person=login,
        person_known=True,
        person_active=person.status == PersonStatus.ACTIVE.value,
        training=training,
        current_declaration=current,
        signed_declarations=frozenset({current}) if signed_current else frozenset(),
    )


def decision_details(facts: AccessFacts, decision: Decision) -> dict[str, Any]:
    """The JSON details an access decision is audited with."""
    return {
        "person": facts.person,
        "purpose": facts.purpose,
        "allowed": decision.allowed,
        "reasons": [{"code": r.code.value, "message": r.message} for r in decision.reasons],
    }


def check_access(
    session: Session,
    actor: Actor,
    login: str,
    dataset: str,
    purpose: str,
    today: date | None = None,
    project_ref: str | None = None,
    *,
    research: ResearcherFactsSource | None = researcher_facts,
) -> Decision:
    """Decide whether ``login`` may use ``dataset`` for ``purpose`` today; always audited."""
    day = today_or(today)
    facts = gather_facts(session, login, dataset, purpose, day, project_ref, research=research)
    decision = decide_access(facts, day)
    record(
        session,
        actor.login,
        "access.decide",
        outcome=Outcome.ALLOWED if decision.allowed else Outcome.DENIED,
        area=facts.dataset_area,
        dataset=dataset,
        subject=login,
        details=decision_details(facts, decision) | {"project": project_ref},
    )
    return decision
