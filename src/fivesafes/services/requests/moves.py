"""The moves of a case (assign, clarify, extend, close, withdraw, review, complaint).

Each move is checked against the state machine (``requests.cases.TRANSITIONS``), allowed
only to the case's officers, and recorded with the transition's audit event in the same
transaction. Nothing of the requester is read or logged here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from fivesafes.errors import ValidationError
from fivesafes.requests import permissions
from fivesafes.requests.cases import TRANSITIONS, CaseState, Move, Outcome, apply_move
from fivesafes.requests.clock import add_months, check_extendable
from fivesafes.requests.kinds import RequestKind
from fivesafes.requests.policy import RequestPolicy
from fivesafes.services.context import Actor, now, person_of, record, today_or
from fivesafes.services.governance.lookup import person_row
from fivesafes.services.requests.cases import CaseView, case_row, deadline_of, view_of
from fivesafes.store.models.requests import RequestCaseRow, RequestClarificationRow


def _move(
    session: Session,
    actor: Actor,
    policy: RequestPolicy,
    case_id: int,
    move: Move,
    details: dict[str, Any],
    *,
    change: Any = None,
    on: date | None = None,
) -> CaseView:
    """Authorise, apply ``move`` (and ``change`` to the row), audit: one transaction."""
    row = case_row(session, case_id)
    kind = RequestKind(row.kind)
    permissions.check_act_on_case(actor.person, kind, row.id, row.opened_by, row.officer)
    before = CaseState(row.state)
    after = apply_move(before, move)
    day = today_or(on)
    if day < row.received:
        raise ValidationError(
            f"{move.value} on {day} is before the request was received ({row.received})",
            hint="give the day it happened",
        )
    if change is not None:
        change(row, day)
    row.state = after.value
    row.updated_at = now()
    session.flush()
    result = deadline_of(row, policy)
    record(
        session,
        actor.login,
        TRANSITIONS[move].event,
        area=row.area,
        subject=str(row.id),
        details={
            "from": before.value,
            "to": after.value,
            "on": day.isoformat(),
            "due": result.due.isoformat() if result.due else None,
            **details,
        },
    )
    return view_of(row, policy, on)


def assign_case(
    session: Session,
    actor: Actor,
    policy: RequestPolicy,
    case_id: int,
    officer: str,
    on: date | None = None,
) -> CaseView:
    """Assign the case to an officer who handles its kind."""
    row = case_row(session, case_id)
    kind = RequestKind(row.kind)
    permissions.check_act_on_case(actor.person, kind, row.id, row.opened_by, row.officer)
    assignee = person_row(session, officer)
    permissions.check_handle(person_of(assignee), kind)

    def change(r: RequestCaseRow, _day: date) -> None:
        r.officer = assignee.login

    return _move(
        session, actor, policy, case_id, Move.ASSIGN, {"officer": officer}, change=change, on=on
    )


def clarify_case(
    session: Session, actor: Actor, policy: RequestPolicy, case_id: int, on: date | None = None
) -> CaseView:
    """Ask the requester to clarify: the clock stops."""

    def change(r: RequestCaseRow, day: date) -> None:
        r.clarifications.append(RequestClarificationRow(sought=day))

    return _move(session, actor, policy, case_id, Move.CLARIFY, {}, change=change, on=on)


def clarification_received(
    session: Session, actor: Actor, policy: RequestPolicy, case_id: int, on: date | None = None
) -> CaseView:
    """The requester's clarification arrived: the clock restarts (FOI) or resumes (SAR)."""

    def change(r: RequestCaseRow, day: date) -> None:
        open_ = r.clarifications[-1]
        if day < open_.sought:
            raise ValidationError(
                f"clarification received on {day}, before it was sought ({open_.sought})",
                hint="give the day the requester's answer arrived",
            )
        open_.answered = day

    return _move(session, actor, policy, case_id, Move.CLARIFIED, {}, change=change, on=on)


