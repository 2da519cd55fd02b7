"""The perturbation regimes of a source's releases and pending requests, from the register.

A release's method and parameters are in the report it was submitted with, sealed with
its version (what the reviewers checked is what was published): they are read from
there, for every release and pending request of the area that the output may share
cells with (release/regimes.py says which, and why one regime per source).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.release.differencing_scope import EarlierRelease
from fivesafes.release.families import Family
from fivesafes.release.regimes import Earlier, Regime, in_scope, regime_of_submission
from fivesafes.release.submission import Submission, TableSubmission
from fivesafes.release.workflow import RequestState
from fivesafes.sdc import OutputTable, outputs_agree
from fivesafes.store.models.release import (
    PublishedReleaseRow,
    ReleaseRequestRow,
    RequestVersionRow,
)

# A request's current version as submitted (unsealed: services/release/checks.py)
Read = Callable[[ReleaseRequestRow], Submission]

# Requests on their way to publication: each may be published without a new version.
PENDING = (
    RequestState.SUBMITTED.value,
    RequestState.PARTIALLY_REVIEWED.value,
    RequestState.REVIEWED.value,
    RequestState.APPROVED.value,
)


def _agreeing(new: OutputTable | None, other: OutputTable) -> Callable[[], bool]:
    """Whether ``new`` and ``other`` may be one source's cells (no cell with two true
    values), asked only when the sources are not linked otherwise; no ``new``: no."""

    def agree() -> bool:
        if new is None:
            return False
        try:
            return outputs_agree([new, other])
        except Exception:  # cells that cannot be compared: taken as the same data
            return True

    return agree


def earlier_regimes(
    session: Session,
    read: Read,
    area_id: int,
    source: str,
    verified: bool,
    earlier: Sequence[EarlierRelease],
    families: Sequence[Family],
    *,
    new: OutputTable | None = None,
    request_id: int | None = None,
) -> list[Earlier]:
    """The regimes of the releases (and approved answers) in ``earlier`` and of the pending
    requests of the area that an output of ``source`` may share cells with; ``read``
    gives a request's current version as submitted.

    ``request_id``: the output's own request; only pending requests submitted before it
    count (the earlier request holds the regime until it is published, withdrawn or
    rejected: two pending requests never block each other), and of those only the ones
    whose regime matches every release and request before them (one the rule refuses
    holds nothing). ``new``: the output's cells
    as the differencing check sees them, to tell whether a declared source's release may
    be these data; None (before the table exists) keeps only the sources that are linked
    by name or family."""
    out: list[Earlier] = []
    rows = {
        r.release_id: r
        for r in session.scalars(
            select(PublishedReleaseRow).where(PublishedReleaseRow.area_id == area_id)
        )
    }
    for e in earlier:
        agree = _agreeing(new, e.table)
        if not in_scope(source, verified, e.source, e.verified, families, agree):
            continue
        row = rows.get(e.table.label)
        if row is None:  # an approved figure in an answer to a request: an exact value
            out.append(Earlier(e.table.label, e.source, Regime("suppression")))
            continue
        req = session.get(ReleaseRequestRow, row.request_id)
        published = read(req) if req is not None else None
        if isinstance(published, TableSubmission):
            out.append(Earlier(row.release_id, e.source, regime_of_submission(published)))
    query = select(ReleaseRequestRow).where(
        ReleaseRequestRow.area_id == area_id,
        ReleaseRequestRow.kind == "table",
        ReleaseRequestRow.state.in_(PENDING),
    )
    if request_id is not None:
        query = query.where(ReleaseRequestRow.id < request_id)
    for req in session.scalars(query.order_by(ReleaseRequestRow.id)):
        proven = _proven(session, req)
        if not in_scope(source, verified, req.source, proven, families, lambda: True):
            continue  # another source, whatever its cells: not unsealed
        submission = read(req)
        if not isinstance(submission, TableSubmission):
            continue
        label = f"request {req.id} v{req.current_version}"
        agree = _agreeing(new, submission.output_table(label))
        if not in_scope(source, verified, req.source, proven, families, agree):
            continue
        regime = regime_of_submission(submission)
        # a request that the regime of those before it blocks can never be published: it
        # holds nothing (else a refused request would block every later one of its source)
        if all(regime.matches(h.regime) for h in out):
            out.append(Earlier(label, req.source, regime, pending=True))
    return out


def _proven(session: Session, req: ReleaseRequestRow) -> bool:
    version = session.scalars(
        select(RequestVersionRow.source_verified).where(
            RequestVersionRow.request_id == req.id,
            RequestVersionRow.version == req.current_version,
        )
    ).one_or_none()
    return bool(version)
