"""Require the people checks of whoever sees confidential values or decides on access.

Output checkers (a review shows the true values of the hidden cells) and information
asset owners (approving a grant, confirming a declared source) pass the analyst's
people checks for the area first. Both outcomes are audited (``people.qualify``): an
allowed one in the caller's transaction, a refusal in its own transaction after the
caller's is rolled back (``FivesafesError.after_rollback``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from fivesafes.audit.events import Outcome
from fivesafes.governance.access import decide_people
from fivesafes.governance.qualification import denial
from fivesafes.services.context import Actor, record, today_or
from fivesafes.services.governance.access import gather_people_facts

QUALIFY = "people.qualify"


def require_qualified(
    session: Session, actor: Actor, area: str, what: str, today: date | None = None
) -> None:
    """Pass if ``actor`` passes the people checks for ``area``; else AccessDenied (audited)."""
    day = today_or(today)
    facts = gather_people_facts(session, actor.login, area, day)
    decision = decide_people(facts, day)
    details: dict[str, Any] = {
        "person": actor.login,
        "for": what,
        "allowed": decision.allowed,
        "reasons": [{"code": r.code.value, "message": r.message} for r in decision.reasons],
    }
    if decision.allowed:
        record(
            session,
            actor.login,
            QUALIFY,
            outcome=Outcome.ALLOWED,
            area=area,
            subject=actor.login,
            details=details,
        )
        return
    refused = denial(facts, what, decision)
    refused.audited_by(
        lambda s: record(
            s,
            actor.login,
            QUALIFY,
            outcome=Outcome.DENIED,
            area=area,
            subject=actor.login,
            details=details,
        )
    )
    raise refused
