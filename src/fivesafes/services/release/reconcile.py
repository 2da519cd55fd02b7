"""Atomic publication: stage the bundle, commit the register, rename; reconcile after a crash.

A bundle is written into ``releases/.staging/<release>`` first; the register rows, the
request's move to ``released`` and the audit event commit in one transaction; only then
is the staged folder renamed to ``releases/<release>``. A crash at any point leaves one
of these, which :func:`reconcile_releases` settles (each step audited as
``release.reconcile`` by ``system``):

- a staged bundle whose release is not in the register: the publication never
  committed, so the folder is removed (the request is still approved: publish again);
- a staged bundle whose release is in the register: the publication committed but the
  rename did not happen; the files are checked against the manifest the register holds,
  then renamed into place;
- a bundle in ``releases/`` that the register does not know (left by a crash before this
  scheme, or put there by hand): moved aside to ``releases/.orphaned/`` so that it is
  never taken for a publication and the request can be published again.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.audit.events import AuditEvent, Outcome
from fivesafes.errors import IntegrityError
from fivesafes.release.bundle import MANIFEST, verify_bundle
from fivesafes.services.context import SYSTEM, record
from fivesafes.store.models.release import PublishedReleaseRow

STAGING = ".staging"
ORPHANED = ".orphaned"
RECONCILE = "release.reconcile"


def staging_dir(releases_dir: Path, release_id: str) -> Path:
    """Where ``release_id``'s bundle is written before its publication commits."""
    return releases_dir / STAGING / release_id


def hold_publication(releases_dir: Path, release_id: str) -> int:
    """Lock ``release_id`` as being published (an fd to close when done; a crash frees it).

    Reconciliation leaves a release alone while this lock is held: a staged bundle whose
    publication is still running is not a crash's leftover.
    """
    lock = releases_dir / STAGING / f"{release_id}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _in_flight(releases_dir: Path, release_id: str) -> bool:
    lock = releases_dir / STAGING / f"{release_id}.lock"
    if not lock.exists():
        return False
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _registered(session: Session, release_id: str) -> bool:
    """Asked afresh: a publication that committed a moment ago counts."""
    found = session.scalar(
        select(PublishedReleaseRow.id).where(PublishedReleaseRow.release_id == release_id)
    )
    return found is not None


def fsync_dir(path: Path) -> None:
    """Make a rename or removal in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _record(session: Session, release_id: str, details: dict[str, Any], ok: bool) -> AuditEvent:
    return record(
        session,
        SYSTEM,
        RECONCILE,
        outcome=Outcome.DONE if ok else Outcome.FAILED,
        subject=release_id,
        details={"release": release_id, **details},
    )


def _complete(staged: Path, final: Path, row: PublishedReleaseRow) -> str | None:
    """Rename a committed release's staged bundle into place; the problem, if any."""
    try:
        verify_bundle(staged)
        inside = json.loads((staged / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (IntegrityError, OSError, ValueError, KeyError) as exc:
        return f"the staged bundle does not verify: {exc}"
    if inside != json.loads(row.manifest_json):
        return "the staged bundle is not the one the register recorded"
    os.rename(staged, final)
    fsync_dir(final.parent)
    return None


def reconcile_releases(session: Session, releases_dir: Path) -> list[AuditEvent]:
    """Settle what a crashed publication left in ``releases_dir``; returns the events recorded."""
    events: list[AuditEvent] = []
    if not releases_dir.is_dir():
        return events
    known = set(session.scalars(select(PublishedReleaseRow.release_id)))
    staging = releases_dir / STAGING
    for staged in sorted(staging.iterdir()) if staging.is_dir() else []:
        release_id = staged.name
        if not staged.is_dir() or _in_flight(releases_dir, release_id):
            continue  # a lock file, or a publication still running
        final = releases_dir / release_id
        if release_id not in known and not _registered(session, release_id):
            shutil.rmtree(staged)
            fsync_dir(staging)
            details: dict[str, Any] = {
                "action": "removed",
                "why": "staged, never committed to the register",
            }
            events.append(_record(session, release_id, details, True))
            continue
        if final.exists():
            problem: str | None = f"{final} exists already; the staged copy is kept for review"
        else:
            row = session.scalars(
                select(PublishedReleaseRow).where(PublishedReleaseRow.release_id == release_id)
            ).one()
            problem = _complete(staged, final, row)
        details = {
            "action": "completed" if problem is None else "kept",
            "problem": problem,
        }
        events.append(_record(session, release_id, details, problem is None))
    for found in sorted(releases_dir.iterdir()):
        if found.name.startswith(".") or not found.is_dir() or found.name in known:
            continue
        if _in_flight(releases_dir, found.name) or _registered(session, found.name):
            continue  # renamed into place by a publication that committed meanwhile
        aside = releases_dir / ORPHANED / f"{found.name}-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
        aside.parent.mkdir(exist_ok=True)
        os.rename(found, aside)
        fsync_dir(releases_dir)
        details = {"action": "moved aside", "to": str(aside), "why": "not in the register"}
        events.append(_record(session, found.name, details, True))
    return events
