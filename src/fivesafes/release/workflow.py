"""The output-checking workflow as data: states, who owns each, allowed transitions, audit events.

Everything here is pure; the release service looks the tables up, checks the
actor against the owner, records the transition and its audit event in one
transaction. The docs diagram is generated from these tables (``mermaid()``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fivesafes.errors import ValidationError


class RequestState(StrEnum):
    """Where a release request is in output checking."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    PARTIALLY_REVIEWED = "partially_reviewed"
    REVIEWED = "reviewed"
    RETURNED = "returned"
    APPROVED = "approved"
    RELEASED = "released"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Owner(StrEnum):
    """Who may move a request out of a state."""

    AUTHOR = "author"
    REVIEWERS = "reviewers"
    SYSTEM = "system"
    NOBODY = "nobody"  # final states


FINAL_STATES: frozenset[RequestState] = frozenset(
    {RequestState.RELEASED, RequestState.REJECTED, RequestState.WITHDRAWN}
)

STATE_OWNER: dict[RequestState, Owner] = {
    RequestState.DRAFT: Owner.AUTHOR,
    RequestState.SUBMITTED: Owner.REVIEWERS,
    RequestState.PARTIALLY_REVIEWED: Owner.REVIEWERS,
    RequestState.REVIEWED: Owner.REVIEWERS,
    RequestState.RETURNED: Owner.AUTHOR,
    RequestState.APPROVED: Owner.AUTHOR,  # the author publishes (or withdraws)
    RequestState.RELEASED: Owner.NOBODY,
    RequestState.REJECTED: Owner.NOBODY,
    RequestState.WITHDRAWN: Owner.NOBODY,
}


class Actor(StrEnum):
    """The kind of actor a transition needs."""

    AUTHOR = "author"
    REVIEWER = "reviewer"  # an output checker who is not the author
    SYSTEM = "system"  # done by the service as a consequence of another step


@dataclass(frozen=True)
class Transition:
    """One allowed move, who makes it, and the audit event it records."""

    source: RequestState
    target: RequestState
    actor: Actor
    event: str


_S = RequestState
TRANSITIONS: tuple[Transition, ...] = (
    Transition(_S.DRAFT, _S.SUBMITTED, Actor.AUTHOR, "release.submit"),
    Transition(_S.SUBMITTED, _S.PARTIALLY_REVIEWED, Actor.SYSTEM, "release.first_review"),
    Transition(_S.PARTIALLY_REVIEWED, _S.REVIEWED, Actor.SYSTEM, "release.second_review"),
    Transition(_S.REVIEWED, _S.APPROVED, Actor.SYSTEM, "release.approve"),
    Transition(_S.REVIEWED, _S.RETURNED, Actor.REVIEWER, "release.return"),
    Transition(_S.REVIEWED, _S.REJECTED, Actor.REVIEWER, "release.reject"),
    Transition(_S.RETURNED, _S.SUBMITTED, Actor.AUTHOR, "release.resubmit"),
    Transition(_S.APPROVED, _S.RELEASED, Actor.AUTHOR, "release.publish"),
    # The author may withdraw at any time before release.
    *(
        Transition(s, _S.WITHDRAWN, Actor.AUTHOR, "release.withdraw")
        for s in (
            _S.DRAFT,
            _S.SUBMITTED,
            _S.PARTIALLY_REVIEWED,
            _S.REVIEWED,
            _S.RETURNED,
            _S.APPROVED,
        )
    ),
)

VALID_TRANSITIONS: dict[tuple[RequestState, RequestState], Transition] = {
    (t.source, t.target): t for t in TRANSITIONS
}


def transition(source: RequestState, target: RequestState, actor: Actor) -> Transition:
    """The move from ``source`` to ``target`` by ``actor``; a ValidationError says why not."""
    if source in FINAL_STATES:
        raise ValidationError(
            f"the request is {source.value}, a final state; nothing more can happen to it",
            hint="start a new request",
        )
    found = VALID_TRANSITIONS.get((source, target))
    if found is None:
        allowed = sorted(t.target.value for t in TRANSITIONS if t.source is source)
        raise ValidationError(
            f"a request cannot go from {source.value} to {target.value}",
            hint=f"from {source.value} it can go to: {', '.join(allowed)}",
        )
    if found.actor is not actor:
        raise ValidationError(
            f"moving a request from {source.value} to {target.value} is for the "
            f"{found.actor.value}, not the {actor.value}",
        )
    return found


def mermaid() -> str:
    """A Mermaid state diagram of the workflow, generated from the tables above."""
    lines = ["stateDiagram-v2", f"    [*] --> {RequestState.DRAFT.value}"]
    for t in TRANSITIONS:
        lines.append(f"    {t.source.value} --> {t.target.value}: {t.actor.value} ({t.event})")
    lines.extend(f"    {s.value} --> [*]" for s in sorted(FINAL_STATES))
    return "\n".join(lines)
