"""Open a case, look cases up, and show them with their clock (no personal data)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import NotFoundError, ValidationError
from fivesafes.release.sealing import seal
from fivesafes.requests import permissions
from fivesafes.requests.calendar import WorkingCalendar, parse_nation
from fivesafes.requests.cases import LIVE_STATES, CaseState
from fivesafes.requests.clock import Clarification, Clock, Deadline, days_left, deadline
from fivesafes.requests.kinds import RequestKind
from fivesafes.requests.policy import RequestPolicy
from fivesafes.services.context import Actor, now, record, today_or
from fivesafes.services.governance.lookup import area_row
from fivesafes.services.vault.sealing import check_key_held
from fivesafes.store.models.requests import RequestCaseRow
from fivesafes.vault.keys import KeyProvider

OPEN_EVENT = "request.open"


@dataclass(frozen=True)
class CaseView:
    """A case as officers and reports see it: never the requester's details."""

    id: int
    kind: RequestKind
    state: CaseState
    received: date
    summary: str
    opened_by: str
    officer: str | None
    due: date | None
    clock_stopped: bool
    clock_basis: str
    days_left: int | None
    extended: bool
    answered: date | None
    outcome: str | None
    exemptions: tuple[str, ...]


def requester_object_id(case_id: int) -> str:
    """The id that binds a case's sealed requester details to it (AES-GCM associated data)."""
    return f"request-{case_id}-requester"


def case_row(session: Session, case_id: int) -> RequestCaseRow:
    """The case ``case_id``; NotFoundError says how to list them."""
    row = session.get(RequestCaseRow, case_id)
    if row is None:
        raise NotFoundError(f"no request #{case_id}", hint="list the cases: fivesafes request list")
    return row


def answering_case(session: Session, actor: Actor, case_id: int, what: str) -> RequestCaseRow:
    """The case, to one of its officers, while it is being answered (``what``: the step)."""
    row = case_row(session, case_id)
    kind = RequestKind(row.kind)
    permissions.check_act_on_case(actor.person, kind, row.id, row.opened_by, row.officer)
    if row.state != CaseState.ASSIGNED.value:
        raise ValidationError(
            f"request #{case_id} is {row.state}: {what} while it is being answered",
            hint=f"{what} before closing the case (it must be assigned)",
        )
    return row


def clock_of(row: RequestCaseRow) -> Clock:
    """The statutory clock's facts of a stored case."""
    return Clock(
        RequestKind(row.kind),
        row.received,
        tuple(Clarification(c.sought, c.answered) for c in row.clarifications),
        row.extended,
    )


def deadline_of(row: RequestCaseRow, policy: RequestPolicy) -> Deadline:
    """The case's deadline under the calendar it was opened with."""
    calendar = WorkingCalendar(parse_nation(row.calendar))
    return deadline(clock_of(row), calendar, policy.targets)


def view_of(row: RequestCaseRow, policy: RequestPolicy, today: date | None = None) -> CaseView:
    """The case as shown to officers (and in reports): no personal data."""
    result = deadline_of(row, policy)
    state = CaseState(row.state)
    left = None
    if result.due is not None and state in LIVE_STATES:
        calendar = WorkingCalendar(parse_nation(row.calendar))
        left = days_left(result.due, today_or(today), calendar)
    return CaseView(
        id=row.id,
        kind=RequestKind(row.kind),
        state=state,
        received=row.received,
        summary=row.summary,
        opened_by=row.opened_by,
        officer=row.officer,
        due=result.due,
        clock_stopped=result.stopped,
        clock_basis=result.basis,
        days_left=left,
        extended=row.extended,
        answered=row.answered,
        outcome=row.outcome,
        exemptions=tuple(e.code for e in row.exemptions),
    )


def check_may_open(actor: Actor, kind: RequestKind) -> None:
    """Refuse (AccessDenied) unless ``actor`` may open a case of ``kind``. The server
    decides this before it waits for the requests area's key; open_case again."""
    permissions.check_handle(actor.person, kind)


def open_case(
    session: Session,
    actor: Actor,
    provider: KeyProvider,
    policy: RequestPolicy,
    kind: RequestKind,
    received: date,
    requester: str,
    summary: str,
    today: date | None = None,
) -> CaseView:
    """Open a case: the requester's details sealed under the requests area's key.

    The caller holds that key for sealing (services/vault/sealing.py) around its
    transaction, or a rotation of the area could destroy the key before this commits."""
    permissions.check_handle(actor.person, kind)
    if received > today_or(today):
        raise ValidationError(
            f"received {received} is in the future", hint="give the day the request arrived"
        )
    if not requester.strip():
        raise ValidationError(
            "the requester is empty", hint="give the requester's name (or how to reach them)"
        )
    if not summary.strip():
        raise ValidationError("the summary is empty", hint="say what information is asked for")
    area = area_row(session, policy.area).name  # NotFoundError names the missing area
    stamp = now()
    row = RequestCaseRow(
        kind=kind.value,
        state=CaseState.OPEN.value,
        received=received,
        calendar=policy.calendar.nation.value,
        summary=summary.strip(),
        opened_by=actor.login,
        area=area,
        created_at=stamp,
        updated_at=stamp,
    )
    session.add(row)
    session.flush()
    check_key_held(area)
    if not provider.key_ids(area):
        key_id = provider.create_key(area)
        record(session, actor.login, "area.key_create", area=area, details={"key_id": key_id})
    payload = json.dumps({"requester": requester.strip()}).encode()
    row.requester_sealed, row.requester_wrapped_key = seal(
        provider, area, requester_object_id(row.id), payload
    )
    view = view_of(row, policy, today)
    # The requester's details stay out of the log: it says only that they were sealed.
    record(
        session,
        actor.login,
        OPEN_EVENT,
        area=area,
        subject=str(row.id),
        details={
            "kind": kind.value,
            "received": received.isoformat(),
            "due": view.due.isoformat() if view.due else None,
            "calendar": row.calendar,
            "requester": "sealed",
        },
    )
    return view


def get_case(
    session: Session, actor: Actor, policy: RequestPolicy, case_id: int, today: date | None = None
) -> CaseView:
    """One case with its clock (report roles and the case's officers)."""
    row = case_row(session, case_id)
    if not permissions.can_act_on_case(
        actor.person, RequestKind(row.kind), row.opened_by, row.officer
    ):
        permissions.check_read_reports(actor.person)
    return view_of(row, policy, today)


def list_cases(
    session: Session,
    actor: Actor,
    policy: RequestPolicy,
    *,
    state: CaseState | None = None,
    today: date | None = None,
) -> list[CaseView]:
    """Every case (or those in ``state``), oldest first."""
    permissions.check_read_reports(actor.person)
    query = select(RequestCaseRow).order_by(RequestCaseRow.received, RequestCaseRow.id)
    if state is not None:
        query = query.where(RequestCaseRow.state == state.value)
    return [view_of(row, policy, today) for row in session.scalars(query)]


def overdue_cases(
    session: Session, actor: Actor, policy: RequestPolicy, today: date | None = None
) -> list[CaseView]:
    """Live cases past their due date, most overdue first."""
    permissions.check_read_reports(actor.person)
    day = today_or(today)
    live = select(RequestCaseRow).where(RequestCaseRow.state.in_([s.value for s in LIVE_STATES]))
    views = [view_of(row, policy, day) for row in session.scalars(live)]
    late = [v for v in views if v.due is not None and v.due < day]
    return sorted(late, key=lambda v: (v.due, v.id))
