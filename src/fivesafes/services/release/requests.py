"""Release requests: submit an output (new or changed version), withdraw it, show it, list them.

The request's use cases live by concept and are re-exported here, so callers keep one
import path:

- :mod:`~fivesafes.services.release.submission`: submit an output (sealed, checked, audited);
- :mod:`~fivesafes.services.release.views`: show and list requests (blinded reviews);
- :mod:`~fivesafes.services.release.moves`: the row lookup, the author check and the
  audited workflow move that every release service uses.

Withdrawing, the author's other move, is defined here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from fivesafes.release.workflow import Actor as Mover
from fivesafes.release.workflow import RequestState
from fivesafes.services.context import Actor
from fivesafes.services.release.moves import check_author, move_request, request_row
from fivesafes.services.release.submission import (
    SubmissionContext,
    admit_submission,
    check_may_submit,
    submit_output,
    submit_stored_output,
)
from fivesafes.services.release.views import (
    CheckView,
    RequestView,
    VersionView,
    get_request,
    list_requests,
    reviews_of,
    view_of,
)

__all__ = [
    "CheckView",
    "RequestView",
    "SubmissionContext",
    "VersionView",
    "admit_submission",
    "check_author",
    "check_may_submit",
    "get_request",
    "list_requests",
    "move_request",
    "request_row",
    "reviews_of",
    "submit_output",
    "submit_stored_output",
    "view_of",
    "withdraw_request",
]


def withdraw_request(
    session: Session, actor: Actor, request_id: int, reason: str = ""
) -> RequestView:
    """The author withdraws the request (any time before release)."""
    row = request_row(session, request_id)
    check_author(row, actor, "withdraw")
    details: dict[str, object] = {"reason": reason, "version": row.current_version}
    move_request(session, actor.login, row, RequestState.WITHDRAWN, Mover.AUTHOR, details)
    return view_of(session, row, actor.login)
