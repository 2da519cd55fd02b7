"""Approved projects: propose, approve or reject, request and decide changes, close.

Every step authorises the actor, changes the project and appends its audit event
in the caller's transaction; a refused step raises before anything is written.
History stays: team and scope rows are ended (``removed_at``), never deleted, and
each change request keeps its decision.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import AccessDenied, ConflictError, NotFoundError
from fivesafes.governance import permissions
from fivesafes.governance.research import (
    PROJECT_TRANSITIONS,
    ActorFacts,
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
    MemberFacts,
    ProjectAction,
    ProjectFacts,
    ProjectProposal,
    ProjectState,
    ProjectStatus,
    apply_change,
    check_can_approve,
    check_can_decide_change,
    check_can_request_change,
    check_team_member,
    effective_status,
    is_staff,
    next_change_status,
    next_status,
    validate_proposal,
)
from fivesafes.governance.roles import Role
from fivesafes.services.context import Actor, now, record, today_or
from fivesafes.services.lookup import dataset_row, person_row
from fivesafes.services.research import accreditation_valid, as_json, roles_of
from fivesafes.store.models.governance import AreaRow, PersonRow
from fivesafes.store.models.research import (
    ProjectChangeRow,
    ProjectDatasetRow,
    ProjectMemberRow,
    ProjectRow,
)

LEAD, MEMBER = "lead", "member"
# Besides the lead, these may enter a proposal on someone else's behalf.
PROPOSING_ROLES = frozenset({Role.ADMINISTRATOR, Role.HEAD_OF_PROFESSION})


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
    row = session.scalars(select(ProjectRow).where(ProjectRow.reference == reference)).one_or_none()
    if row is None:
        raise NotFoundError(
            f"no project with reference {reference!r}",
            hint="see `fivesafes project list`, or propose it: fivesafes project propose ...",
        )
    return row


def change_row(session: Session, change_id: int) -> ProjectChangeRow:
    """Change request number ``change_id`` or NotFoundError."""
    row = session.get(ProjectChangeRow, change_id)
    if row is None:
        raise NotFoundError(
            f"no change request number {change_id}",
            hint="see the numbers in `fivesafes project show REF`",
        )
    return row


def _current_members(row: ProjectRow) -> list[ProjectMemberRow]:
    return [m for m in row.members if m.removed_at is None]


def _current_datasets(row: ProjectRow) -> list[ProjectDatasetRow]:
    return [d for d in row.datasets if d.removed_at is None]


def _change_view(row: ProjectChangeRow, reference: str) -> ChangeView:
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
    current_people = {m.person.login for m in _current_members(row)}
    current_sets = {d.dataset.name for d in _current_datasets(row)}
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
        changes=tuple(_change_view(c, row.reference) for c in row.changes),
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


def _facts(row: ProjectRow) -> ProjectFacts:
    return ProjectFacts(
        reference=row.reference,
        status=ProjectStatus(row.status),
        lead=row.lead.login,
        members=frozenset(m.person.login for m in _current_members(row)) - {row.lead.login},
        dataset_areas=frozenset(d.dataset.area.name for d in _current_datasets(row)),
        start=row.start_on,
        end=row.end_on,
    )


def _state(row: ProjectRow) -> ProjectState:
    return ProjectState(
        reference=row.reference,
        status=ProjectStatus(row.status),
        lead=row.lead.login,
        members=frozenset(m.person.login for m in _current_members(row)) - {row.lead.login},
        datasets=frozenset(d.dataset.name for d in _current_datasets(row)),
        start=row.start_on,
        end=row.end_on,
    )


def propose_project(
    session: Session,
    actor: Actor,
    proposal: ProjectProposal,
    today: date | None = None,
) -> ProjectView:
    """Propose a project; the lead proposes it, or an administrator or head of profession."""
    day = today_or(today)
    permissions.check_active(actor.person)
    if actor.login != proposal.lead and not (actor.person.roles & PROPOSING_ROLES):
        raise AccessDenied(
            f"{actor.login} may not propose a project led by {proposal.lead}",
            reasons=("only the lead, an administrator or the head of profession proposes",),
            hint="ask the lead to propose it, or make yourself the lead (--lead)",
        )
    if proposal.lead in proposal.members:
        proposal = replace(
            proposal, members=tuple(m for m in proposal.members if m != proposal.lead)
        )
    lead_row = person_row(session, proposal.lead)
    member_rows = [person_row(session, login) for login in proposal.members]
    dataset_rows = [dataset_row(session, name) for name in proposal.datasets]
    validate_proposal(proposal, [member_facts(session, r, day) for r in [lead_row, *member_rows]])
    taken = session.scalars(
        select(ProjectRow.id).where(ProjectRow.reference == proposal.reference)
    ).first()
    if taken is not None:
        raise ConflictError(
            f"project {proposal.reference} already exists",
            hint="choose another reference, or see `fivesafes project show REF`",
        )
    at = now()
    row = ProjectRow(
        reference=proposal.reference,
        title=proposal.title.strip(),
        purpose=proposal.purpose.strip(),
        purpose_category=proposal.purpose_category.strip().lower(),
        public_benefit=proposal.public_benefit.strip(),
        start_on=proposal.start,
        end_on=proposal.end,
        status=ProjectStatus.PROPOSED.value,
        lead_id=lead_row.id,
        proposed_by=actor.login,
        proposed_at=at,
    )
    session.add(row)
    session.flush()
    session.add(ProjectMemberRow(project_id=row.id, person_id=lead_row.id, role=LEAD, added_at=at))
    for m in member_rows:
        session.add(ProjectMemberRow(project_id=row.id, person_id=m.id, role=MEMBER, added_at=at))
    for d in dataset_rows:
        session.add(ProjectDatasetRow(project_id=row.id, dataset_id=d.id, added_at=at))
    session.flush()
    session.refresh(row)
    record(
        session,
        actor.login,
        "project.propose",
        subject=proposal.reference,
        details={
            "title": row.title,
            "purpose_category": row.purpose_category,
            "lead": proposal.lead,
            "members": sorted(proposal.members),
            "datasets": sorted(proposal.datasets),
            "start": proposal.start.isoformat(),
            "end": proposal.end.isoformat(),
        },
    )
    return project_view(row, day)


def decide_project(
    session: Session,
    actor: Actor,
    reference: str,
    action: ProjectAction,
    note: str | None = None,
    today: date | None = None,
) -> ProjectView:
    """Approve or reject a proposed project (head of profession or the datasets' asset owner)."""
    day = today_or(today)
    if action is ProjectAction.CLOSE:
        raise ValueError("use close_project to close a project")
    row = project_row(session, reference)
    check_can_approve(actor_facts(session, actor), _facts(row))
    target = next_status(ProjectStatus(row.status), action)
    if action is ProjectAction.APPROVE:
        # The team is checked again: an accreditation may have lapsed since the proposal.
        for m in _current_members(row):
            check_team_member(member_facts(session, m.person, day))
    row.status = target.value
    row.decided_by = actor.login
    row.decided_at = now()
    row.decision_note = note
    session.flush()
    record(
        session,
        actor.login,
        PROJECT_TRANSITIONS[action].audit_action,
        subject=reference,
        details={"status": target.value, "note": note},
    )
    return project_view(row, day)


def _payload(change: ChangeRequest) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if change.new_end is not None:
        payload["new_end"] = change.new_end.isoformat()
    for key in ("add_datasets", "remove_datasets", "add_members", "remove_members"):
        values = getattr(change, key)
        if values:
            payload[key] = sorted(values)
    return payload


def _change_of(row: ProjectChangeRow) -> ChangeRequest:
    p = row.payload
    return ChangeRequest(
        kind=ChangeKind(row.kind),
        reason=row.reason,
        new_end=date.fromisoformat(p["new_end"]) if p.get("new_end") else None,
        add_datasets=tuple(p.get("add_datasets", ())),
        remove_datasets=tuple(p.get("remove_datasets", ())),
        add_members=tuple(p.get("add_members", ())),
        remove_members=tuple(p.get("remove_members", ())),
    )


def _check_additions(session: Session, change: ChangeRequest, day: date) -> None:
    for name in change.add_datasets:
        dataset_row(session, name)
    for login in change.add_members:
        check_team_member(member_facts(session, person_row(session, login), day))


def request_change(
    session: Session,
    actor: Actor,
    reference: str,
    change: ChangeRequest,
    today: date | None = None,
) -> ChangeView:
    """Ask to extend, change scope or team, or close a project (lead or an approver)."""
    day = today_or(today)
    permissions.check_active(actor.person)
    row = project_row(session, reference)
    check_can_request_change(actor_facts(session, actor), _facts(row), change.kind)
    apply_change(_state(row), change)
    _check_additions(session, change, day)
    crow = ProjectChangeRow(
        project_id=row.id,
        kind=change.kind.value,
        status=ChangeStatus.REQUESTED.value,
        reason=change.reason.strip(),
        payload=_payload(change),
        requested_by=actor.login,
        requested_at=now(),
    )
    session.add(crow)
    session.flush()
    record(
        session,
        actor.login,
        "project.change.request",
        subject=reference,
        details={
            "change": crow.id,
            "kind": change.kind.value,
            "reason": crow.reason,
            **crow.payload,
        },
    )
    return _change_view(crow, reference)


def _apply(session: Session, row: ProjectRow, change: ChangeRequest, day: date) -> None:
    """Write an approved change onto the project rows (history kept)."""
    outcome = apply_change(_state(row), change)
    _check_additions(session, change, day)
    at = now()
    row.end_on = outcome.end
    for d in _current_datasets(row):
        if d.dataset.name in outcome.removed_datasets:
            d.removed_at = at
    for name in sorted(outcome.added_datasets):
        session.add(
            ProjectDatasetRow(
                project_id=row.id, dataset_id=dataset_row(session, name).id, added_at=at
            )
        )
    for m in _current_members(row):
        if m.person.login in outcome.removed_members:
            m.removed_at = at
    for login in sorted(outcome.added_members):
        session.add(
            ProjectMemberRow(
                project_id=row.id, person_id=person_row(session, login).id, role=MEMBER, added_at=at
            )
        )
    if outcome.status is ProjectStatus.CLOSED:
        row.status = ProjectStatus.CLOSED.value
        row.closed_at = at
    session.flush()
    session.refresh(row)


def decide_change(
    session: Session,
    actor: Actor,
    change_id: int,
    decision: ChangeStatus,
    note: str | None = None,
    today: date | None = None,
) -> ChangeView:
    """Approve (and apply) or reject a change request (an approver, never the lead)."""
    day = today_or(today)
    crow = change_row(session, change_id)
    row = crow.project
    check_can_decide_change(actor_facts(session, actor), _facts(row), ChangeKind(crow.kind))
    next_change_status(ChangeStatus(crow.status), decision)
    if decision is ChangeStatus.APPROVED:
        _apply(session, row, _change_of(crow), day)
    crow.status = decision.value
    crow.decided_by = actor.login
    crow.decided_at = now()
    crow.decision_note = note
    session.flush()
    verb = "approve" if decision is ChangeStatus.APPROVED else "reject"
    record(
        session,
        actor.login,
        f"project.change.{verb}",
        subject=row.reference,
        details={"change": crow.id, "kind": crow.kind, "note": note, **crow.payload},
    )
    if decision is ChangeStatus.APPROVED and crow.kind == ChangeKind.CLOSE.value:
        record(
            session,
            actor.login,
            "project.close",
            subject=row.reference,
            details={"change": crow.id},
        )
    return _change_view(crow, row.reference)


def close_project(
    session: Session,
    actor: Actor,
    reference: str,
    reason: str,
    today: date | None = None,
) -> ProjectView:
    """Close an approved project at once (an approver); recorded as an approved close request."""
    day = today_or(today)
    row = project_row(session, reference)
    check_can_approve(actor_facts(session, actor), _facts(row))
    next_status(ProjectStatus(row.status), ProjectAction.CLOSE)
    change = ChangeRequest(ChangeKind.CLOSE, reason)
    _apply(session, row, change, day)
    at = now()
    crow = ProjectChangeRow(
        project_id=row.id,
        kind=ChangeKind.CLOSE.value,
        status=ChangeStatus.APPROVED.value,
        reason=reason.strip(),
        payload={},
        requested_by=actor.login,
        requested_at=at,
        decided_by=actor.login,
        decided_at=at,
        decision_note="closed directly",
    )
    session.add(crow)
    session.flush()
    session.refresh(row)
    record(
        session,
        actor.login,
        PROJECT_TRANSITIONS[ProjectAction.CLOSE].audit_action,
        subject=reference,
        details={"change": crow.id, "reason": crow.reason},
    )
    return project_view(row, day)


def list_projects(
    session: Session, today: date | None = None, status: str | None = None
) -> list[ProjectView]:
    """Every project by reference, optionally only those with ``status`` as of ``today``."""
    day = today_or(today)
    rows = session.scalars(select(ProjectRow).order_by(ProjectRow.reference)).all()
    views = [project_view(r, day) for r in rows]
    return [v for v in views if status is None or v.status == status]


def show_project(session: Session, reference: str, today: date | None = None) -> ProjectView:
    """One project with team, scope and change history (NotFoundError if unknown)."""
    return project_view(project_row(session, reference), today_or(today))
