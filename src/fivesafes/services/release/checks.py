"""Run a version's automated checks, store their results, and say what blocks approval now.

Checks run at submission (results attached to the version) and the blocking ones
(rule set in force, differencing against the register) run again before an approving
vote and at publication: the rules or the register may have changed since.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.audit.events import Outcome
from fivesafes.errors import FivesafesError, UnsafeTableError
from fivesafes.release.checks import (
    AUDIT,
    DIFFERENCING,
    RULES,
    CheckResult,
    CheckVerdict,
    audit_check,
    blocking,
    could_not_run,
    file_check,
    rules_check,
)
from fivesafes.release.differencing_scope import EarlierRelease, scoped_differencing_check
from fivesafes.release.families import Family, family_sources, link_families
from fivesafes.release.intervals import AuditIntervals, unseal_intervals
from fivesafes.release.regimes import REGIME, regime_check, regime_of_submission
from fivesafes.release.rulesets import DEFAULT_RULE_SET, RuleSetting
from fivesafes.release.sealing import unseal
from fivesafes.release.source import SourceOrigin, source_check
from fivesafes.release.submission import FileSubmission, Submission, TableSubmission, from_payload
from fivesafes.sdc import OutputTable
from fivesafes.services.context import now, record
from fivesafes.services.release.regimes import earlier_regimes
from fivesafes.services.release.rule_sets import rule_set_in_force
from fivesafes.services.release.scope import area_families, area_releases
from fivesafes.services.release.zeros import OccupancyFor, data_zeros, paired_with
from fivesafes.services.vault.register import Vault
from fivesafes.store.models.release import (
    CheckResultRow,
    ReleaseRequestRow,
    RequestVersionRow,
    RuleSetRow,
)
from fivesafes.store.models.vault import VaultObjectRow
from fivesafes.vault.keys import KeyProvider


def version_object_id(request_id: int, version: int) -> str:
    """The id that binds a version's sealed content to it."""
    return f"release-request/{request_id}/v{version}"


def version_row(session: Session, request: ReleaseRequestRow) -> RequestVersionRow:
    """The request's current version."""
    row = session.scalars(
        select(RequestVersionRow).where(
            RequestVersionRow.request_id == request.id,
            RequestVersionRow.version == request.current_version,
        )
    ).one()
    return row


def submission_of(
    provider: KeyProvider, request: ReleaseRequestRow, version: RequestVersionRow
) -> Submission:
    """Unseal what was submitted in ``version``."""
    plain = unseal(
        provider,
        request.area.name,
        version_object_id(request.id, version.version),
        version.sealed,
        version.wrapped_key_json,
    )
    return from_payload(plain)


def intervals_of(
    provider: KeyProvider, request: ReleaseRequestRow, version: RequestVersionRow
) -> AuditIntervals | None:
    """Unseal the audit intervals sealed with ``version`` (None: a file, nothing hidden,
    or a version submitted before they were kept)."""
    if version.sealed_intervals is None or version.intervals_wrapped_key_json is None:
        return None
    return unseal_intervals(
        provider,
        request.area.name,
        request.id,
        version.version,
        version.sealed_intervals,
        version.intervals_wrapped_key_json,
    )


def rule_setting(session: Session, request: ReleaseRequestRow) -> RuleSetting | None:
    """The rule set in force for the request (latest version of the name it was submitted under)."""
    name = request.rule_set.name if request.rule_set is not None else DEFAULT_RULE_SET
    return rule_set_in_force(session, name)


