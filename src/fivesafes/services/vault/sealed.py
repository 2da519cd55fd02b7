"""Data keys wrapped under an area key outside the area's manifests, re-wrapped by a rotation.

An area key rotation destroys the old key once it committed: every data key wrapped
under it must be wrapped again under the new key first, or what it seals is lost. The
manifests and the area's secrets are re-wrapped by ``vault.rotate``; this module does the
rest, found wherever the services seal something under an area's key:

- in the database: a release request's submitted versions and their audit intervals, a
  published release's hidden cells, an approved figure's hierarchies, the requester's
  details of a request case;
- on disk, in the area store: the sealed subject records of a subject access case
  (``subject-access/case-N.json``).

Order with the rotation's commit: the rows change in the rotation's transaction; each file
is replaced atomically, before the commit, while the exclusive area lock keeps every
writer out. Until the commit both the old keys and the new one live (a rotation that
fails or is killed destroys neither), so whatever mix of old and new a crash leaves
still opens; after the commit nothing is left under the old keys, which may go.
``key_sweep.keys_in_use`` is the safety net: a key something still names is never
destroyed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import FivesafesError, IntegrityError
from fivesafes.release.intervals import intervals_object_id
from fivesafes.requests.figure import figure_object_id
from fivesafes.services.release.checks import version_object_id
from fivesafes.services.release.register import hidden_object_id
from fivesafes.services.requests import subject
from fivesafes.services.requests.cases import requester_object_id
from fivesafes.services.vault.register import Vault
from fivesafes.store.models.release import (
    PublishedReleaseRow,
    ReleaseRequestRow,
    RequestVersionRow,
)
from fivesafes.store.models.requests import RequestCaseRow, RequestFigureRow
from fivesafes.vault.atomic import atomic_write_bytes
from fivesafes.vault.envelope import rewrap
from fivesafes.vault.keys import WrappedKey


def rewrap_sealed(session: Session, vault: Vault, area: str, area_id: int) -> int:
    """Re-wrap every data key of ``area`` sealed in the database (in ``session``) or in a
    sealed file of its store under the area's current key; how many. The caller holds the
    area lock exclusively and is rotating the area key."""
    count = _rewrap_rows(session, vault, area, area_id)
    return count + _rewrap_subject_records(vault, area)


def _rewrap_rows(session: Session, vault: Vault, area: str, area_id: int) -> int:
    # Without this the old area key's destruction would make every pending request and
    # every published release's hidden cells unreadable (and the differencing check with it).
    sealed: list[tuple[Any, str]] = [
        (v, version_object_id(v.request_id, v.version))
        for v in session.scalars(
            select(RequestVersionRow)
            .join(ReleaseRequestRow, RequestVersionRow.request_id == ReleaseRequestRow.id)
            .where(ReleaseRequestRow.area_id == area_id)
        )
    ]
    sealed += [
        (r, hidden_object_id(r.release_id))
        for r in session.scalars(
            select(PublishedReleaseRow).where(
                PublishedReleaseRow.area_id == area_id,
                PublishedReleaseRow.wrapped_key_json.is_not(None),
            )
        )
    ]
    for row, object_id in sealed:
        row.wrapped_key_json = _rewrapped(vault, area, object_id, row.wrapped_key_json)
    # a table version's audit intervals have their own data key (release.intervals)
    versions = [v for v, _ in sealed if isinstance(v, RequestVersionRow)]
    with_intervals = [v for v in versions if v.intervals_wrapped_key_json is not None]
    for v in with_intervals:
        v.intervals_wrapped_key_json = _rewrapped(
            vault,
            area,
            intervals_object_id(v.request_id, v.version),
            str(v.intervals_wrapped_key_json),
        )
    # an approved figure's hierarchies (every code of its columns), read by every check
    figures = session.scalars(
        select(RequestFigureRow).where(
            RequestFigureRow.area == area,
            RequestFigureRow.hierarchies_wrapped_key_json.is_not(None),
        )
    ).all()
    for f in figures:
        f.hierarchies_wrapped_key_json = _rewrapped(
            vault, area, figure_object_id(f.id), str(f.hierarchies_wrapped_key_json)
        )
    # a request case's requester, sealed under its requests area's key until retention ends
    cases = session.scalars(
        select(RequestCaseRow).where(
            RequestCaseRow.area == area, RequestCaseRow.requester_wrapped_key.is_not(None)
        )
    ).all()
    for c in cases:
        c.requester_wrapped_key = _rewrapped(
            vault, area, requester_object_id(c.id), str(c.requester_wrapped_key)
        )
    session.flush()
    return len(sealed) + len(with_intervals) + len(figures) + len(cases)


def _rewrap_subject_records(vault: Vault, area: str) -> int:
    """Re-wrap the data key inside each sealed subject-records file of ``area``."""
    folder = vault.store(area).dir / subject.FOLDER
    paths = sorted(folder.glob("case-*.json")) if folder.is_dir() else []
    for path in paths:
        blob = json.loads(path.read_bytes())
        case_id = int(path.stem.removeprefix("case-"))
        try:
            new = _rewrapped(vault, area, subject.object_id(case_id), blob["wrapped_key"])
        except FivesafesError as e:
            raise IntegrityError(
                f"the sealed subject records {_shown(path)} do not open under {area!r}'s "
                f"keys ({e}): the rotation stopped before anything was committed",
                hint="restore the file from a backup (or shred it if the case's retention "
                "ended), then rotate again",
            ) from e
        # atomic: a crash leaves the old file (old key, still living) or the new one
        atomic_write_bytes(path, json.dumps({**blob, "wrapped_key": new}).encode())
    return len(paths)


def _shown(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _rewrapped(vault: Vault, area: str, object_id: str, wrapped_json: str) -> str:
    """A wrapped data key (as stored, JSON) wrapped again under the area's current key."""
    old = WrappedKey.from_json(json.loads(wrapped_json))
    return json.dumps(rewrap(vault.provider, area, object_id, old).to_json())
