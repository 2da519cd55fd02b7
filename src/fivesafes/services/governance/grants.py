"""Need-to-know grants: request, approve or reject, revoke, and lapse by date.

Each step is looked up in the state machine (``governance.grants.TRANSITIONS``),
which names who may take it and the audit action that records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import ConflictError, ValidationError
from fivesafes.governance import permissions
from fivesafes.governance.grants import (
    GrantPolicy,
    GrantState,
    GrantStep,
    StepOwner,
    check_purpose,
    check_text,
    effective_state,
    grant_period,
    transition,
)
from fivesafes.governance.people import PersonStatus
from fivesafes.services.context import SYSTEM, Actor, now, record, today_or
from fivesafes.services.governance.areas import area_of
from fivesafes.services.governance.lookup import area_row, grant_row, person_row
from fivesafes.services.governance.qualification import require_qualified
from fivesafes.store.models.governance import GrantRow, PersonRow


@dataclass(frozen=True)
class Grant:
    """A grant as shown to people: ``state`` is its effective state today."""

    id: int
    person: str
    area: str
    purpose: str
    justification: str
    requester: str
    approver: str | None
    state: GrantState
    start_on: date
    end_on: date
    revocation_reason: str | None = None


def grant_of(row: GrantRow, today: date) -> Grant:
    """Return the view of a grant row, with its state as of ``today``."""
    return Grant(
        id=row.id,
        person=row.person.login,
        area=row.area.name,
        purpose=row.purpose,
        justification=row.justification,
        requester=row.requester.login,
        approver=row.approver.login if row.approver else None,
        state=effective_state(GrantState(row.state), row.end_on, today),
        start_on=row.start_on,
        end_on=row.end_on,
        revocation_reason=row.revocation_reason,
    )


def request_grant(
    session: Session,
    actor: Actor,
    login: str,
    area: str,
    justification: str,
    purpose: str = "statistical",
    start_on: date | None = None,
    end_on: date | None = None,
    policy: GrantPolicy | None = None,
    today: date | None = None,
) -> Grant:
    """Ask for ``login`` to use ``area`` for a statistical purpose (self, IAO or administrator)."""
    day = today_or(today)
    permissions.check_request_grant(actor.person, login)
    person = person_row(session, login)
    if person.status != PersonStatus.ACTIVE:
        raise ValidationError(
            f"{login} is a leaver", hint="grants are only for active registered people"
        )
    arow = area_row(session, area)
    check_purpose(purpose)
    why = check_text("justification", justification)
    start, end = grant_period(start_on, end_on, day, policy or GrantPolicy())
    row = GrantRow(
        person=person,
        area=arow,
        purpose=purpose,
        justification=why,
        requester=session.get(PersonRow, actor.id),
        state=GrantState.REQUESTED.value,
        start_on=start,
        end_on=end,
        requested_at=now(),
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor.login,
        "grant.request",
        area=area,
        subject=str(row.id),
        details={
            "person": login,
            "purpose": purpose,
            "start_on": start.isoformat(),
            "end_on": end.isoformat(),
        },
    )
    return grant_of(row, day)


def _step(
    session: Session,
    actor: Actor,
    grant_id: int,
    step: GrantStep,
    note: str | None,
    today: date | None,
) -> Grant:
    day = today_or(today)
    row = grant_row(session, grant_id)
    state = effective_state(GrantState(row.state), row.end_on, day)
    move = transition(state, step)
    area = area_of(row.area)
    if move.owner is StepOwner.AREA_OWNER:
        permissions.check_decide_grant(actor.person, area, row.person.login)
    elif move.owner is StepOwner.OWNER_OR_ADMINISTRATOR:
        permissions.check_revoke_grant(actor.person, area)
    else:  # pragma: no cover - system steps are taken by expire_grants only
        raise ConflictError(f"{step.value} is done by fivesafes itself", hint="nothing to do")
    if step is GrantStep.APPROVE and row.person.status != PersonStatus.ACTIVE:
        raise ValidationError(f"{row.person.login} is a leaver", hint="reject the request instead")
    if step is GrantStep.APPROVE:
        # Whoever opens an area to someone must pass the people checks for it themselves.
        # (Rejecting and revoking close access: never held up by a lapsed course.)
        require_qualified(session, actor, area.name, f"approve grants on area {area.name}", day)
    at = now()
    row.state = move.target.value
    if step is GrantStep.REVOKE:
        row.revoked_at = at
        row.revocation_reason = note
    else:
        row.approver = session.get(PersonRow, actor.id)
        row.decided_at = at
        row.decision_note = note
    session.flush()
    record(
        session,
        actor.login,
        move.audit_action,
        area=area.name,
        subject=str(row.id),
        details={"person": row.person.login, "note": note, "from": state.value},
    )
    return grant_of(row, day)


def approve_grant(
    session: Session,
    actor: Actor,
    grant_id: int,
    note: str | None = None,
    today: date | None = None,
) -> Grant:
    """Approve a requested grant (the area's asset owner only, never for themselves)."""
    return _step(session, actor, grant_id, GrantStep.APPROVE, note, today)


def reject_grant(
    session: Session, actor: Actor, grant_id: int, note: str, today: date | None = None
) -> Grant:
    """Reject a requested grant, saying why (the area's asset owner only)."""
    return _step(session, actor, grant_id, GrantStep.REJECT, check_text("reason", note), today)


def revoke_grant(
    session: Session, actor: Actor, grant_id: int, reason: str, today: date | None = None
) -> Grant:
    """Revoke an approved grant, saying why (the area's asset owner or an administrator)."""
    return _step(session, actor, grant_id, GrantStep.REVOKE, check_text("reason", reason), today)


def expire_grants(session: Session, today: date | None = None) -> list[int]:
    """Record as expired every open grant past its end date; returns their ids.

    Access already stops at the end date without this (the decision reads the
    effective state); this step makes the register say so, audited as ``system``.
    """
    day = today_or(today)
    rows = session.scalars(
        select(GrantRow).where(
            GrantRow.state.in_([GrantState.REQUESTED.value, GrantState.APPROVED.value]),
            GrantRow.end_on < day,
        )
    ).all()
    for row in rows:
        move = transition(GrantState(row.state), GrantStep.EXPIRE)
        row.state = move.target.value
        record(
            session,
            SYSTEM,
            move.audit_action,
            area=row.area.name,
            subject=str(row.id),
            details={"person": row.person.login, "end_on": row.end_on.isoformat()},
        )
    session.flush()
    return [r.id for r in rows]


def list_grants(
    session: Session,
    person: str | None = None,
    area: str | None = None,
    today: date | None = None,
) -> list[Grant]:
    """Grants (optionally of one person or area), newest first, with today's state."""
    day = today_or(today)
    query = select(GrantRow).order_by(GrantRow.id.desc())
    if person is not None:
        query = query.where(GrantRow.person_id == person_row(session, person).id)
    if area is not None:
        query = query.where(GrantRow.area_id == area_row(session, area).id)
    return [grant_of(r, day) for r in session.scalars(query).unique()]


def get_grant(session: Session, grant_id: int, today: date | None = None) -> Grant:
    """Grant number ``grant_id`` with today's state."""
    return grant_of(grant_row(session, grant_id), today_or(today))
