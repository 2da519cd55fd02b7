"""Qualified to see confidential values or to decide on access: the analyst's people checks.

An output checker reads the true values of the cells an output hides; an information
asset owner decides who may open an area's data. Each must be what an analyst must be
to open the data: registered and active, with valid mandatory training and the area's
extra courses, and the current confidentiality declaration signed. The decision is
:func:`fivesafes.governance.access.decide_people`; this module is the permission pair.
"""

from __future__ import annotations

from datetime import date

from fivesafes.errors import AccessDenied
from fivesafes.governance.access import Decision, PeopleFacts, decide_people


def denial(facts: PeopleFacts, what: str, decision: Decision) -> AccessDenied:
    """The AccessDenied for a person who fails the people checks, every reason listed."""
    reasons = tuple(r.message for r in decision.reasons)
    return AccessDenied(
        f"{facts.person} may not {what}: " + "; ".join(reasons),
        reasons=reasons,
        hint="whoever sees confidential values or decides on access needs valid training "
        "(mandatory and the area's courses) and the current declaration signed; "
        f"see: fivesafes people show {facts.person}",
    )


def check_qualified(facts: PeopleFacts, what: str, today: date) -> None:
    """Raise AccessDenied, with every reason, unless ``facts.person`` passes the people checks."""
    decision = decide_people(facts, today)
    if not decision.allowed:
        raise denial(facts, what, decision)


def can_qualify(facts: PeopleFacts, today: date) -> bool:
    """True when ``facts.person`` passes the people checks today."""
    return decide_people(facts, today).allowed
