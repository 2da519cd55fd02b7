"""An output checker opens a request's submitted output to judge it (the web's request page).

Opening it unseals confidential content (the true values of hidden cells), so it takes
the same permission as a vote: an active output checker who is not the author and who
passes the people checks for the area. Allowed and denied openings are both audited.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from fivesafes.audit.events import Outcome
from fivesafes.errors import AccessDenied
from fivesafes.release.permissions import check_review
from fivesafes.release.submission import Submission
from fivesafes.services.context import Actor, record
from fivesafes.services.governance.qualification import require_qualified
from fivesafes.services.release.checks import submission_of, version_row
from fivesafes.services.release.moves import request_row
from fivesafes.services.release.views import RequestView, view_of
from fivesafes.vault.keys import KeyProvider

INSPECT = "release.inspect"


def inspect_request(
    session: Session, actor: Actor, provider: KeyProvider, request_id: int
) -> tuple[RequestView, Submission]:
    """The request as ``actor`` may see it and its current version's content (audited)."""
    row = request_row(session, request_id)
    author, area = row.author.login, row.area.name
    try:
        check_review(actor.person, author)
    except AccessDenied as refused:
        details = {"version": row.current_version, "reasons": list(refused.reasons)}
        refused.after_rollback.append(
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
    content = submission_of(provider, row, version_row(session, row))
    record(
        session,
        actor.login,
        INSPECT,
        outcome=Outcome.ALLOWED,
        area=area,
        subject=str(request_id),
        details={"version": row.current_version},
    )
    return view_of(session, row, actor.login), content
