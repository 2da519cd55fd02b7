"""Publish the disclosure log: answered FOI/EIR cases and their approved figures (audited)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.requests import permissions
from fivesafes.requests.cases import CaseState
from fivesafes.requests.disclosure_log import LOGGED_KINDS, LogEntry
from fivesafes.requests.kinds import RequestKind
from fivesafes.services.context import Actor, record
from fivesafes.services.requests.answers import released_for
from fivesafes.store.models.requests import RequestCaseRow, RequestFigureRow

# Answered: closed, and whatever follows closing (a review, a complaint).
ANSWERED = frozenset(
    {
        CaseState.CLOSED,
        CaseState.INTERNAL_REVIEW,
        CaseState.REVIEWED,
        CaseState.COMPLAINT,
        CaseState.COMPLAINT_DECIDED,
    }
)


def disclosure_log(session: Session, actor: Actor) -> list[LogEntry]:
    """The log's entries, oldest first; publishing it is audited (FOI officers only)."""
    permissions.check_handle(actor.person, RequestKind.FOI)
    rows = session.scalars(
        select(RequestCaseRow)
        .where(RequestCaseRow.kind.in_([k.value for k in LOGGED_KINDS]))
        .where(RequestCaseRow.state.in_([s.value for s in ANSWERED]))
        .order_by(RequestCaseRow.answered, RequestCaseRow.id)
    ).all()
    figures: dict[int, list[tuple[str, float]]] = {}
    for f in session.scalars(
        select(RequestFigureRow)
        .where(RequestFigureRow.approved.is_(True))
        .order_by(RequestFigureRow.id)
    ):
        if f.value is not None:
            figures.setdefault(f.case_id, []).append((f.cell, f.value))
    entries = [
        LogEntry(
            reference=f"{row.kind.upper()}-{row.id}",
            kind=RequestKind(row.kind),
            received=row.received,
            answered=row.answered,
            outcome=row.outcome or "",
            summary=row.summary,
            exemptions=tuple(e.code for e in row.exemptions),
            figures=tuple(figures.get(row.id, ())),
            releases=tuple(released_for(session, row.id)),
        )
        for row in rows
        if row.answered is not None
    ]
    record(
        session,
        actor.login,
        "request.disclosure_log",
        details={"entries": [e.reference for e in entries]},
    )
    return entries
