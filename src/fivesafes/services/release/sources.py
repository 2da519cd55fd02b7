"""The asset owner's confirmation of a declared source, and the gate it opens.

A folder's source (DATASET:MEASURE) is the author's word: the differencing check widens
to every source of the area for it, and approval cannot complete until the area's
information asset owner confirms, for the current version, that the output comes from
that source. The confirmation is an audited action (``release.confirm_source``); a new
version needs its own.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from fivesafes.errors import ValidationError
from fivesafes.release.permissions import check_confirm_source
from fivesafes.release.workflow import FINAL_STATES, RequestState
from fivesafes.services.context import Actor, now, record
from fivesafes.services.governance.qualification import require_qualified
from fivesafes.services.release.checks import version_row
from fivesafes.services.release.moves import request_row
from fivesafes.services.release.views import RequestView, view_of
from fivesafes.store.models.release import ReleaseRequestRow, RequestVersionRow

_OPEN = (RequestState.SUBMITTED, RequestState.PARTIALLY_REVIEWED, RequestState.REVIEWED)


def source_settled(version: RequestVersionRow) -> bool:
    """True when the version's source was verified, or declared and confirmed by the owner."""
    return bool(version.source_verified) or version.source_confirmed_by is not None


def check_source_settled(request: ReleaseRequestRow, version: RequestVersionRow, what: str) -> None:
    """Raise unless the current version's source is verified or confirmed by the asset owner."""
    if not source_settled(version):
        owner = request.area.owner.login
        raise ValidationError(
            f"request #{request.id} cannot be {what}: its source {request.source} was declared "
            f"by the author, not verified, and the asset owner ({owner}) has not confirmed it",
            hint=f"{owner} confirms it: fivesafes release confirm-source {request.id} "
            "--note '...'; or submit the table made by `table protect --dataset` (--output)",
        )


def confirm_source(session: Session, actor: Actor, request_id: int, note: str) -> RequestView:
    """The area's asset owner confirms the declared source of the request's current version."""
    row = request_row(session, request_id)
    check_confirm_source(actor.person, row.area.owner.login, row.author.login)
    state = RequestState(row.state)
    if state in FINAL_STATES or state not in _OPEN:
        raise ValidationError(
            f"request #{row.id} is {state.value}: a source is confirmed while it is reviewed",
            hint="confirm it after submission and before approval",
        )
    if not note.strip():
        raise ValidationError("say how you know where the output comes from", hint="give --note")
    version = version_row(session, row)
    if version.source_verified:
        raise ValidationError(
            f"request #{row.id} v{version.version} has a verified source: nothing to confirm"
        )
    if version.source_confirmed_by is not None:
        raise ValidationError(
            f"{version.source_confirmed_by} already confirmed the source of "
            f"request #{row.id} v{version.version}"
        )
    require_qualified(session, actor, row.area.name, f"confirm the source of request #{row.id}")
    version.source_confirmed_by = actor.login
    version.source_confirmed_at = now()
    version.source_confirmation_note = note.strip()
    session.flush()
    record(
        session,
        actor.login,
        "release.confirm_source",
        area=row.area.name,
        subject=str(row.id),
        details={"version": version.version, "source": row.source, "note": note.strip()},
    )
    return view_of(session, row, actor.login)
