"""Submitting an output for output checking: a new request, or a new version of a returned one.

Authorise -> act -> audit in one transaction. The submitted content is sealed under
the area key; the automated checks run at submission and their results are attached.
The caller holds the area's key for sealing around that transaction
(services/vault/sealing.py), so that no rotation destroys it before the commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.audit.events import Outcome
from fivesafes.errors import AccessDenied, ValidationError
from fivesafes.governance.grants import GrantState, is_active
from fivesafes.release.checks import CheckResult, CheckVerdict
from fivesafes.release.intervals import seal_intervals
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
from fivesafes.release.workflow import Actor as Mover
from fivesafes.release.workflow import RequestState, transition
from fivesafes.services.context import Actor, now, record, today_or
from fivesafes.services.governance.lookup import area_row
from fivesafes.services.governance.qualification import require_qualified
from fivesafes.services.release.checks import run_checks, store_checks, version_object_id
from fivesafes.services.release.moves import check_author, request_row
from fivesafes.services.release.rule_sets import rule_set_in_force
from fivesafes.services.release.submitter import check_submitter_scope
from fivesafes.services.release.views import RequestView, view_of
from fivesafes.services.release.zeros import OccupancyFor, data_zeros
from fivesafes.services.vault.register import OUTPUT, Vault, stored_row
from fivesafes.services.vault.sealing import check_key_held
from fivesafes.services.vault.tables import stored_table
from fivesafes.store.models.governance import DatasetRow, GrantRow, PersonRow
from fivesafes.store.models.release import ReleaseRequestRow, RequestVersionRow, RuleSetRow
from fivesafes.vault.keys import KeyProvider


@dataclass(frozen=True)
class SubmissionContext:
    """Why the output exists: purpose, datasets used, method notes, which release or request,
    and (an approved researcher's) the approved project it was made under."""

    purpose: str
    datasets: tuple[str, ...] = ()
    method_notes: str = ""
    for_release: str = ""
    project: str = ""


@dataclass(frozen=True)
class _Version:
    """One version to record: the output, why it exists, where it comes from, and for which
    request (``request_id`` None: a new one, titled ``title`` or after the output)."""

    area: str
    submission: Submission
    context: SubmissionContext
    origin: SourceOrigin
    title: str
    rule_set: str
    request_id: int | None

    @property
    def kind(self) -> str:
        return "table" if isinstance(self.submission, TableSubmission) else "file"


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
    check_may_submit(session, actor, area, context, today)
    if request_id is not None and source is None:
        origin = SourceOrigin(request_row(session, request_id).source, verified=False)
    else:
        origin = declared_source(source, submission, _registered(session, area), area)
    # declared, not proven: the researcher's own word for the dataset is what is decided on
    context = check_submitter_scope(
        session, actor, area, _dataset_of(origin.source), context, today
    )
    new = _Version(area, submission, context, origin, title, rule_set, request_id)
    return _submit(session, actor, provider, new)


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
    # before anything is decrypted, on the register row's source (stored_table then
    # proves it; with no row, stored_table refuses it: nothing is stored)
    context = admit_submission(session, actor, area, context, output_name=name, today=today)
    table, proven = stored_table(session, vault, area, name)
    origin = proven_source(proven, source)
    new = _Version(area, table, context, origin, title, rule_set, request_id)
    return _submit(
        session, actor, vault.provider, new, data_zeros(session, vault, area, origin.source)
    )


def admit_submission(
    session: Session,
    actor: Actor,
    area: str,
    context: SubmissionContext,
    *,
    output_name: str | None = None,
    source: str | None = None,
    request_id: int | None = None,
    today: date | None = None,
) -> SubmissionContext:
    """The access decision a submission starts with: also made alone, as the server's
    admission before it waits for the area's key (services/vault/sealing.py).

    The submitter's role, grant and people checks (:func:`check_may_submit`), then their
    scope for the dataset the submission will be decided on (an approved researcher's
    project), where it is known without decrypting anything: a stored output's register
    row (``output_name``), the request's source (``request_id`` without ``source``), or
    the declared ``source``. The same checks as the submission's own, so that nobody it
    would refuse waits for the key; refusals are audited. Returns ``context`` with the
    project decided (see :func:`check_submitter_scope`).
    """
    check_may_submit(session, actor, area, context, today)
    dataset = _dataset_named(session, area, output_name, source, request_id)
    if dataset is None:
        return context
    decided: SubmissionContext = check_submitter_scope(
        session, actor, area, dataset, context, today
    )
    return decided


def _dataset_named(
    session: Session,
    area: str,
    output_name: str | None,
    source: str | None,
    request_id: int | None,
) -> str | None:
    """The dataset a submission names before anything is decrypted (None: none yet)."""
    if output_name is not None:
        made_from = stored_row(session, area_row(session, area).id, OUTPUT, output_name)
        return None if made_from is None else _dataset_of(made_from.source)
    if request_id is not None and source is None:
        return _dataset_of(request_row(session, request_id).source)
    return None if source is None else _dataset_of(source)


def _check_grant(session: Session, actor: Actor, area: str, day: date) -> None:
    """Outputs leave an area only through someone with a need-to-know grant to it today."""
    arow = area_row(session, area)
    grants = session.scalars(
        select(GrantRow).where(GrantRow.person_id == actor.id, GrantRow.area_id == arow.id)
    ).all()
    if not any(is_active(GrantState(g.state), g.start_on, g.end_on, day) for g in grants):
        refused = AccessDenied(
            f"{actor.login} may not submit an output from {area}: no current grant to the area",
            reasons=("no current grant",),
            hint=f"request one: fivesafes grant request {actor.login} {area} --justification ...",
        )
        details = {"for": f"submit an output from area {area}", "reasons": ["no current grant"]}
        refused.audited_by(
            lambda s: record(
                s,
                actor.login,
                "access.decide",
                outcome=Outcome.DENIED,
                area=area,
                subject=actor.login,
                details=details,
            )
        )
        raise refused


def check_may_submit(
    session: Session, actor: Actor, area: str, context: SubmissionContext, today: date | None
) -> None:
    """Taking an output out of ``area`` is an access to its confidential data: the
    submitter needs what reading needs, a grant *and* the people checks (training,
    current declaration signed) on the day of submission, not only when the output
    was made. Both paths (a stored output, a declared one) name their area; the server
    decides it first on its own too, before it waits for the area's key (its
    ``admit``). A refusal is audited."""
    check_submit(actor.person)
    day = today_or(today)
    _check_grant(session, actor, area, day)
    require_qualified(session, actor, area, f"submit an output from area {area}", day)
    if not context.purpose.strip():
        raise ValidationError("say what the output is for", hint="give --purpose")


def _dataset_of(source: str) -> str:
    return source.partition(":")[0].strip()


def _registered(session: Session, area: str) -> list[str]:
    """The datasets registered in ``area`` (a declared source must name one)."""
    area_id = area_row(session, area).id
    return list(session.scalars(select(DatasetRow.name).where(DatasetRow.area_id == area_id)))


def _new_request(session: Session, actor: Actor, new: _Version) -> ReleaseRequestRow:
    in_force = rule_set_in_force(session, new.rule_set)
    at = now()
    row = ReleaseRequestRow(
        title=new.title or new.submission.name,
        kind=new.kind,
        area=area_row(session, new.area),
        author=session.get(PersonRow, actor.id),
        source=new.origin.source,
        state=RequestState.DRAFT.value,
        current_version=0,
        rule_set=session.get(RuleSetRow, in_force.id) if in_force and in_force.id else None,
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    session.flush()
    return row


def _submit(
    session: Session,
    actor: Actor,
    provider: KeyProvider,
    new: _Version,
    occupancy_for: OccupancyFor | None = None,
) -> RequestView:
    if new.request_id is None:
        row = _new_request(session, actor, new)
        move = transition(RequestState.DRAFT, RequestState.SUBMITTED, Mover.AUTHOR)
    else:
        row = request_row(session, new.request_id)
        check_author(row, actor, "change")
        if row.area.name != new.area or row.kind != new.kind:
            raise ValidationError(
                f"a new version of #{row.id} must be a {row.kind} from area {row.area.name}",
                hint="submit a new request instead",
            )
        same_request_source(new.origin, row.source, row.id)
        move = transition(RequestState(row.state), RequestState.SUBMITTED, Mover.AUTHOR)
    check_key_held(row.area.name)  # the version and its intervals are sealed under it
    if not provider.key_ids(row.area.name):
        key_id = provider.create_key(row.area.name)
        record(
            session, actor.login, "area.key_create", area=row.area.name, details={"key_id": key_id}
        )
    row.current_version += 1
    row.state = move.target.value
    row.updated_at = now()
    version = _sealed_version(session, actor, provider, row, new)
    in_force = rule_set_in_force(session, row.rule_set.name if row.rule_set else new.rule_set)
    if in_force is not None and in_force.id is not None:
        row.rule_set = session.get(RuleSetRow, in_force.id)
    results = run_checks(
        session, provider, row, new.submission, in_force, occupancy_for=occupancy_for
    )
    _seal_intervals(provider, row, version, results)
    label = in_force.label if in_force else None
    store_checks(session, version, results, stage="submission", rule_set=label, run_by=actor.login)
    worst = max((r.verdict for r in results), default=CheckVerdict.REVIEW)
    record(
        session,
        actor.login,
        move.event,
        area=row.area.name,
        subject=str(row.id),
        details={
            "version": row.current_version,
            "kind": new.kind,
            "source": row.source,
            "source_verified": new.origin.verified,
            "output": new.origin.output,
            "output_object_id": new.origin.object_id,
            "files": dict(new.submission.files),
            "rule_set": in_force.label if in_force else None,
            "checks": {r.name: r.verdict.name.lower() for r in results},
            "worst_check": worst.name.lower(),
        },
    )
    return view_of(session, row, actor.login)


def _sealed_version(
    session: Session, actor: Actor, provider: KeyProvider, row: ReleaseRequestRow, new: _Version
) -> RequestVersionRow:
    """Seal the output under the area key and store it as the request's current version."""
    sealed, wrapped = seal(
        provider,
        row.area.name,
        version_object_id(row.id, row.current_version),
        new.submission.to_payload(),
    )
    context = new.context
    version = RequestVersionRow(
        request_id=row.id,
        version=row.current_version,
        files_json=json.dumps(dict(new.submission.files), sort_keys=True),
        context_json=json.dumps(
            {
                "purpose": context.purpose,
                "datasets": list(context.datasets),
                "method_notes": context.method_notes,
                "for_release": context.for_release,
                "project": context.project,
            }
        ),
        sealed=sealed,
        wrapped_key_json=wrapped,
        submitted_by=actor.login,
        submitted_at=now(),
        source_verified=new.origin.verified,
        output_object_id=new.origin.object_id,
    )
    session.add(version)
    session.flush()
    return version


def _seal_intervals(
    provider: KeyProvider,
    row: ReleaseRequestRow,
    version: RequestVersionRow,
    results: list[CheckResult],
) -> None:
    """Seal the audit's intervals with the version (for the checker's view), as its
    content is sealed: under the area key, bound to the version, never in plain text."""
    found = next((r.intervals for r in results if r.intervals is not None), None)
    if found is None:  # a file, nothing hidden, or an audit that could not run
        return
    version.sealed_intervals, version.intervals_wrapped_key_json = seal_intervals(
        provider, row.area.name, row.id, version.version, found
    )
