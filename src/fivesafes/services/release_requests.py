"""Release requests: submit an output (new or changed version), withdraw it, show it, list them.

Authorise -> act -> audit in one transaction. The submitted content is sealed under
the area key; the automated checks run at submission and their results are attached.
Showing a request respects blinded review: a viewer sees only their own vote until
both are in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import AccessDenied, NotFoundError, ValidationError
from fivesafes.governance.grants import GrantState, is_active
from fivesafes.release.checks import CheckVerdict
from fivesafes.release.permissions import check_submit
from fivesafes.release.rulesets import DEFAULT_RULE_SET
from fivesafes.release.sealing import seal
from fivesafes.release.source import (
    SourceOrigin,
    declared_source,
    proven_source,
    same_request_source,
)
from fivesafes.release.submission import Submission, TableSubmission
from fivesafes.release.votes import Review, Verdict, Vote, verdict, visible_reviews
from fivesafes.release.workflow import STATE_OWNER, RequestState, transition
from fivesafes.release.workflow import Actor as Mover
from fivesafes.services.context import Actor, now, record, today_or
from fivesafes.services.lookup import area_row
from fivesafes.services.release_checks import (
    run_checks,
    store_checks,
    stored_checks,
    version_object_id,
)
from fivesafes.services.rule_sets import rule_set_in_force
from fivesafes.services.table_outputs import stored_table
from fivesafes.services.vault_register import Vault
from fivesafes.store.models.governance import DatasetRow, GrantRow, PersonRow
from fivesafes.store.models.release import (
    ReleaseRequestRow,
    RequestVersionRow,
    ReviewRow,
    RuleSetRow,
)
from fivesafes.vault.keys import KeyProvider


@dataclass(frozen=True)
class SubmissionContext:
    """Why the output exists: purpose, datasets used, method notes, which release or request."""

    purpose: str
    datasets: tuple[str, ...] = ()
    method_notes: str = ""
    for_release: str = ""


@dataclass(frozen=True)
class CheckView:
    """One automated check result as attached to a version."""

    name: str
    verdict: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VersionView:
    """One submitted version (history is kept)."""

    version: int
    files: dict[str, str]
    context: dict[str, Any]
    submitted_by: str
    submitted_at: datetime
    checks: tuple[CheckView, ...]
    source_verified: bool = False  # True only when read from a stored table's provenance


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


def reviews_of(session: Session, request: ReleaseRequestRow) -> list[Review]:
    """Every review of every version of the request."""
    rows = session.execute(
        select(ReviewRow, RequestVersionRow.version)
        .join(RequestVersionRow, RequestVersionRow.id == ReviewRow.version_id)
        .where(RequestVersionRow.request_id == request.id)
        .order_by(ReviewRow.id)
    ).all()
    return [Review(r.reviewer.login, Vote(r.vote), r.comment, v) for r, v in rows]


def view_of(session: Session, request: ReleaseRequestRow, viewer: str) -> RequestView:
    """The request as ``viewer`` may see it."""
    versions = session.scalars(
        select(RequestVersionRow)
        .where(RequestVersionRow.request_id == request.id)
        .order_by(RequestVersionRow.version)
    ).all()
    history = tuple(
        VersionView(
            version=v.version,
            files=json.loads(v.files_json),
            context=json.loads(v.context_json),
            submitted_by=v.submitted_by,
            submitted_at=v.submitted_at,
            checks=tuple(
                CheckView(c.name, c.verdict, c.summary, json.loads(c.details_json))
                for c in stored_checks(session, v.id)
            ),
            source_verified=bool(v.source_verified),
        )
        for v in versions
    )
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
    )


def _new_request(
    session: Session,
    actor: Actor,
    area: str,
    title: str,
    kind: str,
    source: str,
    rule_set: str,
) -> ReleaseRequestRow:
    in_force = rule_set_in_force(session, rule_set)
    at = now()
    row = ReleaseRequestRow(
        title=title,
        kind=kind,
        area=area_row(session, area),
        author=session.get(PersonRow, actor.id),
        source=source,
        state=RequestState.DRAFT.value,
        current_version=0,
        rule_set=session.get(RuleSetRow, in_force.id) if in_force and in_force.id else None,
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    session.flush()
    return row


def _check_grant(session: Session, actor: Actor, area: str, day: date) -> None:
    """Outputs leave an area only through someone with a need-to-know grant to it today."""
    arow = area_row(session, area)
    grants = session.scalars(
        select(GrantRow).where(GrantRow.person_id == actor.id, GrantRow.area_id == arow.id)
    ).all()
    if not any(is_active(GrantState(g.state), g.start_on, g.end_on, day) for g in grants):
        raise AccessDenied(
            f"{actor.login} may not submit an output from {area}: no current grant to the area",
            reasons=("no current grant",),
            hint=f"request one: fivesafes grant request {actor.login} {area} --justification ...",
        )


def _check_may_submit(
    session: Session, actor: Actor, area: str, context: SubmissionContext, today: date | None
) -> None:
    check_submit(actor.person)
    _check_grant(session, actor, area, today_or(today))
    if not context.purpose.strip():
        raise ValidationError("say what the output is for", hint="give --purpose")


def _registered(session: Session, area: str) -> list[str]:
    """The datasets registered in ``area`` (a declared source must name one)."""
    area_id = area_row(session, area).id
    return list(session.scalars(select(DatasetRow.name).where(DatasetRow.area_id == area_id)))


def submit_output(
    session: Session,
    actor: Actor,
    provider: KeyProvider,
    area: str,
    submission: Submission,
    context: SubmissionContext,
    *,
    title: str = "",
    source: str | None = None,
    rule_set: str = DEFAULT_RULE_SET,
    request_id: int | None = None,
    today: date | None = None,
) -> RequestView:
    """Submit a folder's table or a file from ``area``; its source is declared, not verified.

    ``source`` (DATASET:MEASURE) must name a dataset registered in ``area`` (and a table's
    own measure); with ``request_id``, a new version of a returned request, whose source
    it keeps. The version is recorded, checked and shown as ``source_verified = false``.
    """
    _check_may_submit(session, actor, area, context, today)
    if request_id is not None and source is None:
        origin = SourceOrigin(request_row(session, request_id).source, verified=False)
    else:
        origin = declared_source(source, submission, _registered(session, area), area)
    return _submit(
        session, actor, provider, area, submission, context, origin, title, rule_set, request_id
    )


def submit_stored_output(
    session: Session,
    actor: Actor,
    vault: Vault,
    output: str,
    context: SubmissionContext,
    *,
    title: str = "",
    source: str | None = None,
    rule_set: str = DEFAULT_RULE_SET,
    request_id: int | None = None,
    today: date | None = None,
) -> RequestView:
    """Submit the protected table stored as ``output`` (AREA/NAME) by ``table protect
    --dataset``; its source is taken from the stored provenance and verified."""
    area, sep, name = output.partition("/")
    if not sep or not area or not name or "/" in name:
        raise ValidationError(
            f"--output {output!r} is not AREA/NAME", hint="e.g. --output earnings/t-2026..."
        )
    _check_may_submit(session, actor, area, context, today)  # before anything is decrypted
    table, proven = stored_table(session, vault, area, name)
    origin = proven_source(proven, source)
    return _submit(
        session, actor, vault.provider, area, table, context, origin, title, rule_set, request_id
    )


def _submit(
    session: Session,
    actor: Actor,
    provider: KeyProvider,
    area: str,
    submission: Submission,
    context: SubmissionContext,
    origin: SourceOrigin,
    title: str,
    rule_set: str,
    request_id: int | None,
) -> RequestView:
    kind = "table" if isinstance(submission, TableSubmission) else "file"
    if request_id is None:
        name = title or submission.name
        row = _new_request(session, actor, area, name, kind, origin.source, rule_set)
        move = transition(RequestState.DRAFT, RequestState.SUBMITTED, Mover.AUTHOR)
    else:
        row = request_row(session, request_id)
        check_author(row, actor, "change")
        if row.area.name != area or row.kind != kind:
            raise ValidationError(
                f"a new version of #{row.id} must be a {row.kind} from area {row.area.name}",
                hint="submit a new request instead",
            )
        same_request_source(origin, row.source, row.id)
        move = transition(RequestState(row.state), RequestState.SUBMITTED, Mover.AUTHOR)
    if not provider.key_ids(row.area.name):
        key_id = provider.create_key(row.area.name)
        record(
            session, actor.login, "area.key_create", area=row.area.name, details={"key_id": key_id}
        )
    row.current_version += 1
    row.state = move.target.value
    row.updated_at = now()
    sealed, wrapped = seal(
        provider,
        row.area.name,
        version_object_id(row.id, row.current_version),
        submission.to_payload(),
    )
    version = RequestVersionRow(
        request_id=row.id,
        version=row.current_version,
        files_json=json.dumps(dict(submission.files), sort_keys=True),
        context_json=json.dumps(
            {
                "purpose": context.purpose,
                "datasets": list(context.datasets),
                "method_notes": context.method_notes,
                "for_release": context.for_release,
            }
        ),
        sealed=sealed,
        wrapped_key_json=wrapped,
        submitted_by=actor.login,
        submitted_at=now(),
        source_verified=origin.verified,
        output_object_id=origin.object_id,
    )
    session.add(version)
    session.flush()
    in_force = rule_set_in_force(session, row.rule_set.name if row.rule_set else rule_set)
    if in_force is not None and in_force.id is not None:
        row.rule_set = session.get(RuleSetRow, in_force.id)
    results = run_checks(session, provider, row, submission, in_force)
    store_checks(session, version, results)
    worst = max((r.verdict for r in results), default=CheckVerdict.REVIEW)
    record(
        session,
        actor.login,
        move.event,
        area=row.area.name,
        subject=str(row.id),
        details={
            "version": row.current_version,
            "kind": kind,
            "source": row.source,
            "source_verified": origin.verified,
            "output": origin.output,
            "output_object_id": origin.object_id,
            "files": dict(submission.files),
            "rule_set": in_force.label if in_force else None,
            "checks": {r.name: r.verdict.name.lower() for r in results},
            "worst_check": worst.name.lower(),
        },
    )
    return view_of(session, row, actor.login)


def withdraw_request(
    session: Session, actor: Actor, request_id: int, reason: str = ""
) -> RequestView:
    """The author withdraws the request (any time before release)."""
    row = request_row(session, request_id)
    check_author(row, actor, "withdraw")
    details: dict[str, object] = {"reason": reason, "version": row.current_version}
    move_request(session, actor.login, row, RequestState.WITHDRAWN, Mover.AUTHOR, details)
    return view_of(session, row, actor.login)


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