def run_checks(
    session: Session,
    provider: KeyProvider,
    request: ReleaseRequestRow,
    submission: Submission,
    in_force: RuleSetting | None,
    *,
    with_audit: bool = True,
    occupancy_for: OccupancyFor | None = None,
) -> list[CheckResult]:
    """Every automated check of ``submission`` (the table audit only when ``with_audit``).

    ``occupancy_for(new, earlier)``: for a proven source whose data the caller can read,
    the combinations those data leave empty (sdc/occupancy.py), which the differencing
    check holds at zero (a filter that follows from a dimension: country from region).
    """
    if isinstance(submission, FileSubmission):
        return [file_check(submission.name, len(submission.content))]
    assert isinstance(submission, TableSubmission)
    # How the source is known decides which releases the differencing check sees.
    origin = _origin(session, request)
    results = [source_check(origin)]
    results.append(rules_check(dict(submission.report.get("rules", {})), in_force))
    if with_audit:
        results.append(audit_check(submission))
    earlier = area_releases(session, provider, request.area_id)
    label = f"request {request.id} v{request.current_version}"
    # A family member's output is checked with its parent's and siblings' releases, as
    # the source it comes from, or, declared, as each source it may come from (the
    # family members among them, released or not)
    families = area_families(session, request.area_id)

    def link(table: OutputTable, source: str) -> tuple[OutputTable, list[EarlierRelease]]:
        return link_families(table, source, earlier, families)

    new = submission.output_table(label)
    occupancy = None
    unread: CheckResult | None = None
    if origin.verified and occupancy_for is not None:
        try:
            occupancy = occupancy_for(new, paired_with(earlier, request.source))
        except Exception as exc:  # fail closed, and kept: the check could not run
            unread = zeros_unread(request.source, exc)
    results.append(
        unread
        or scoped_differencing_check(
            new,
            request.source,
            origin.verified,
            earlier,
            link=link,
            also=family_sources(earlier, families),
            occupancy=occupancy,
        )
    )
    results.append(
        _regime_check(session, provider, request, submission, origin, new, earlier, families)
    )
    return results


def zeros_unread(source: str, exc: Exception) -> CheckResult:
    """The differencing check failed because the zeros of ``source``'s data could not be
    read (e.g. a pair of columns with more value pairs than the model holds,
    sdc/tabulate/sources.py): without them the check is not the one the output needs.

    The summary is kept in plain text and shown outside the area: it says why and what
    to do, and quotes nothing of the data (a value-free or redacted message, else only
    the kind of error)."""
    resubmit = (
        "the author protects the output again inside the area (`fivesafes table protect "
        "--dataset` says why) and resubmits"
    )
    if isinstance(exc, FivesafesError):
        told = exc.withheld("reading the zeros of the data", resubmit)
        why, todo = told.message, told.hint or resubmit
        todo = todo if resubmit in todo else f"{todo}; {resubmit}"
    else:
        why, todo = f"reading the zeros of the data failed ({type(exc).__name__})", resubmit
    summary = f"the differencing check could not run: {why} (what to do: {todo})"
    details = {"safe": False, "source": source, "source_verified": True, "could_not_run": why}
    return CheckResult(DIFFERENCING, CheckVerdict.FAIL, summary, details)


def _regime_check(
    session: Session,
    provider: KeyProvider,
    request: ReleaseRequestRow,
    submission: TableSubmission,
    origin: SourceOrigin,
    new: OutputTable,
    earlier: Sequence[EarlierRelease],
    families: Sequence[Family],
) -> CheckResult:
    """One perturbation regime per source (release/regimes.py): the output's method and
    parameters against those of every release and earlier pending request it may share
    cells with. Fail closed: a regime that cannot be read fails the check."""
    label = f"request {request.id} v{request.current_version}"
    try:
        found = earlier_regimes(
            session,
            lambda r: submission_of(provider, r, version_row(session, r)),
            request.area_id,
            request.source,
            origin.verified,
            earlier,
            families,
            new=new,
            request_id=request.id,
        )
        return regime_check(label, request.source, regime_of_submission(submission), found)
    except Exception as exc:
        return CheckResult(REGIME, CheckVerdict.FAIL, could_not_run("regime check", exc))


