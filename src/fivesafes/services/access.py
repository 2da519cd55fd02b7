"""Decide an attempted access to a dataset, and audit the decision whatever it is.

Facts come from the register; approved researchers' facts come from RESEARCH's
``fivesafes.services.research.researcher_facts`` when that module is installed.
Bad input (unknown person or dataset, odd purpose) is not an error here: it is a
denial with its reasons, and it is audited like any other decision.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from fivesafes.audit.events import Outcome
from fivesafes.governance.access import (
    AccessFacts,
    Decision,
    GrantFact,
    ResearcherFacts,
    TrainingFact,
    decide_access,
)
from fivesafes.governance.grants import GrantState
from fivesafes.governance.people import PersonStatus
from fivesafes.governance.roles import Role
from fivesafes.services.context import Actor, record, today_or
from fivesafes.services.declarations import current_version_number
from fivesafes.store.models.governance import (
    AreaCourseRow,
    AreaRow,
    CompletionRow,
    CourseRow,
    DatasetRow,
    GrantRow,
    PersonRoleRow,
    PersonRow,
    SignatureRow,
)

RESEARCH_MODULE = "fivesafes.services.research"


def _researcher_facts_function() -> Callable[..., ResearcherFacts | None] | None:
    # Only a missing module means "unavailable"; an import error inside it is a bug to surface.
    if importlib.util.find_spec(RESEARCH_MODULE) is None:
        return None
    module = importlib.import_module(RESEARCH_MODULE)
    found: Callable[..., ResearcherFacts | None] | None = getattr(module, "researcher_facts", None)
    return found


def gather_facts(
    session: Session,
    login: str,
    dataset: str,
    purpose: str,
    today: date | None = None,
    project_ref: str | None = None,
) -> AccessFacts:
    """Collect from the register every fact the access decision needs."""
    day = today_or(today)
    facts = AccessFacts(person=login, dataset=dataset, purpose=purpose)
    person = session.scalars(select(PersonRow).where(PersonRow.login == login)).one_or_none()
    drow = session.execute(
        select(DatasetRow.id, DatasetRow.area_id, AreaRow.name)
        .join(AreaRow, DatasetRow.area_id == AreaRow.id)
        .where(DatasetRow.name == dataset)
    ).one_or_none()
    area_id = drow.area_id if drow is not None else None
    area_name = drow.name if drow is not None else None
    if person is None:
        return AccessFacts(person=login, dataset=dataset, purpose=purpose, dataset_area=area_name)

    roles = set(
        session.scalars(select(PersonRoleRow.role).where(PersonRoleRow.person_id == person.id))
    )
    # Required courses: every mandatory course, plus the area's extra ones.
    course_filter: ColumnElement[bool] = CourseRow.mandatory.is_(True)
    if area_id is not None:
        extra = select(AreaCourseRow.course_id).where(AreaCourseRow.area_id == area_id)
        course_filter = course_filter | CourseRow.id.in_(extra)
    required = session.execute(
        select(CourseRow.id, CourseRow.name).where(course_filter).order_by(CourseRow.name)
    ).all()
    latest: dict[int, tuple[date, date]] = {}
    for course_id, completed_on, expires_on in session.execute(
        select(CompletionRow.course_id, CompletionRow.completed_on, CompletionRow.expires_on).where(
            CompletionRow.person_id == person.id, CompletionRow.completed_on <= day
        )
    ):
        if course_id not in latest or expires_on > latest[course_id][1]:
            latest[course_id] = (completed_on, expires_on)
    training = tuple(
        TrainingFact(
            name,
            latest[cid][1] if cid in latest else None,
            latest[cid][0] if cid in latest else None,
        )
        for cid, name in required
    )
    signed = frozenset(
        session.scalars(select(SignatureRow.version).where(SignatureRow.person_id == person.id))
    )
    grants: tuple[GrantFact, ...] = ()
    if area_id is not None:
        grants = tuple(
            GrantFact(area_name or "", GrantState(state), start_on, end_on)
            for state, start_on, end_on in session.execute(
                select(GrantRow.state, GrantRow.start_on, GrantRow.end_on).where(
                    GrantRow.person_id == person.id, GrantRow.area_id == area_id
                )
            )
        )
    researcher = Role.APPROVED_RESEARCHER.value in roles
    rfacts = None
    if researcher and drow is not None:
        gather = _researcher_facts_function()
        if gather is not None:
            rfacts = gather(session, login, dataset, project_ref, day)
    return AccessFacts(
        person=facts.person,
        dataset=facts.dataset,
        purpose=facts.purpose,
        person_known=True,
        person_active=person.status == PersonStatus.ACTIVE.value,
        approved_researcher=researcher,
        dataset_area=area_name,
        training=training,
        current_declaration=current_version_number(session),
        signed_declarations=signed,
        grants=grants,
        researcher=rfacts,
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
) -> Decision:
    """Decide whether ``login`` may use ``dataset`` for ``purpose`` today; always audited."""
    day = today_or(today)
    facts = gather_facts(session, login, dataset, purpose, day, project_ref)
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
