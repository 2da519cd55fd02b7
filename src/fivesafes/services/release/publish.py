"""Publish an approved request: the bundle, the register of its cells, the state change, the audit.

The blocking checks run once more (the register may have grown since approval). The
bundle is staged, the database work is one transaction with its audit event, and the
staged bundle is renamed into place after that transaction commits; a crash at any
step is settled by :mod:`~fivesafes.services.release.reconcile`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from fivesafes.audit.events import AuditEvent
from fivesafes.errors import ConflictError, FivesafesError
from fivesafes.faults import crash_point
from fivesafes.governance.areas import threshold_note
from fivesafes.release.bundle import BundleInfo, BundleTable, thresholds_record, write_bundle
from fivesafes.release.submission import FileSubmission, TableSubmission, sha256
from fivesafes.release.workflow import Actor as Mover
from fivesafes.release.workflow import RequestState, transition
from fivesafes.sdc import write_all
from fivesafes.services.context import Actor, record, today_or
from fivesafes.services.governance.areas import area_of
from fivesafes.services.release.checks import (
    check_not_blocked,
    stored_checks,
    submission_of,
    version_row,
)
from fivesafes.services.release.locks import lock_for_check
from fivesafes.services.release.moves import check_author, move_request, request_row
from fivesafes.services.release.reconcile import (
    fsync_dir,
    hold_publication,
    reconcile_releases,
    staging_dir,
)
from fivesafes.services.release.register import (
    PublishedRelease,
    earlier_table_releases,
    published_of,
    register_release,
)
from fivesafes.services.release.sources import check_source_settled
from fivesafes.services.vault.register import Vault
from fivesafes.store.models.release import ReleaseRequestRow
from fivesafes.vault.keys import KeyProvider


def release_id_of(request_id: int) -> str:
    """The release id of a request's publication."""
    return f"REL-{request_id:04d}"


def _write_table_bundle(
    out: Path, info: BundleInfo, table: TableSubmission, audit_safe: bool, wide_csv: bool
) -> dict[str, str]:
    report = table.report
    suppression = dict(report.get("suppression", {}))
    secondary = report.get("secondary") or {}
    protection = dict(report.get("protection") or {})
    bundle_table = BundleTable(
        name=table.name,
        title=info.title,
        cells=table.cells,
        hierarchies=table.hierarchies,
        rules=dict(report.get("rules", {})),
        # the method actually used ("auto" chooses one by size; or one that changes values)
        method=str(
            protection.get("method")
            or secondary.get("method")
            or suppression.get("method")
            or "unknown"
        ),
        audit_safe=audit_safe,
        gap=secondary.get("gap"),
        measure=table.measure or "value",
        unit=table.unit,
        suppression=suppression,
        protection=protection,
    )
    return write_bundle(out, info, [bundle_table], wide_csv=wide_csv)


def _write_file_bundle(out: Path, info: BundleInfo, f: FileSubmission) -> dict[str, str]:
    manifest = {f.name: sha256(f.content)}
    doc = json.dumps({"release": info.release_id, "files": manifest}, indent=2) + "\n"
    write_all(
        out,
        {
            f.name: lambda p: Path(p).write_bytes(f.content),
            "manifest.json": lambda p: Path(p).write_text(doc, encoding="utf-8"),
        },
    )
    return manifest


def publication_area(session: Session, request_id: int) -> str | None:
    """The area whose key a publication of ``request_id`` seals its hidden cells under
    (None: no such request)."""
    row = session.get(ReleaseRequestRow, request_id)
    return row.area.name if row is not None else None


def check_may_publish(session: Session, actor: Actor, request_id: int) -> None:
    """Refuse (AccessDenied) unless ``actor`` may publish ``request_id``: its author. The
    server decides this before it waits for the area's key; publish_request again."""
    check_author(request_row(session, request_id), actor, "publish")


def publish_request(
    session: Session,
    actor: Actor,
    provider: KeyProvider,
    releases_dir: Path,
    request_id: int,
    *,
    organisation: str = "the statistics producer",
    withhold_thresholds: bool = False,
    today: date | None = None,
    contact: str | None = None,
    wide_csv: bool = False,
    vault: Vault | None = None,
) -> PublishedRelease:
    """The author publishes an approved request: bundle, register, state and audit together.

    ``contact`` is the methods note's and cover sheet's contact (the publication_contact
    setting); ``wide_csv`` adds each table's wide layout as a second CSV; ``vault``: where
    a proven source's dataset is stored, for the differencing check's zeros of the data.

    Atomic (see :mod:`~fivesafes.services.release.reconcile`): the bundle is staged, the
    register and the move commit with the caller's transaction, and only after that
    commit is the staged bundle renamed into ``releases_dir``. What an earlier crash
    left behind is settled first. The hidden cells are sealed under the area's key: the
    caller holds it for sealing around its transaction (services/vault/sealing.py,
    :func:`publication_area` names the area).
    """
    # Before anything is written (reconcile may audit, which takes the audit log's lock):
    # the register's locks come first in every transaction that takes both.
    row = request_row(session, request_id)
    lock_for_check(
        session, row.area_id, row.source, verified=bool(version_row(session, row).source_verified)
    )
    settled = reconcile_releases(session, releases_dir)
    try:
        return _publish(
            session,
            actor,
            provider,
            releases_dir,
            request_id,
            organisation=organisation,
            withhold_thresholds=withhold_thresholds,
            today=today,
            contact=contact,
            wide_csv=wide_csv,
            vault=vault,
        )
    except FivesafesError as exc:
        # The reconciliation happened on disk: its record outlives the refused publication.
        exc.after_rollback.extend(_rerecord(e) for e in settled)
        raise


