"""Release requests as a viewer may see them: versions, attached checks, blinded reviews.

A viewer sees only their own vote until both reviews of the current version are in.
Reading only: nothing here writes or audits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fivesafes.release.votes import Review, Verdict, Vote, verdict, visible_reviews
from fivesafes.release.workflow import STATE_OWNER, RequestState
from fivesafes.services.release.checks import checks_in_force, stored_checks
from fivesafes.services.release.moves import request_row
from fivesafes.store.models.governance import AreaRow, PersonRow
from fivesafes.store.models.release import (
    CheckResultRow,
    ReleaseRequestRow,
    RequestVersionRow,
    ReviewRow,
)


@dataclass(frozen=True)
class CheckView:
    """One run of one automated check of a version: when, under which rule set, for whom."""

    name: str
    verdict: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    stage: str = "submission"  # submission | vote | publication
    rule_set: str | None = None
    checked_at: datetime | None = None
    run_by: str | None = None


@dataclass(frozen=True)
class VersionView:
    """One submitted version (history is kept)."""

    version: int
    files: dict[str, str]
    context: dict[str, Any]
    submitted_by: str
    submitted_at: datetime
    checks: tuple[CheckView, ...]  # the latest run of each check: the ones in force
    source_verified: bool = False  # True only when read from a stored table's provenance
    check_history: tuple[CheckView, ...] = ()  # every run, oldest first
    source_confirmed_by: str | None = None  # the asset owner who confirmed a declared source
    source_confirmed_at: datetime | None = None
    source_confirmation_note: str | None = None


@dataclass(frozen=True)
class RequestView:
    """A request as ``viewer`` may see it (blinded reviews)."""

    id: int
    title: str
    kind: str
    area: str
    author: str
    source: str
    state: RequestState
    owner: str
    version: int
    rule_set: str | None
    reviews_in: int
    reviews: tuple[Review, ...]
    verdict: str
    conflict: bool
    blocked_by: tuple[str, ...]
    versions: tuple[VersionView, ...]
    source_verified: bool = False  # of the current version
    source_confirmed_by: str | None = None  # of the current version (declared sources)


def reviews_of(session: Session, request: ReleaseRequestRow) -> list[Review]:
    """Every review of every version of the request."""
    rows = session.execute(
        select(ReviewRow, RequestVersionRow.version)
        .join(RequestVersionRow, RequestVersionRow.id == ReviewRow.version_id)
        .where(RequestVersionRow.request_id == request.id)
        .order_by(ReviewRow.id)
    ).all()
    return [Review(r.reviewer.login, Vote(r.vote), r.comment, v) for r, v in rows]


def _check_view(c: CheckResultRow) -> CheckView:
    return CheckView(
        c.name,
        c.verdict,
        c.summary,
        json.loads(c.details_json),
        stage=c.stage,
        rule_set=c.rule_set,
        checked_at=c.checked_at,
        run_by=c.run_by,
    )


def _version_view(session: Session, v: RequestVersionRow) -> VersionView:
    runs = stored_checks(session, v.id)
    return VersionView(
        version=v.version,
        files=json.loads(v.files_json),
        context=json.loads(v.context_json),
        submitted_by=v.submitted_by,
        submitted_at=v.submitted_at,
        checks=tuple(_check_view(c) for c in checks_in_force(runs)),
        source_verified=bool(v.source_verified),
        check_history=tuple(_check_view(c) for c in runs),
        source_confirmed_by=v.source_confirmed_by,
        source_confirmed_at=v.source_confirmed_at,
        source_confirmation_note=v.source_confirmation_note,
    )


def view_of(session: Session, request: ReleaseRequestRow, viewer: str) -> RequestView:
    """The request as ``viewer`` may see it."""
    versions = session.scalars(
        select(RequestVersionRow)
        .where(RequestVersionRow.request_id == request.id)
        .order_by(RequestVersionRow.version)
    ).all()
    history = tuple(_version_view(session, v) for v in versions)
    reviews = reviews_of(session, request)
    current = request.current_version
    agg = verdict(reviews, current)
    state = RequestState(request.state)
    return RequestView(
        id=request.id,
        title=request.title,
        kind=request.kind,
        area=request.area.name,
        author=request.author.login,
        source=request.source,
        state=state,
        owner=STATE_OWNER[state].value,
        version=current,
        rule_set=f"{request.rule_set.name} v{request.rule_set.version}"
        if request.rule_set
        else None,
        reviews_in=sum(1 for r in reviews if r.version == current),
        reviews=visible_reviews(reviews, viewer, current),
        verdict=agg.name.lower(),
        conflict=agg is Verdict.CONFLICTED,
        blocked_by=tuple(
            f"{c.name}: {c.summary}" for c in history[-1].checks if c.verdict == "fail"
        ),
        versions=history,
        source_verified=history[-1].source_verified if history else False,
        source_confirmed_by=history[-1].source_confirmed_by if history else None,
    )


def get_request(session: Session, request_id: int, viewer: str) -> RequestView:
    """The request as ``viewer`` may see it (their own vote only, until both are in)."""
    return view_of(session, request_row(session, request_id), viewer)


def list_requests(
    session: Session, viewer: str, state: RequestState | None = None
) -> list[RequestView]:
    """Every request (optionally in one state), newest first, as ``viewer`` may see them."""
    query = select(ReleaseRequestRow).order_by(ReleaseRequestRow.id.desc())
    if state is not None:
        query = query.where(ReleaseRequestRow.state == state.value)
    return [view_of(session, r, viewer) for r in session.scalars(query).all()]


@dataclass(frozen=True)
class QueueEntry:
    """A request as the checkers' queue lists it (no content, no votes, no checks)."""

    id: int
    title: str
    kind: str
    area: str
    author: str
    state: RequestState
    version: int
    reviews_in: int  # reviews of the current version


def awaiting_review(
    session: Session,
    states: tuple[RequestState, ...] = (RequestState.SUBMITTED, RequestState.PARTIALLY_REVIEWED),
) -> list[QueueEntry]:
    """Requests in ``states``, oldest first, in one query (the queue of a thousand requests
    built through :func:`view_of` took seconds: every version, check and review of each)."""
    reviews_in = (
        select(func.count(ReviewRow.id))
        .join(RequestVersionRow, RequestVersionRow.id == ReviewRow.version_id)
        .where(
            RequestVersionRow.request_id == ReleaseRequestRow.id,
            RequestVersionRow.version == ReleaseRequestRow.current_version,
        )
        .correlate(ReleaseRequestRow)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            ReleaseRequestRow.id,
            ReleaseRequestRow.title,
            ReleaseRequestRow.kind,
            AreaRow.name,
            PersonRow.login,
            ReleaseRequestRow.state,
            ReleaseRequestRow.current_version,
            reviews_in,
        )
        .join(AreaRow, AreaRow.id == ReleaseRequestRow.area_id)
        .join(PersonRow, PersonRow.id == ReleaseRequestRow.author_id)
        .where(ReleaseRequestRow.state.in_([s.value for s in states]))
        .order_by(ReleaseRequestRow.id)
    ).all()
    return [
        QueueEntry(i, t, k, a, au, RequestState(st), v, int(n or 0))
        for i, t, k, a, au, st, v, n in rows
    ]
