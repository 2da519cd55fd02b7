"""The timeliness report by quarter (no personal data; report roles only)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.requests import permissions
from fivesafes.requests.cases import CaseState, Outcome
from fivesafes.requests.kinds import RequestKind
from fivesafes.requests.policy import RequestPolicy
from fivesafes.requests.timeliness import CaseFacts, QuarterRow, timeliness
from fivesafes.services.context import Actor, today_or
from fivesafes.services.requests.cases import deadline_of
from fivesafes.store.models.requests import RequestCaseRow


def timeliness_report(
    session: Session,
    actor: Actor,
    policy: RequestPolicy,
    *,
    kinds: frozenset[RequestKind] | None = None,
    today: date | None = None,
) -> list[QuarterRow]:
    """Cases by quarter of receipt: on time, late, withheld, exemptions used."""
    permissions.check_read_reports(actor.person)
    facts = []
    for row in session.scalars(select(RequestCaseRow).order_by(RequestCaseRow.id)):
        kind = RequestKind(row.kind)
        if kinds is not None and kind not in kinds:
            continue
        facts.append(
            CaseFacts(
                kind=kind,
                received=row.received,
                due=deadline_of(row, policy).due,
                answered=row.answered,
                outcome=None if row.outcome is None else Outcome(row.outcome),
                exemptions=tuple(e.code for e in row.exemptions),
                withdrawn=row.state == CaseState.WITHDRAWN.value,
            )
        )
    return timeliness(facts, today_or(today))