def _publish(
    session: Session,
    actor: Actor,
    provider: KeyProvider,
    releases_dir: Path,
    request_id: int,
    *,
    organisation: str,
    withhold_thresholds: bool,
    today: date | None,
    contact: str | None,
    wide_csv: bool,
    vault: Vault | None,
) -> PublishedRelease:
    row = request_row(session, request_id)
    check_author(row, actor, "publish")
    # refuse early, before any bundle is written; the move itself comes last
    transition(RequestState(row.state), RequestState.RELEASED, Mover.AUTHOR)
    version = version_row(session, row)
    check_source_settled(row, version, "published")
    in_force = check_not_blocked(
        session, provider, row, "published", stage="publication", run_by=actor.login, vault=vault
    )
    submission = submission_of(provider, row, version)
    release_id = release_id_of(row.id)
    out = releases_dir / release_id
    if out.exists():
        raise ConflictError(
            f"{out} already exists", hint="move the old folder away; a release is never overwritten"
        )
    day = today_or(today)
    # The publisher may withhold more than the area's policy, never less.
    note = threshold_note(area_of(row.area), withhold_thresholds)
    checks = {c.name: c for c in stored_checks(session, version.id)}
    info = BundleInfo(
        release_id=release_id,
        title=row.title,
        organisation=organisation,
        source=row.source,
        published_on=day,
        withhold_thresholds=note.withhold,
        withheld_by=note.withheld_by,
        rule_set=in_force.label if in_force else "",
        # check_not_blocked just re-ran the differencing check against every earlier
        # release of the source, and publication goes on only when it passed
        differencing={"safe": True} if "differencing" in checks else None,
        contact=contact,
        # the releases the check just re-run combined with this one (none: a first release)
        earlier_releases=tuple(earlier_table_releases(session, row.source)),
    )
    # The family's lock (or the area's, or SQLite's write lock) is held: a staged folder
    # of this release can only be what a crash before its commit left (reconciled above).
    staged = staging_dir(releases_dir, release_id)
    held = hold_publication(releases_dir, release_id)  # reconcile leaves it alone
    staged.mkdir(parents=True)
    crash_point("publish.staging")  # a folder begun, not complete
    try:
        if isinstance(submission, TableSubmission):
            audit_safe = "audit" in checks and checks["audit"].verdict == "pass"
            manifest = _write_table_bundle(staged, info, submission, audit_safe, wide_csv)
        else:
            manifest = _write_file_bundle(staged, info, submission)
        fsync_dir(staged)
        crash_point("publish.staged")
        published_row, cells = register_release(
            session,
            provider,
            row,
            submission,
            release_id=release_id,
            bundle_path=out,
            manifest=manifest,
            published_on=day,
            published_by=actor.login,
            source_verified=bool(version.source_verified),
        )
        move_request(
            session,
            actor.login,
            row,
            RequestState.RELEASED,
            Mover.AUTHOR,
            {
                "release": release_id,
                "version": row.current_version,
                "rule_set": in_force.label if in_force else None,
                "cells": cells,
                "bundle": str(out),
                "manifest": manifest,
                "thresholds": thresholds_record(info),
            },
        )
        crash_point("publish.registered")
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        os.close(held)
        raise
    _rename_after_commit(session, staged, out, held)
    return published_of(published_row, cells)


def _rerecord(event: AuditEvent) -> Callable[[Session], object]:
    return lambda s: record(
        s,
        event.actor,
        event.action,
        outcome=event.outcome,
        area=event.area,
        dataset=event.dataset,
        subject=event.subject,
        details=event.details,
    )


def _rename_after_commit(session: Session, staged: Path, out: Path, held: int) -> None:
    """Put the staged bundle in place once the register commits; drop it if it rolls back.

    ``held`` (the publication's lock) is released after either."""
    settled = False

    def committed(_session: Session) -> None:
        nonlocal settled
        if settled:
            return
        settled = True
        try:
            crash_point("publish.committed")
            # The register says it is published: a rename that fails here is completed
            # by reconcile_releases (release reconcile, or the next publication).
            with contextlib.suppress(OSError):
                os.rename(staged, out)
                fsync_dir(out.parent)
            crash_point("publish.renamed")
        finally:
            os.close(held)

    def rolled_back(_session: Session) -> None:
        nonlocal settled
        if not settled:
            settled = True
            shutil.rmtree(staged, ignore_errors=True)
            os.close(held)

    event.listen(session, "after_commit", committed)
    event.listen(session, "after_rollback", rolled_back)