def _origin(session: Session, request: ReleaseRequestRow) -> SourceOrigin:
    """The current version's source: verified from a stored output, or declared."""
    version = session.scalars(
        select(RequestVersionRow).where(
            RequestVersionRow.request_id == request.id,
            RequestVersionRow.version == request.current_version,
        )
    ).one_or_none()
    if version is None or not version.source_verified:
        return SourceOrigin(request.source, verified=False)
    obj = session.scalars(
        select(VaultObjectRow).where(VaultObjectRow.object_id == version.output_object_id)
    ).one_or_none()
    output = f"{obj.area.name}/{obj.name}" if obj is not None else version.output_object_id
    # a researcher session's folder: proven by computing the table again from the dataset
    proof = (
        f"the table was computed again from dataset {output} at submission: every cell "
        "equal to the submitted one"
        if obj is not None and obj.kind == "dataset"
        else ""
    )
    return SourceOrigin(request.source, True, output, version.output_object_id, proof)


def store_checks(
    session: Session,
    version: RequestVersionRow,
    results: Sequence[CheckResult],
    *,
    stage: str = "submission",
    rule_set: str | None = None,
    run_by: str | None = None,
) -> None:
    """Attach one run of checks to a version (part of the caller's audited write).

    Every run is kept: at submission, at each approving vote, at publication; the
    latest result of each check is the one in force.
    """
    _add_checks(session, version.id, results, stage, rule_set, run_by)


def _add_checks(
    session: Session,
    version_id: int,
    results: Sequence[CheckResult],
    stage: str,
    rule_set: str | None,
    run_by: str | None,
) -> None:
    at = now()
    for r in results:
        session.add(
            CheckResultRow(
                version_id=version_id,
                name=r.name,
                verdict=r.verdict.name.lower(),
                summary=r.summary,
                details_json=json.dumps(r.details, default=str),
                checked_at=at,
                stage=stage,
                rule_set=rule_set,
                run_by=run_by,
            )
        )
    session.flush()


def stored_checks(session: Session, version_id: int) -> list[CheckResultRow]:
    """Every check result attached to a version, every run, oldest first."""
    return list(
        session.scalars(
            select(CheckResultRow)
            .where(CheckResultRow.version_id == version_id)
            .order_by(CheckResultRow.id)
        )
    )


def checks_in_force(rows: Sequence[CheckResultRow]) -> list[CheckResultRow]:
    """The latest result of each check (rows oldest first), in the order checks first ran."""
    latest: dict[str, CheckResultRow] = {}
    for row in rows:
        latest.pop(row.name, None)  # re-inserted: the order is that of the latest run
        latest[row.name] = row
    first_seen = list(dict.fromkeys(r.name for r in rows))
    return [latest[name] for name in first_seen]


def check_not_blocked(
    session: Session,
    provider: KeyProvider,
    request: ReleaseRequestRow,
    what: str,
    *,
    stage: str,
    run_by: str,
    vault: Vault | None = None,
) -> RuleSetting | None:
    """Re-run the blocking checks now and keep the run; raise UnsafeTableError with every
    reason if any fails (the failing run is kept too, and audited, after the rollback).

    ``vault``: where the proven source's dataset is stored, so that the differencing check
    holds its zeros again (a release published since the submission may pair with them);
    without it, a failure found with them at submission still stands."""
    version = version_row(session, request)
    submission = submission_of(provider, request, version)
    in_force = rule_setting(session, request)
    proven = bool(version.source_verified)
    zeros = data_zeros(session, vault, request.area.name, request.source) if proven else None
    fresh = run_checks(
        session, provider, request, submission, in_force, with_audit=False, occupancy_for=zeros
    )
    stored = stored_checks(session, version.id)
    fresh = _keep_found_with_zeros(fresh, stored)
    stored_audit = [r for r in checks_in_force(stored) if r.name == AUDIT and r.verdict == "fail"]
    blockers = [(r.name, r.summary) for r in blocking(fresh)]
    blockers += [(r.name, r.summary) for r in stored_audit]
    failed = [f"{name}: {summary}" for name, summary in blockers]
    label = in_force.label if in_force else None
    if failed:
        contradicted = [
            name
            for r in blocking(fresh)
            if r.name == DIFFERENCING
            for name in r.details.get("contradicted_by", [])
        ]
        refused = UnsafeTableError(
            f"request {request.id} cannot be {what}:" + "".join(f"\n- {f}" for f in failed),
            hint=_what_to_do({name for name, _ in blockers}, in_force is None, contradicted),
        )
        # The record must say what blocked it: the run and its audit event outlive the
        # rollback of the refused vote or publication.
        version_id, area, rid = version.id, request.area.name, request.id
        details = {
            "version": version.version,
            "stage": stage,
            "refused": what,
            "rule_set": label,
            "failed": [r.name for r in blocking(fresh)] + [r.name for r in stored_audit],
        }

        def keep(s: Session) -> None:
            _add_checks(s, version_id, fresh, stage, label, run_by)
            record(
                s,
                run_by,
                "release.blocked",
                outcome=Outcome.DENIED,
                area=area,
                subject=str(rid),
                details=details,
            )

        refused.audited_by(keep)
        raise refused
    store_checks(session, version, fresh, stage=stage, rule_set=label, run_by=run_by)
    if in_force is not None and in_force.id is not None:
        request.rule_set = session.get(RuleSetRow, in_force.id)
    return in_force


