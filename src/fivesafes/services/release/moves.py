"""A release request's row and its audited workflow moves, shared by every release service.

Look a request up, check that the actor is its author, and move it to another state
(if the workflow allows it) with an audit event for the move.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from fivesafes.errors import AccessDenied, NotFoundError
from fivesafes.release.workflow import Actor as Mover
from fivesafes.release.workflow import RequestState, transition
from fivesafes.services.context import Actor, now, record
from fivesafes.store.models.release import ReleaseRequestRow


def request_row(session: Session, request_id: int) -> ReleaseRequestRow:
    """The request, or NotFoundError."""
    row = session.get(ReleaseRequestRow, request_id)
    if row is None:
        raise NotFoundError(f"no release request #{request_id}", hint="see: fivesafes release list")
    return row


def check_author(row: ReleaseRequestRow, actor: Actor, what: str) -> None:
    """Raise AccessDenied unless ``actor`` wrote the request (only its author may ``what`` it)."""
    if row.author.login != actor.login:
        raise AccessDenied(
            f"{actor.login} may not {what} request #{row.id}: only its author may",
            reasons=("not the author",),
            hint=f"ask its author, {row.author.login}",
        )


def move_request(
    session: Session,
    actor: str,
    row: ReleaseRequestRow,
    target: RequestState,
    mover: Mover,
    details: dict[str, object],
) -> None:
    """Move the request to ``target`` (if the workflow allows it) and audit the move."""
    move = transition(RequestState(row.state), target, mover)
    row.state = move.target.value
    row.updated_at = now()
    session.flush()
    record(session, actor, move.event, area=row.area.name, subject=str(row.id), details=details)
