"""Retired area keys a crash left behind: found by the area's sweep and destroyed, audited.

A rotation destroys the old area keys only after its transaction committed (see
``rotation.retire_keys``, through :func:`retire_rotated_keys`): a kill in between leaves key
files that the committed ``area.rotate_key`` event already lists as destroyed. Nothing
is wrapped under them any more (the rotation re-wrapped every data key first), but they
still open every old copy of a wrapped key (a backup of a manifest, of the database),
including those of objects destroyed just before. :func:`sweep_retired_keys` finishes the job.

Which keys: only those a *committed* rotation retired (its audit event, in the chain),
never merely "the keys other than the current one": a rotation whose commit failed
leaves the database's sealed rows wrapped under the old key, which must then live on.
And never a key that something still references, wherever the sweep can look: the
register, the data keys sealed in the database, any JSON file of the area store
(manifests, the pseudonym key, the record-key secret, sealed subject records). Such a
key is kept and the event says so (``kept_in_use``); the next rotation re-wraps and
retires it. The destruction right after a rotation uses the same check
(:func:`keys_in_use`), so a data key a rotation failed to re-wrap never loses its key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.services.context import record
from fivesafes.store.models.audit import AuditRecord
from fivesafes.store.models.release import (
    PublishedReleaseRow,
    ReleaseRequestRow,
    RequestVersionRow,
)
from fivesafes.store.models.requests import RequestCaseRow, RequestFigureRow
from fivesafes.store.models.vault import VaultObjectRow
from fivesafes.vault.keys import KeyProvider
from fivesafes.vault.rotate import destroy_area_keys
from fivesafes.vault.store import AreaStore

ROTATE_ACTION = "area.rotate_key"
SWEEP_ACTION = "area.key_sweep"
KEPT_ACTION = "area.key_kept"


def sweep_retired_keys(
    session: Session, login: str, provider: KeyProvider, store: AreaStore, area_id: int
) -> list[str]:
    """Destroy the area keys committed rotations retired that are still held and that
    nothing references; audited (also what was kept). The caller holds the area lock
    exclusively and has shredded the orphan objects first (their manifests would keep
    the key they were wrapped under)."""
    area = store.area
    held = provider.key_ids(area)
    if len(held) < 2:  # the usual case: only the current key, nothing to read
        return []
    retired = (_retired(session, area) & set(held)) - {provider.current_key_id(area)}
    if not retired:
        return []
    in_use = keys_in_use(session, store, area_id)
    doomed = sorted(retired - in_use)
    kept = sorted(retired & in_use)
    destroy_area_keys(provider, area, doomed)
    record(
        session,
        login,
        SWEEP_ACTION,
        area=area,
        details={"destroyed_key_ids": doomed, "kept_in_use": kept},
    )
    return doomed


def retire_rotated_keys(
    session: Session,
    login: str,
    provider: KeyProvider,
    store: AreaStore,
    area_id: int,
    key_ids: Iterable[str],
) -> list[str]:
    """Destroy the keys a rotation that has just committed replaced, except any that
    something still references: each such key is kept and audited (``area.key_kept``),
    for the next rotation to re-wrap and retire. The destroyed ones; the caller holds
    the area lock exclusively."""
    retiring = sorted(set(key_ids) - {provider.current_key_id(store.area)})
    in_use = keys_in_use(session, store, area_id)
    doomed = [k for k in retiring if k not in in_use]
    kept = [k for k in retiring if k in in_use]
    destroy_area_keys(provider, store.area, doomed)
    if kept:  # else the rotation's own event (destroyed_key_ids) says it all
        record(
            session,
            login,
            KEPT_ACTION,
            area=store.area,
            details={"destroyed_key_ids": doomed, "kept_in_use": kept},
        )
    return doomed


def keys_in_use(session: Session, store: AreaStore, area_id: int) -> set[str]:
    """The area's key ids that something still references: a stored object of the
    register, a data key sealed in the database, any JSON file of the area store."""
    return _in_database(session, store.area, area_id) | _in_store(store)


def _retired(session: Session, area: str) -> set[str]:
    """Every key id a committed rotation of ``area`` retired (rotations are rare)."""
    texts = session.scalars(
        select(AuditRecord.details_text).where(
            AuditRecord.action == ROTATE_ACTION, AuditRecord.area == area
        )
    )
    return {str(k) for t in texts for k in json.loads(t).get("destroyed_key_ids", [])}


def _key_ids(area: str, texts: Iterable[str | None]) -> set[str]:
    # A key id found anywhere in the text counts (a source file named like one too):
    # a false match only keeps a key, a missed one would destroy a needed key.
    pattern = re.compile(rf"(?<![\w-]){re.escape(area)}/v\d+")
    return {m for t in texts if t for m in pattern.findall(t)}


def _in_database(session: Session, area: str, area_id: int) -> set[str]:
    """Key ids the database still holds wrapped data keys (or register rows) under."""
    texts: list[str | None] = []
    texts += session.scalars(
        select(VaultObjectRow.key_id).where(
            VaultObjectRow.area_id == area_id,
            VaultObjectRow.state == "stored",  # register.STORED
        )
    )
    versions = session.execute(
        select(RequestVersionRow.wrapped_key_json, RequestVersionRow.intervals_wrapped_key_json)
        .join(ReleaseRequestRow, RequestVersionRow.request_id == ReleaseRequestRow.id)
        .where(ReleaseRequestRow.area_id == area_id)
    )
    texts += [t for row in versions for t in row]
    texts += session.scalars(
        select(PublishedReleaseRow.wrapped_key_json).where(PublishedReleaseRow.area_id == area_id)
    )
    texts += session.scalars(
        select(RequestFigureRow.hierarchies_wrapped_key_json).where(RequestFigureRow.area == area)
    )
    texts += session.scalars(
        select(RequestCaseRow.requester_wrapped_key).where(RequestCaseRow.area == area)
    )
    return _key_ids(area, texts)


def _in_store(store: AreaStore) -> set[str]:
    """Key ids named in the area store's JSON files (small: never the ciphertext)."""
    texts = []
    for path in store.dir.rglob("*.json"):
        try:
            texts.append(path.read_text(errors="replace"))
        except FileNotFoundError:  # gone meanwhile (a staging folder being removed)
            continue
    return _key_ids(store.area, texts)
