"""Output checking: two independent, blinded reviews per version, and resolving a conflict.

The first vote moves a request to partially_reviewed, the second to reviewed; then
the verdict of both decides: two approvals approve (only if nothing blocks it now,
e.g. a disclosure by differencing against a release published meanwhile), two
requests for changes return it, two rejections reject it, and anything else is a
conflict that an output checker resolves by returning or rejecting it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import ValidationError
from fivesafes.release.permissions import check_review
from fivesafes.release.votes import Verdict, Vote, check_can_review, verdict
from fivesafes.release.workflow import FINAL_STATES, RequestState, transition
from fivesafes.release.workflow import Actor as Mover
from fivesafes.services.context import Actor, now, record
from fivesafes.services.governance.qualification import require_qualified
from fivesafes.services.release.checks import check_not_blocked, rule_setting, version_row
from fivesafes.services.release.locks import lock_for_check
from fivesafes.services.release.moves import move_request, request_row
from fivesafes.services.release.sources import check_source_settled
from fivesafes.services.release.views import RequestView, reviews_of, view_of
from fivesafes.services.vault.register import Vault
from fivesafes.store.models.governance import PersonRow
from fivesafes.store.models.release import ReleaseRequestRow, RequestVersionRow, ReviewRow
from fivesafes.vault.keys import KeyProvider

_AWAITING = (RequestState.SUBMITTED, RequestState.PARTIALLY_REVIEWED)


def review_request(
    session: Session,
    actor: Actor,
    provider: KeyProvider,
    request_id: int,
    vote: Vote,
    comment: str = "",
    *,
    vault: Vault | None = None,
) -> RequestView:
    """Record a vote on the current version; an approval is refused while a check blocks.

    ``vault``: where a proven source's dataset is stored, for the differencing check's
    zeros of the data (services/release/zeros.py)."""
    row = request_row(session, request_id)
    state = RequestState(row.state)
    if state not in _AWAITING:
        if state in FINAL_STATES:
            transition(state, RequestState.REVIEWED, Mover.SYSTEM)  # raises the final-state reason
        raise ValidationError(
            f"request #{row.id} is {state.value}, not awaiting review",
            hint="reviews are taken while a request is submitted or partially reviewed",
        )
    author = row.author.login
    check_review(actor.person, author)
    reviews = reviews_of(session, row)
    check_can_review(actor.login, author, reviews, row.current_version)
    if vote is Vote.APPROVE:
        # An approval's verdict is the blocking checks' run against the register: it
        # takes the locks a publication of the source takes, before anything is written
        # (the people check below audits, which takes the audit log's lock), so that a
        # publication running now is waited for and seen (services/release/locks.py).
        lock_for_check(
            session,
            row.area_id,
            row.source,
            verified=bool(version_row(session, row).source_verified),
        )
    # A reviewer sees the true values of the hidden cells: the analyst's people checks.
    require_qualified(session, actor, row.area.name, f"review request #{row.id}")
    if vote is Vote.APPROVE:
        check_not_blocked(
            session, provider, row, "approved", stage="vote", run_by=actor.login, vault=vault
        )
    version = session.scalars(
        select(RequestVersionRow).where(
            RequestVersionRow.request_id == row.id,
            RequestVersionRow.version == row.current_version,
        )
    ).one()
    session.add(
        ReviewRow(
            version_id=version.id,
            reviewer=session.get(PersonRow, actor.id),
            vote=vote.value,
            comment=comment,
            reviewed_at=now(),
        )
    )
    session.flush()
    first = state is RequestState.SUBMITTED
    target = RequestState.PARTIALLY_REVIEWED if first else RequestState.REVIEWED
    # The vote itself stays out of the log until both are in (blinded review).
    move_request(session, actor.login, row, target, Mover.SYSTEM, {"version": row.current_version})
    if not first:
        _decide(session, actor, provider, row)
    return view_of(session, row, actor.login)


def _decide(session: Session, actor: Actor, provider: KeyProvider, row: ReleaseRequestRow) -> None:
    reviews = reviews_of(session, row)
    agg = verdict(reviews, row.current_version)
    votes = {r.reviewer: r.vote.value for r in reviews if r.version == row.current_version}
    details: dict[str, object] = {"version": row.current_version, "votes": votes}
    if agg is Verdict.APPROVED:
        # The approving vote just re-ran (and kept) the blocking checks in this transaction.
        check_source_settled(row, version_row(session, row), "approved")
        in_force = rule_setting(session, row)
        details["rule_set"] = in_force.label if in_force else None
        move_request(session, actor.login, row, RequestState.APPROVED, Mover.SYSTEM, details)
    elif agg is Verdict.CHANGES_REQUESTED:
        move_request(session, actor.login, row, RequestState.RETURNED, Mover.REVIEWER, details)
    elif agg is Verdict.REJECTED:
        move_request(session, actor.login, row, RequestState.REJECTED, Mover.REVIEWER, details)
    else:
        record(
            session,
            actor.login,
            "release.conflict",
            area=row.area.name,
            subject=str(row.id),
            details=details,
        )


def resolve_conflict(
    session: Session, actor: Actor, request_id: int, outcome: Vote, comment: str
) -> RequestView:
    """An output checker (not the author) settles conflicting reviews: return or reject."""
    row = request_row(session, request_id)
    check_review(actor.person, row.author.login)
    require_qualified(session, actor, row.area.name, f"resolve request #{row.id}")
    if verdict(reviews_of(session, row), row.current_version) is not Verdict.CONFLICTED:
        raise ValidationError(
            f"request #{row.id} has no conflicting reviews to resolve",
            hint="see: fivesafes release show ID",
        )
    if outcome is Vote.APPROVE:
        raise ValidationError(
            "a conflict cannot be resolved by approving: both reviewers must approve",
            hint="return it (request_changes) so that the author can answer, or reject it",
        )
    if not comment.strip():
        raise ValidationError("say why", hint="give --comment")
    target = RequestState.RETURNED if outcome is Vote.REQUEST_CHANGES else RequestState.REJECTED
    details: dict[str, object] = {"resolution": outcome.value, "comment": comment}
    move_request(session, actor.login, row, target, Mover.REVIEWER, details)
    return view_of(session, row, actor.login)
