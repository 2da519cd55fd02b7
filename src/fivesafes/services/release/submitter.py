"""The project an output is submitted under, and the datasets it says it used.

An approved researcher reaches an area's microdata only with a current accreditation and
under an active project that includes them and covers the dataset; an output of it leaves
only so too, and so does an output that says it used another dataset (``--dataset``):
each is decided as a read of it is, under the same project, on the day of submission.

Staff need no project; a project a staff member names is recorded with the version, so
it must be true of the output: it exists, is active on the day of submission and covers
the output's dataset (they need not be a member: staff submit for projects they support).
Each other dataset a staff member names as used is decided as their read of it (a grant,
not a project), so that what the version records is true of its author.
Every decision here is audited, a refusal after the submission's rollback.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.audit.events import Outcome
from fivesafes.errors import AccessDenied
from fivesafes.governance.access import decide_access
from fivesafes.governance.grants import STATISTICAL
from fivesafes.governance.research_projects import ProjectStatus, effective_status
from fivesafes.governance.roles import Role
from fivesafes.services.context import Actor, record, today_or
from fivesafes.services.governance.access import decision_details, gather_facts
from fivesafes.services.research.facts import active_projects_covering
from fivesafes.store.models.governance import DatasetRow
from fivesafes.store.models.research import ProjectDatasetRow, ProjectRow

STAFF_PROJECT = "release.project_check"  # the audit action of a staff-named project's check


@dataclass(frozen=True)
class _Submitting:
    """Who submits an output of ``dataset`` from ``area``, on which day."""

    actor: Actor
    area: str
    dataset: str
    day: date


def check_submitter_scope(
    session: Session,
    actor: Actor,
    area: str,
    dataset: str,
    context: Any,
    today: date | None,
) -> Any:
    """Decide the project of a submission (``context``: a SubmissionContext) of ``dataset``
    from ``area``; AccessDenied (audited) when it may not go under it.

    A researcher's project is ``context.project``, else their only active project covering
    ``dataset``; the context returned carries it (recorded with the version).
    """
    who = _Submitting(actor, area, dataset, today_or(today))
    staff = Role.APPROVED_RESEARCHER not in actor.person.roles
    project = context.project.strip() or None
    if staff:
        if project is not None:
            _check_staff_project(session, who, project)
    else:
        covering: tuple[str, ...] = ()
        if project is None:
            covering = active_projects_covering(session, actor.id, dataset, who.day)
            project = covering[0] if len(covering) == 1 else None
        what = f"submit an output of dataset {dataset} from area {area}"
        hint = _hint(actor.login, dataset, project, covering)
        _decide_read(session, who, dataset, project, what, hint)
    read_under = None if staff else project  # staff read under grants, not a project
    # what the version records as used must be true of its author too, and is recorded
    # as checked (stripped, once each), not as typed
    named = _named(context)
    for used in named:
        if used == dataset:
            continue  # the output's own dataset: decided above (or by the grant, for staff)
        what = f"submit an output from area {area} naming dataset {used} among the datasets used"
        _decide_read(
            session, who, used, read_under, what, _used_hint(actor.login, used, staff, project)
        )
    return replace(context, project=project or "", datasets=named)


def _named(context: Any) -> tuple[str, ...]:
    """The datasets the submission names as used, as checked and recorded: each once, in
    the order given, blank entries dropped."""
    named = (str(d).strip() for d in context.datasets)
    return tuple(d for d in dict.fromkeys(named) if d)


def _used_hint(login: str, used: str, staff: bool, project: str | None) -> str:
    if staff:
        return (
            "every dataset named with --dataset must be a registered dataset you may read "
            f"(a current grant to its area, training, declaration): leave out {used}, or "
            f"see: fivesafes access check {login} {used} --purpose statistical"
        )
    return (
        f"every dataset named with --dataset must be one your project {project} covers "
        f"and you may read: leave out {used}, or ask the project's lead to add it"
    )


def _decide_read(
    session: Session, who: _Submitting, dataset: str, project: str | None, what: str, hint: str
) -> None:
    """The read's own decision (``decide_access``) for ``dataset`` under ``project``, audited
    (``access.decide``) either way."""
    facts = gather_facts(session, who.actor.login, dataset, STATISTICAL, who.day, project)
    decision = decide_access(facts, who.day)
    details = decision_details(facts, decision) | {"project": project, "for": what}

    def audit(s: Session, outcome: Outcome) -> None:
        record(
            s,
            who.actor.login,
            "access.decide",
            outcome=outcome,
            area=facts.dataset_area or who.area,
            dataset=dataset,
            subject=who.actor.login,
            details=details,
        )

    if decision.allowed:
        audit(session, Outcome.ALLOWED)
        return
    reasons = tuple(r.message for r in decision.reasons)
    refused = AccessDenied(
        f"{who.actor.login} may not {what}: " + "; ".join(reasons), reasons=reasons, hint=hint
    )
    refused.audited_by(lambda s: audit(s, Outcome.DENIED))
    raise refused


def _hint(login: str, dataset: str, project: str | None, covering: tuple[str, ...]) -> str:
    if project is None and covering:
        return (
            f"more than one of your active projects covers {dataset} ({', '.join(covering)}): "
            "name the one the output was made under with --project REF"
        )
    if project is None:
        return (
            f"none of your projects covering {dataset} is active today: an approved "
            "researcher's output leaves only under one; name it with --project REF, or ask "
            f"its lead for an extension or to add {dataset} (see: fivesafes researcher show "
            f"{login})"
        )
    return (
        "an approved researcher's output leaves only with a current accreditation, under an "
        f"active project that includes them and covers its dataset; see: fivesafes access "
        f"check {login} {dataset} --purpose statistical --project {project}"
    )


def _check_staff_project(session: Session, who: _Submitting, reference: str) -> None:
    """A staff-named project must exist, be active on the day and cover the dataset."""
    row = session.scalars(select(ProjectRow).where(ProjectRow.reference == reference)).first()
    problem = None
    if row is None:
        problem = f"there is no project {reference}"
    else:
        status = effective_status(ProjectStatus(row.status), row.start_on, row.end_on, who.day)
        covers = session.scalars(
            select(ProjectDatasetRow.id)
            .join(DatasetRow, DatasetRow.id == ProjectDatasetRow.dataset_id)
            .where(
                ProjectDatasetRow.project_id == row.id,
                DatasetRow.name == who.dataset,
                ProjectDatasetRow.removed_at.is_(None),
            )
        ).first()
        if status is not ProjectStatus.ACTIVE:
            problem = (
                f"project {reference} is not active on {who.day} (it is {status.value}, "
                f"{row.start_on} to {row.end_on})"
            )
        elif covers is None:
            problem = f"project {reference} does not cover dataset {who.dataset}"
    details = {"project": reference, "day": who.day.isoformat(), "problem": problem}

    def audit(s: Session, outcome: Outcome) -> None:
        record(
            s,
            who.actor.login,
            STAFF_PROJECT,
            outcome=outcome,
            area=who.area,
            dataset=who.dataset,
            subject=reference,
            details=details,
        )

    if problem is None:
        audit(session, Outcome.ALLOWED)
        return
    refused = AccessDenied(
        f"{who.actor.login} may not submit an output of dataset {who.dataset} from area "
        f"{who.area} under project {reference}: {problem}",
        reasons=(problem,),
        hint="name a project that is active today and covers the output's dataset (see: "
        f"fivesafes project show {reference}), or leave out --project: staff need none",
    )
    refused.audited_by(lambda s: audit(s, Outcome.DENIED))
    raise refused
