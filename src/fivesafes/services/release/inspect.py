"""An output checker opens a request's submitted output to judge it (the web's request page).

Opening it unseals confidential content (the true values of hidden cells), so it takes
the same permission as a vote: an active output checker who is not the author and who
passes the people checks for the area. Allowed and denied openings are both audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.audit.events import Outcome
from fivesafes.errors import AccessDenied, NotFoundError
from fivesafes.release.intervals import AuditIntervals
from fivesafes.release.permissions import check_review
from fivesafes.release.submission import Submission
from fivesafes.services.context import Actor, record
from fivesafes.services.governance.qualification import require_qualified
from fivesafes.services.release.checks import intervals_of, submission_of, version_row
from fivesafes.services.release.moves import request_row
from fivesafes.services.release.views import RequestView, view_of
from fivesafes.store.models.release import ReleaseRequestRow, RequestVersionRow
from fivesafes.vault.keys import KeyProvider

INSPECT = "release.inspect"


def _version_of(session: Session, row: ReleaseRequestRow, version: int) -> RequestVersionRow:
    found = session.scalars(
        select(RequestVersionRow).where(
            RequestVersionRow.request_id == row.id, RequestVersionRow.version == version
        )
    ).one_or_none()
    if found is None:
        raise NotFoundError(
            f"request #{row.id} has no version {version}",
            hint=f"its versions are 1 to {row.current_version}",
        )
    return found


def inspect_request(
    session: Session,
    actor: Actor,
    provider: KeyProvider,
    request_id: int,
    version: int | None = None,
) -> tuple[RequestView, Submission]:
    """The request as ``actor`` may see it and the content of ``version`` (default: the
    current one; an earlier one for the diff a new version makes), audited."""
    view, content, _intervals = _inspect(session, actor, provider, request_id, version, False)
    return view, content


def inspect_with_intervals(
    session: Session,
    actor: Actor,
    provider: KeyProvider,
    request_id: int,
) -> tuple[RequestView, Submission, AuditIntervals | None]:
    """As :func:`inspect_request` for the current version, with the audit's intervals
    sealed at submission (required and achieved per hidden cell; None for a file or a
    version submitted before they were kept). Same permission, one audited opening."""
    return _inspect(session, actor, provider, request_id, None, True)


def _inspect(
    session: Session,
    actor: Actor,
    provider: KeyProvider,
    request_id: int,
    version: int | None,
    with_intervals: bool,
) -> tuple[RequestView, Submission, AuditIntervals | None]:
    row = request_row(session, request_id)
    author, area = row.author.login, row.area.name
    try:
        check_review(actor.person, author)
    except AccessDenied as refused:
        details = {"version": row.current_version, "reasons": list(refused.reasons)}
        refused.audited_by(
            lambda s: record(
                s,
                actor.login,
                INSPECT,
                outcome=Outcome.DENIED,
                area=area,
                subject=str(request_id),
                details=details,
            )
        )
        raise
    require_qualified(session, actor, area, f"inspect request #{request_id}")
    opened = version_row(session, row) if version is None else _version_of(session, row, version)
    content = submission_of(provider, row, opened)
    intervals = intervals_of(provider, row, opened) if with_intervals else None
    opening: dict[str, Any] = {"version": opened.version}
    if with_intervals:
        opening["intervals"] = intervals is not None
    record(
        session,
        actor.login,
        INSPECT,
        outcome=Outcome.ALLOWED,
        area=area,
        subject=str(request_id),
        details=opening,
    )
    return view_of(session, row, actor.login), content, intervals