__all__ = ["CheckVerdict", "check_not_blocked", "run_checks", "store_checks", "submission_of"]


def _keep_found_with_zeros(
    fresh: list[CheckResult], stored: Sequence[CheckResultRow]
) -> list[CheckResult]:
    """``fresh`` with its differencing result replaced by an earlier failure of this version
    found with the zeros of the source's data, if any.

    Those zeros are read at submission (services/release/zeros.py), not by the runs at the
    vote or publication; a disclosure found with them stays found (releases are never
    taken back, the data's zeros stay zeros), so a later run without them must neither
    clear it nor be stored as the check in force.
    """
    if any(r.name == DIFFERENCING and r.verdict == CheckVerdict.FAIL for r in fresh):
        return fresh
    for row in stored:
        details = _failed_with_zeros(row)
        if details is not None:
            kept = CheckResult(DIFFERENCING, CheckVerdict.FAIL, row.summary, details)
            return [kept if r.name == DIFFERENCING else r for r in fresh]
    return fresh


def _failed_with_zeros(row: CheckResultRow) -> dict[str, Any] | None:
    if row.name != DIFFERENCING or row.verdict != "fail":
        return None
    try:
        details = json.loads(row.details_json or "{}")
    except ValueError:
        return {}  # unreadable details of a failed check: fail closed
    if not isinstance(details, dict):
        return {}
    return details if details.get("empty_atoms") else None


def _what_to_do(failed: set[str], no_rule_set: bool, contradicted: Sequence[str] = ()) -> str:
    """The fix for what blocked: not every block is the author's to fix.

    ``contradicted``: releases whose cells cannot hold together with the data's zeros
    (their declared source is likely wrong): no change to the output settles that."""
    steps = []
    if no_rule_set:
        steps.append(
            "an administrator puts the organisation's rule set in force "
            "(`fivesafes rules set NAME ...`), then the checks run again on the next vote"
        )
    if contradicted:
        steps.append(
            f"an administrator establishes where {', '.join(contradicted)} came from: its "
            "cells cannot come from this output's data, so its declared source is likely "
            "wrong; the checks run again on the next vote"
        )
    if REGIME in failed:
        steps.append(
            "the author protects the table again with the method and parameters of the "
            "source's earlier release or request that the regime check names, or the head of "
            "profession reviews the methodology before the source's method changes"
        )
    author = failed - {RULES, REGIME} - ({DIFFERENCING} if contradicted else set())
    alone = not (contradicted or REGIME in failed)  # no other step says what to do
    if author or (not no_rule_set and (RULES in failed or alone)):
        steps.append(
            "the author changes the output (protect it again with the rules in force; "
            "a differencing block names the published cells to take into account) and resubmits"
        )
    return "; ".join(steps)