def extend_case(
    session: Session,
    actor: Actor,
    policy: RequestPolicy,
    case_id: int,
    reason: str,
    on: date | None = None,
) -> CaseView:
    """Extend the deadline the law allows (FOI public interest, EIR complex, SAR +2 months)."""
    row = case_row(session, case_id)
    check_extendable(RequestKind(row.kind))
    if row.extended:
        raise ValidationError(
            f"request #{case_id} is already extended", hint="a case is extended once"
        )
    if not reason.strip():
        raise ValidationError(
            "an extension needs its reason",
            hint="say why (e.g. the public interest test for s43; complex and voluminous)",
        )

    def change(r: RequestCaseRow, day: date) -> None:
        due = deadline_of(r, policy).due
        if due is not None and day > due:
            raise ValidationError(
                f"request #{case_id} was due on {due}: an extension is given before the deadline",
                hint="tell the requester within the time limit (FOIA s17(2), UK GDPR Art 12(3))",
            )
        r.extended = True
        r.extension_reason = reason.strip()

    return _move(
        session, actor, policy, case_id, Move.EXTEND, {"reason": reason}, change=change, on=on
    )


def close_case(
    session: Session,
    actor: Actor,
    policy: RequestPolicy,
    case_id: int,
    outcome: Outcome,
    on: date | None = None,
) -> CaseView:
    """Close the case with its outcome; the requester's details are kept until retention ends."""
    row = case_row(session, case_id)
    codes = [e.code for e in row.exemptions]
    if outcome in (Outcome.PART_WITHHELD, Outcome.WITHHELD) and not codes:
        raise ValidationError(
            f"a case closed as {outcome.value} needs the exemptions it relies on",
            hint=f"record them first: fivesafes request exempt {case_id} --code s40 --part ...",
        )

    def change(r: RequestCaseRow, day: date) -> None:
        r.answered = day
        r.outcome = outcome.value
        r.retain_until = add_months(day, policy.retention_months)

    return _move(
        session,
        actor,
        policy,
        case_id,
        Move.CLOSE,
        {"outcome": outcome.value, "exemptions": codes},
        change=change,
        on=on,
    )


def withdraw_case(
    session: Session, actor: Actor, policy: RequestPolicy, case_id: int, on: date | None = None
) -> CaseView:
    """The requester withdrew the request."""

    def change(r: RequestCaseRow, day: date) -> None:
        r.retain_until = add_months(day, policy.retention_months)

    return _move(session, actor, policy, case_id, Move.WITHDRAW, {}, change=change, on=on)


def request_review(
    session: Session, actor: Actor, policy: RequestPolicy, case_id: int, on: date | None = None
) -> CaseView:
    """The requester asked for an internal review of the answer."""

    def change(r: RequestCaseRow, day: date) -> None:
        r.review_requested = day

    return _move(session, actor, policy, case_id, Move.REVIEW, {}, change=change, on=on)


def decide_review(
    session: Session,
    actor: Actor,
    policy: RequestPolicy,
    case_id: int,
    result: str,
    on: date | None = None,
) -> CaseView:
    """Record the internal review's decision (upheld, overturned, in part)."""
    return _decided(
        session, actor, policy, case_id, Move.REVIEW_DECIDED, "the review's result", result, on
    )


def record_complaint(
    session: Session, actor: Actor, policy: RequestPolicy, case_id: int, on: date | None = None
) -> CaseView:
    """Record that the requester complained to the regulator (ICO, or the SIC in Scotland)."""

    def change(r: RequestCaseRow, day: date) -> None:
        r.complaint_made = day

    return _move(session, actor, policy, case_id, Move.COMPLAIN, {}, change=change, on=on)


def decide_complaint(
    session: Session,
    actor: Actor,
    policy: RequestPolicy,
    case_id: int,
    result: str,
    on: date | None = None,
) -> CaseView:
    """Record the regulator's decision notice."""
    return _decided(
        session,
        actor,
        policy,
        case_id,
        Move.COMPLAINT_DECIDED,
        "the regulator's decision",
        result,
        on,
    )


def _decided(
    session: Session,
    actor: Actor,
    policy: RequestPolicy,
    case_id: int,
    move: Move,
    what: str,
    result: str,
    on: date | None,
) -> CaseView:
    """A decision on the answer (internal review, regulator): its day and result kept."""
    _need(what, result)
    text = result.strip()

    def change(r: RequestCaseRow, day: date) -> None:
        if move is Move.REVIEW_DECIDED:
            r.review_decided, r.review_result = day, text
        else:
            r.complaint_decided, r.complaint_result = day, text

    return _move(session, actor, policy, case_id, move, {"result": text}, change=change, on=on)


def _need(what: str, text: str) -> None:
    if not text.strip():
        raise ValidationError(f"{what} is empty", hint=f"give {what} in a few words")
