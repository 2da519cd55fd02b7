"""Approved projects: propose, approve or reject, request and decide changes, close.

Every step authorises the actor, changes the project and appends its audit event
in the caller's transaction; a refused step raises before anything is written.
History stays: team and scope rows are ended (``removed_at``), never deleted, and
each change request keeps its decision.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import AccessDenied, ConflictError
from fivesafes.governance import permissions
from fivesafes.governance.research_changes import (
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
    apply_change,
    check_can_decide_change,
    check_can_request_change,
    next_change_status,
)
from fivesafes.governance.research_projects import (
    PROJECT_TRANSITIONS,
    ProjectAction,
    ProjectProposal,
    ProjectStatus,
    check_can_approve,
    check_team_member,
    next_status,
    validate_proposal,
)
from fivesafes.governance.roles import Role
from fivesafes.services.context import Actor, now, record, today_or
from fivesafes.services.governance.lookup import dataset_row, person_row
from fivesafes.services.governance.qualification import require_qualified
from fivesafes.services.research.project_views import (
    ChangeView,
    ProjectView,
    actor_facts,
    change_row,
    change_view,
    current_datasets,
    current_members,
    member_facts,
    project_facts,
    project_row,
    project_state,
    project_view,
)
from fivesafes.store.models.research import (
    ProjectChangeRow,
    ProjectDatasetRow,
    ProjectMemberRow,
    ProjectRow,
)

LEAD, MEMBER = "lead", "member"
# Besides the lead, these may enter a proposal on someone else's behalf.
PROPOSING_ROLES = frozenset({Role.ADMINISTRATOR, Role.HEAD_OF_PROFESSION})


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


def _require_qualified(
    session: Session,
    actor: Actor,
    row: ProjectRow,
    what: str,
    day: date,
    added: tuple[str, ...] = (),
) -> None:
    """The approver passes the people checks of every area of the project's datasets."""
    areas = {d.dataset.area.name for d in row.datasets if d.removed_at is None}
    areas |= {dataset_row(session, name).area.name for name in added}
    for area in sorted(areas):
        require_qualified(session, actor, area, what, day)


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
    check_can_approve(actor_facts(session, actor), project_facts(row))
    target = next_status(ProjectStatus(row.status), action)
    if action is ProjectAction.APPROVE:
        # Approving opens the datasets to the team: the approver passes the people checks
        # of every area in scope, as an analyst would (audited either way).
        _require_qualified(session, actor, row, f"approve project {row.reference}", day)
        # The team is checked again: an accreditation may have lapsed since the proposal.
        for m in current_members(row):
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
    check_can_request_change(actor_facts(session, actor), project_facts(row), change.kind)
    apply_change(project_state(row), change)
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
    return change_view(crow, reference)


def _apply(session: Session, row: ProjectRow, change: ChangeRequest, day: date) -> None:
    """Write an approved change onto the project rows (history kept)."""
    outcome = apply_change(project_state(row), change)
    _check_additions(session, change, day)
    at = now()
    row.end_on = outcome.end
    for d in current_datasets(row):
        if d.dataset.name in outcome.removed_datasets:
            d.removed_at = at
    for name in sorted(outcome.added_datasets):
        session.add(
            ProjectDatasetRow(
                project_id=row.id, dataset_id=dataset_row(session, name).id, added_at=at
            )
        )
    for m in current_members(row):
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
    check_can_decide_change(actor_facts(session, actor), project_facts(row), ChangeKind(crow.kind))
    next_change_status(ChangeStatus(crow.status), decision)
    if decision is ChangeStatus.APPROVED:
        # Before the change is applied: its added datasets' areas count too.
        added = _change_of(crow).add_datasets
        what = f"approve change #{crow.id} of {row.reference}"
        _require_qualified(session, actor, row, what, day, added)
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
    return change_view(crow, row.reference)


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
    check_can_approve(actor_facts(session, actor), project_facts(row))
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
