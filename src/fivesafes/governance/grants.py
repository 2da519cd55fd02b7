"""Need-to-know grants: a person's time-limited access to one restricted area.

The life of a grant is a state machine held as data (:data:`TRANSITIONS`): who may
take each step and which audit action records it live in the same table, so the
services, the docs and the tests all read the one definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from fivesafes.errors import ConflictError, ValidationError
from fivesafes.governance.training import add_months

STATISTICAL = "statistical"  # the only lawful purpose for using confidential data here
DEFAULT_GRANT_MONTHS = 12
MAX_GRANT_MONTHS = 12


class GrantState(StrEnum):
    """Where a grant is in its life."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"


class GrantStep(StrEnum):
    """Something that moves a grant from one state to another."""

    APPROVE = "approve"
    REJECT = "reject"
    REVOKE = "revoke"
    EXPIRE = "expire"


class StepOwner(StrEnum):
    """Who may take a step."""

    AREA_OWNER = "area_owner"  # the area's information asset owner, never the grantee
    OWNER_OR_ADMINISTRATOR = "owner_or_administrator"
    SYSTEM = "system"  # done by fivesafes when the end date has passed


@dataclass(frozen=True)
class Transition:
    """One allowed step: where it leads, who takes it, and the audit action it writes."""

    target: GrantState
    owner: StepOwner
    audit_action: str


TRANSITIONS: dict[tuple[GrantState, GrantStep], Transition] = {
    (GrantState.REQUESTED, GrantStep.APPROVE): Transition(
        GrantState.APPROVED, StepOwner.AREA_OWNER, "grant.approve"
    ),
    (GrantState.REQUESTED, GrantStep.REJECT): Transition(
        GrantState.REJECTED, StepOwner.AREA_OWNER, "grant.reject"
    ),
    (GrantState.REQUESTED, GrantStep.EXPIRE): Transition(
        GrantState.EXPIRED, StepOwner.SYSTEM, "grant.expire"
    ),
    (GrantState.APPROVED, GrantStep.REVOKE): Transition(
        GrantState.REVOKED, StepOwner.OWNER_OR_ADMINISTRATOR, "grant.revoke"
    ),
    (GrantState.APPROVED, GrantStep.EXPIRE): Transition(
        GrantState.EXPIRED, StepOwner.SYSTEM, "grant.expire"
    ),
}

FINAL_STATES = frozenset(
    state for state in GrantState if not any(src is state for src, _ in TRANSITIONS)
)


def transition(state: GrantState, step: GrantStep) -> Transition:
    """Return the transition for ``step`` from ``state``, or raise ConflictError."""
    found = TRANSITIONS.get((state, step))
    if found is None:
        allowed = sorted(
            s.value
            for (src, s), t in TRANSITIONS.items()
            if src is state and t.owner is not StepOwner.SYSTEM
        )
        raise ConflictError(
            f"a grant that is {state.value} cannot be {step.value}d",
            hint=f"allowed now: {', '.join(allowed)}" if allowed else "nothing more can be done",
        )
    return found


def effective_state(state: GrantState, end_on: date, today: date) -> GrantState:
    """Return the state as of ``today``: open grants lapse by themselves after ``end_on``."""
    if state in (GrantState.REQUESTED, GrantState.APPROVED) and today > end_on:
        return GrantState.EXPIRED
    return state


def is_active(state: GrantState, start_on: date, end_on: date, today: date) -> bool:
    """True when an approved grant covers ``today`` (both ends inclusive)."""
    return state is GrantState.APPROVED and start_on <= today <= end_on


@dataclass(frozen=True)
class GrantPolicy:
    """Default and maximum length of a grant, from the workspace settings."""

    default_months: int = DEFAULT_GRANT_MONTHS
    max_months: int = MAX_GRANT_MONTHS


def grant_period(
    start_on: date | None, end_on: date | None, today: date, policy: GrantPolicy
) -> tuple[date, date]:
    """Return (start, end) for a new grant, filling defaults and enforcing the maximum."""
    start = start_on or today
    if start < today:
        raise ValidationError(
            f"start date {start.isoformat()} is in the past",
            hint="grants start today or later; omit --start to start today",
        )
    end = end_on or add_months(start, policy.default_months) - timedelta(days=1)
    if end < start:
        raise ValidationError(
            f"end date {end.isoformat()} is before start date {start.isoformat()}",
            hint="give an end date on or after the start date",
        )
    latest = add_months(start, policy.max_months) - timedelta(days=1)
    if end > latest:
        raise ValidationError(
            f"a grant ending {end.isoformat()} is longer than the maximum of "
            f"{policy.max_months} months",
            hint=f"choose an end date on or before {latest.isoformat()} and renew it later",
        )
    return start, end


def check_purpose(purpose: str) -> str:
    """Return ``purpose`` if it is statistical, else raise ValidationError."""
    if purpose != STATISTICAL:
        raise ValidationError(
            f"purpose {purpose!r} is not allowed",
            hint="confidential data are used for statistical purposes only: "
            f"use --purpose {STATISTICAL}",
        )
    return purpose


def check_text(what: str, text: str) -> str:
    """Return ``text`` stripped, or raise ValidationError when it is empty."""
    if not text.strip():
        raise ValidationError(f"a {what} is required", hint=f"say in a sentence the {what}")
    return text.strip()


def transitions_diagram() -> str:
    """The grant state machine as a Mermaid diagram (docs/governance.md embeds it)."""
    lines = ["stateDiagram-v2", f"    [*] --> {GrantState.REQUESTED.value}: grant.request"]
    for (source, step), move in TRANSITIONS.items():
        lines.append(
            f"    {source.value} --> {move.target.value}: {step.value} ({move.owner.value})"
        )
    lines.extend(f"    {state.value} --> [*]" for state in sorted(FINAL_STATES))
    return "\n".join(lines)
