"""Submitting a table folder that a researcher's ``Session.finalise`` wrote in an area.

The folder's ``source.json`` (:mod:`fivesafes.outputs.claim`) names the area, the
dataset, the columns and the measure, and the digests of the folder's files as
finalise wrote them. Nothing in it is believed: the files must be unchanged, and the
table, computed again from the dataset through the audited read path (an access
decision for the submitter, recorded), must give every cell of the folder. Then the
source is *verified*, as a stored ``table protect`` output's is; otherwise the
submission is refused (IntegrityError), never downgraded to a declared source.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from fivesafes.errors import IntegrityError, ValidationError
from fivesafes.governance.grants import STATISTICAL
from fivesafes.outputs.claim import CLAIM, SessionClaim, check_unchanged, read_claim
from fivesafes.outputs.recompute import differences, table_cells
from fivesafes.release.rulesets import DEFAULT_RULE_SET
from fivesafes.release.source import SourceOrigin, proven_source
from fivesafes.release.submission import TableSubmission, read_table_dir
from fivesafes.services.context import resolve_actor
from fivesafes.services.governance.lookup import area_row
from fivesafes.services.release.submission import (
    SubmissionContext,
    _submit,
    _Version,
    check_may_submit,
)
from fivesafes.services.release.submitter import check_submitter_scope
from fivesafes.services.release.views import RequestView
from fivesafes.services.release.zeros import data_zeros
from fivesafes.services.vault.read import open_dataset_for
from fivesafes.services.vault.register import DATASET, Transact, Vault, stored_row
from fivesafes.services.vault.sealing import key_held_for_sealing


def submit_session_folder(
    tx: Transact,
    vault: Vault,
    login: str,
    folder: Path,
    context: SubmissionContext,
    *,
    area: str | None = None,
    title: str = "",
    source: str | None = None,
    rule_set: str = DEFAULT_RULE_SET,
    request_id: int | None = None,
    purpose: str = STATISTICAL,
    today: date | None = None,
    project_ref: str | None = None,
) -> RequestView:
    """Submit ``folder`` (a session's ``tables/<output>/``), its source verified by
    computing the table again from the dataset; refused if anything differs."""
    claim = read_claim(folder)
    if claim is None:
        raise ValidationError(
            f"{folder} has no {CLAIM}: it was not finalised by a session opened on an area's "
            "dataset",
            hint="submit it with --area AREA --source DATASET:MEASURE (declared, not verified)",
        )
    if area is not None and area != claim.area:
        raise ValidationError(
            f"{folder} comes from area {claim.area!r}, not {area!r}",
            hint=f"leave out --area, or give --area {claim.area}",
        )
    check_unchanged(folder, claim)
    table = read_table_dir(folder)
    if table.measure != claim.measure:
        raise IntegrityError(
            f"{folder}: the spec tabulates {table.measure!r}, {CLAIM} says {claim.measure!r}",
            hint="finalise the session again and submit the new folder unchanged",
        )
    if table.report.get("population"):
        # the recomputation below tabulates every row: a table of part of the units (its
        # cells taken by the differencing check for those units' sums) is not proven by it
        raise IntegrityError(
            f"{folder}: report.json says the table covers part of the units (its "
            "'population'), but a session's table is computed again from every row of "
            f"dataset {claim.area}/{claim.dataset}",
            hint="finalise the session again and submit the new folder unchanged",
        )
    if project_ref is not None and not context.project:
        context = replace(context, project=project_ref)
    with tx() as session:  # may this person submit from the area at all? before any read
        actor = resolve_actor(session, login)
        check_may_submit(session, actor, claim.area, context, today)
        # an approved researcher: the project decided on is the one the table is read under
        context = check_submitter_scope(session, actor, claim.area, claim.dataset, context, today)
    project = context.project or None
    _recompute(tx, vault, login, folder, claim, table, purpose, today, project)
    # the submission seals the table under the area's key (services/vault/sealing.py)
    with key_held_for_sealing(tx, vault, claim.area), tx() as session:
        area_id = area_row(session, claim.area).id
        row = stored_row(session, area_id, DATASET, claim.dataset)
        if row is None:  # destroyed while the table was computed again
            raise IntegrityError(f"dataset {claim.area}/{claim.dataset} is no longer stored")
        ref = f"{claim.area}/{claim.dataset}"
        proven = SourceOrigin(
            claim.source,
            verified=True,
            output=ref,
            object_id=row.object_id,
            proof=f"the table was computed again from dataset {ref} at submission: every "
            "cell equal to the submitted one",
        )
        origin = proven_source(proven, source)
        new = _Version(claim.area, table, context, origin, title, rule_set, request_id)
        zeros = data_zeros(session, vault, claim.area, origin.source)
        return _submit(session, resolve_actor(session, login), vault.provider, new, zeros)


def _recompute(
    tx: Transact,
    vault: Vault,
    login: str,
    folder: Path,
    claim: SessionClaim,
    table: TableSubmission,
    purpose: str,
    today: date | None,
    project_ref: str | None,
) -> None:
    """IntegrityError unless the dataset's table is the folder's, cell by cell."""
    columns = [*claim.dimensions, *([claim.values] if claim.values else [])]
    rows = open_dataset_for(
        tx,
        vault,
        login,
        claim.area,
        claim.dataset,
        purpose,
        today=today,
        project_ref=project_ref,
        columns=columns,
    )
    expected = table_cells(rows.to_pandas(), claim.dimensions, claim.values)
    del rows
    wrong = differences(expected, table.cells, claim.dimensions)
    if wrong:
        raise IntegrityError(
            f"{folder}'s cells are not the table of dataset {claim.area}/{claim.dataset} by "
            f"{', '.join(claim.dimensions)}: " + "; ".join(wrong),
            hint="finalise a session on the dataset as read (every row, its columns "
            "unchanged) and submit the new folder unchanged; a table of a subset or of "
            "derived columns is made in a Session without area/dataset and submitted with "
            "--area and --source (declared, not verified)",
        )
