"""Read views of approved projects, and the plain facts the project rules need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import NotFoundError
from fivesafes.governance.research import (
    is_staff,
)
from fivesafes.governance.research_changes import (
    ProjectState,
)
from fivesafes.governance.research_projects import (
    ActorFacts,
    MemberFacts,
    ProjectFacts,
    ProjectStatus,
    effective_status,
)
from fivesafes.services.context import Actor
from fivesafes.services.governance.lookup import one_by
from fivesafes.services.research.facts import accreditation_valid, as_json, roles_of
from fivesafes.store.models.governance import AreaRow, PersonRow
from fivesafes.store.models.research import (
    ProjectChangeRow,
    ProjectDatasetRow,
    ProjectMemberRow,
    ProjectRow,
)


@dataclass(frozen=True)
class ChangeView:
    """A change request and its decision."""

    id: int
    project: str
    kind: str
    status: str
    reason: str
    payload: dict[str, Any]
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return as_json(self)


@dataclass(frozen=True)
class ProjectView:
    """A project as the CLI shows it, with its status as of a day."""

    reference: str
    title: str
    purpose: str
    purpose_category: str
    public_benefit: str
    start: date
    end: date
    stored_status: str
    status: str  # as of the day asked about: approved projects are active between the dates
    lead: str
    members: tuple[str, ...]
    datasets: tuple[str, ...]
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    closed_at: datetime | None
    former_members: tuple[str, ...]
    former_datasets: tuple[str, ...]
    changes: tuple[ChangeView, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return as_json(self)


def project_row(session: Session, reference: str) -> ProjectRow:
    """The project with ``reference`` or NotFoundError."""
    return one_by(
        session,
        ProjectRow,
        ProjectRow.reference,
        reference,
        missing=f"no project with reference {reference!r}",
        hint="see `fivesafes project list`, or propose it: fivesafes project propose ...",
    )


def change_row(session: Session, change_id: int) -> ProjectChangeRow:
    """Change request number ``change_id`` or NotFoundError."""
    row = session.get(ProjectChangeRow, change_id)
    if row is None:
        raise NotFoundError(
            f"no change request number {change_id}",
            hint="see the numbers in `fivesafes project show REF`",
        )
    return row


def current_members(row: ProjectRow) -> list[ProjectMemberRow]:
    """Team rows still current (not removed)."""
    return [m for m in row.members if m.removed_at is None]


def current_datasets(row: ProjectRow) -> list[ProjectDatasetRow]:
    """Scope rows still current (not removed)."""
    return [d for d in row.datasets if d.removed_at is None]


def change_view(row: ProjectChangeRow, reference: str) -> ChangeView:
    """The display view of a change request row."""
    return ChangeView(
        id=row.id,
        project=reference,
        kind=row.kind,
        status=row.status,
        reason=row.reason,
        payload=dict(row.payload),
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_note=row.decision_note,
    )


def project_view(row: ProjectRow, today: date) -> ProjectView:
    """The display view of a project row as of ``today``."""
    current_people = {m.person.login for m in current_members(row)}
    current_sets = {d.dataset.name for d in current_datasets(row)}
    status = effective_status(ProjectStatus(row.status), row.start_on, row.end_on, today)
    return ProjectView(
        reference=row.reference,
        title=row.title,
        purpose=row.purpose,
        purpose_category=row.purpose_category,
        public_benefit=row.public_benefit,
        start=row.start_on,
        end=row.end_on,
        stored_status=row.status,
        status=status.value,
        lead=row.lead.login,
        members=tuple(sorted(current_people - {row.lead.login})),
        datasets=tuple(sorted(current_sets)),
        proposed_by=row.proposed_by,
        proposed_at=row.proposed_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_note=row.decision_note,
        closed_at=row.closed_at,
        former_members=tuple(
            sorted({m.person.login for m in row.members if m.removed_at} - current_people)
        ),
        former_datasets=tuple(
            sorted({d.dataset.name for d in row.datasets if d.removed_at} - current_sets)
        ),
        changes=tuple(change_view(c, row.reference) for c in row.changes),
    )


def member_facts(session: Session, row: PersonRow, today: date) -> MemberFacts:
    """What decides whether ``row`` may be on a project team today."""
    return MemberFacts(
        login=row.login,
        active=row.status == "active",
        is_staff=is_staff(roles_of(row)),
        accreditation_valid=accreditation_valid(session, row, today),
    )


def actor_facts(session: Session, actor: Actor) -> ActorFacts:
    """The actor's roles and the restricted areas they own."""
    owned = session.scalars(select(AreaRow.name).where(AreaRow.owner_id == actor.id)).all()
    return ActorFacts(
        login=actor.login,
        roles=frozenset(r.value for r in actor.person.roles),
        owned_areas=frozenset(owned),
        active=actor.person.active,
    )


def project_facts(row: ProjectRow) -> ProjectFacts:
    """What the approval rules need to know about a project row."""
    return ProjectFacts(
        reference=row.reference,
        status=ProjectStatus(row.status),
        lead=row.lead.login,
        members=frozenset(m.person.login for m in current_members(row)) - {row.lead.login},
        dataset_areas=frozenset(d.dataset.area.name for d in current_datasets(row)),
        start=row.start_on,
        end=row.end_on,
    )


def project_state(row: ProjectRow) -> ProjectState:
    """The parts of a project row a change request can alter."""
    return ProjectState(
        reference=row.reference,
        status=ProjectStatus(row.status),
        lead=row.lead.login,
        members=frozenset(m.person.login for m in current_members(row)) - {row.lead.login},
        datasets=frozenset(d.dataset.name for d in current_datasets(row)),
        start=row.start_on,
        end=row.end_on,
    )
