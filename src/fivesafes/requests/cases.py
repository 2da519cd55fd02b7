"""A case's states and moves: a state machine as data.

Each move names the states it may start from, the state it leads to and the audit event
it records; services look moves up here, tests check the table is complete, and the
diagram in docs/requests.md is generated from it (:func:`diagram`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fivesafes.errors import ValidationError


class CaseState(StrEnum):
    """Where a case stands."""

    OPEN = "open"  # received, no officer yet
    ASSIGNED = "assigned"  # an officer is answering it; the clock runs
    CLARIFYING = "clarifying"  # awaiting the requester's clarification; the clock stands
    CLOSED = "closed"  # answered (or refused)
    WITHDRAWN = "withdrawn"  # the requester withdrew it
    INTERNAL_REVIEW = "internal-review"  # the requester asked for an internal review
    REVIEWED = "reviewed"  # the internal review decided
    COMPLAINT = "complaint"  # complaint to the regulator (ICO / SIC) recorded
    COMPLAINT_DECIDED = "complaint-decided"  # the regulator's decision recorded


class Move(StrEnum):
    """What an officer does to a case."""

    ASSIGN = "assign"
    CLARIFY = "clarify"  # ask the requester to clarify: the clock stops
    CLARIFIED = "clarified"  # the clarification arrived: the clock restarts
    EXTEND = "extend"
    CLOSE = "close"
    WITHDRAW = "withdraw"
    REVIEW = "review"  # internal review requested
    REVIEW_DECIDED = "review-decided"
    COMPLAIN = "complain"  # complaint to the regulator recorded
    COMPLAINT_DECIDED = "complaint-decided"


@dataclass(frozen=True)
class Transition:
    """One move: from which states, to which state, with which audit event."""

    move: Move
    sources: frozenset[CaseState]
    target: CaseState | None  # None: the case stays in the state it is in
    event: str


_LIVE = frozenset({CaseState.OPEN, CaseState.ASSIGNED, CaseState.CLARIFYING})

TRANSITIONS: dict[Move, Transition] = {
    t.move: t
    for t in (
        Transition(
            Move.ASSIGN,
            frozenset({CaseState.OPEN, CaseState.ASSIGNED}),
            CaseState.ASSIGNED,
            "request.assign",
        ),
        Transition(
            Move.CLARIFY, frozenset({CaseState.ASSIGNED}), CaseState.CLARIFYING, "request.clarify"
        ),
        Transition(
            Move.CLARIFIED,
            frozenset({CaseState.CLARIFYING}),
            CaseState.ASSIGNED,
            "request.clarified",
        ),
        Transition(Move.EXTEND, frozenset({CaseState.ASSIGNED}), None, "request.extend"),
        Transition(Move.CLOSE, frozenset({CaseState.ASSIGNED}), CaseState.CLOSED, "request.close"),
        Transition(Move.WITHDRAW, _LIVE, CaseState.WITHDRAWN, "request.withdraw"),
        Transition(
            Move.REVIEW, frozenset({CaseState.CLOSED}), CaseState.INTERNAL_REVIEW, "request.review"
        ),
        Transition(
            Move.REVIEW_DECIDED,
            frozenset({CaseState.INTERNAL_REVIEW}),
            CaseState.REVIEWED,
            "request.review_decided",
        ),
        Transition(
            Move.COMPLAIN,
            frozenset({CaseState.CLOSED, CaseState.REVIEWED}),
            CaseState.COMPLAINT,
            "request.complain",
        ),
        Transition(
            Move.COMPLAINT_DECIDED,
            frozenset({CaseState.COMPLAINT}),
            CaseState.COMPLAINT_DECIDED,
            "request.complaint_decided",
        ),
    )
}

# States whose statutory clock runs (or stands, while clarifying) and can be overdue.
LIVE_STATES = _LIVE
FINAL_STATES = frozenset({CaseState.WITHDRAWN, CaseState.COMPLAINT_DECIDED})


def apply_move(state: CaseState, move: Move) -> CaseState:
    """The state after ``move``; a ValidationError says which states allow it."""
    transition = TRANSITIONS[move]
    if state not in transition.sources:
        allowed = ", ".join(sorted(s.value for s in transition.sources))
        raise ValidationError(
            f"a case that is {state.value} cannot {move.value}",
            hint=f"{move.value} applies to a case that is: {allowed}",
        )
    return transition.target if transition.target is not None else state


def allowed_moves(state: CaseState) -> tuple[Move, ...]:
    """The moves a case in ``state`` allows, in table order."""
    return tuple(t.move for t in TRANSITIONS.values() if state in t.sources)


def _node(state: CaseState) -> str:
    # Mermaid's state names take no hyphen.
    return state.value.replace("-", "_")


def diagram() -> str:
    """The state machine as a Mermaid diagram (for docs/requests.md)."""
    lines = ["stateDiagram-v2", "    [*] --> open: request.open"]
    for t in TRANSITIONS.values():
        for source in sorted(t.sources):
            target = t.target if t.target is not None else source
            lines.append(f"    {_node(source)} --> {_node(target)}: {t.move.value}")
    return "\n".join(lines) + "\n"


class Outcome(StrEnum):
    """How a case was closed (the columns of the government's FOI statistics)."""

    GRANTED = "granted"  # information given in full
    PART_WITHHELD = "part-withheld"  # some withheld under exemptions
    WITHHELD = "withheld"  # withheld in full
    NOT_HELD = "not-held"  # the information is not held
    REFUSED_COST = "refused-cost"  # over the cost limit (FOIA s12) or vexatious (s14)


def parse_outcome(text: str) -> Outcome:
    """Return the outcome named by ``text``."""
    try:
        return Outcome(text.strip().lower())
    except ValueError:
        known = ", ".join(o.value for o in Outcome)
        raise ValidationError(f"unknown outcome {text!r}", hint=f"use one of: {known}") from None
