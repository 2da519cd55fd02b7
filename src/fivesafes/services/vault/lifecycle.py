"""Restricted areas for real: ingest, the only read path, query, destroy, rotate, retention.

This module is the one import for commands and the server: destruction and retention
live here, ingest in :mod:`~fivesafes.services.vault.ingest`, key rotation in
:mod:`~fivesafes.services.vault.rotation`, the read path in
:mod:`~fivesafes.services.vault.read`.

Every function takes ``tx`` (a callable opening one transaction, e.g.
``workspace.transaction``) rather than a session: encrypting or decrypting a large
dataset must not hold the database's write lock, and an access decision must be
committed to the audit log *before* a denial is raised. The pattern is

1. a transaction that checks (and, for reads, decides and audits access);
2. the file work in the area store, outside any transaction;
3. a transaction that registers the outcome and audits it; if that fails, the
   file work is undone (the new object is shredded).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import NotFoundError, ValidationError
from fivesafes.faults import crash_point
from fivesafes.governance import permissions
from fivesafes.services.context import now, record, resolve_actor, today_or
from fivesafes.services.governance.lookup import area_row
from fivesafes.services.vault.ingest import ingest_dataset
from fivesafes.services.vault.read import (
    open_dataset_for,
    open_dataset_ref,
    query_area_for,
    referenced_datasets,
)
from fivesafes.services.vault.register import (
    DATASET,
    DESTROYED,
    OUTPUT,
    STORE_KIND,
    STORED,
    QueryOutcome,
    StoredObject,
    Transact,
    Vault,
    check_manage,
    object_of,
    reconcile,
    stored_row,
)
from fivesafes.services.vault.rotation import (
    retire_keys,
    rotate_area_key_for,
    rotate_keys,
    sweep_area,
)
from fivesafes.store.models.governance import AreaRow, DatasetRow
from fivesafes.store.models.vault import VaultObjectRow
from fivesafes.vault import shred
from fivesafes.vault.area_lock import area_lock
from fivesafes.vault.rotate import Rotation

# One import for commands and the server (see the module's docstring)
__all__ = [
    "DATASET",
    "DESTROYED",
    "OUTPUT",
    "STORED",
    "QueryOutcome",
    "StoredObject",
    "Transact",
    "Vault",
    "destroy_dataset",
    "ingest_dataset",
    "list_stored",
    "open_dataset_for",
    "open_dataset_ref",
    "query_area_for",
    "referenced_datasets",
    "rotate_area_key_for",
    "run_retention",
]

# --- destroy and retention (ingest: services/vault/ingest.py; rotation: rotation.py) ----


def _destroy_row(
    session: Session, vault: Vault, login: str, row: VaultObjectRow, reason: str, action: str
) -> StoredObject:
    """Mark ``row`` destroyed and audit it, in ``session``; the files are left for
    :func:`_shred_destroyed` once the session committed.

    Not before: a commit that fails (or a kill before it) would leave the register saying
    "stored" for an object whose files are gone. This way a kill after the commit leaves
    at worst ciphertext the register no longer knows as stored, which the area's next
    sweep (register.reconcile) shreds.
    """
    area = row.area.name
    store = vault.store(area)
    try:
        facts: dict[str, Any] = store.manifest(row.name, STORE_KIND[row.kind]).describe()
    except NotFoundError:
        facts = {"note": "no ciphertext was found in the area store"}
    row.state = DESTROYED
    row.destroyed_at = now()
    row.destroyed_by = login
    row.destroy_reason = reason
    session.flush()
    record(
        session,
        login,
        action,
        area=area,
        dataset=row.name if row.kind == DATASET else None,
        subject=row.object_id,
        details={
            "kind": row.kind,
            "reason": reason,
            "rows": row.rows,
            "source_sha256": row.source_sha256,
            "object_id": row.object_id,
            "ciphertext_bytes": facts.get("ciphertext_bytes"),
        },
    )
    return object_of(row)


def _shred_destroyed(vault: Vault, destroyed: Sequence[StoredObject]) -> None:
    """Shred the files of objects whose destruction has committed (the caller still holds
    the area lock)."""
    crash_point("destroy.committed")  # registered as destroyed, files not yet shredded
    for obj in destroyed:
        try:
            shred(vault.store(obj.area), obj.name, kind=STORE_KIND[obj.kind])
        except NotFoundError:
            continue  # there was no ciphertext (the audit event says so)


def _leave(destroyed: Sequence[StoredObject]) -> set[tuple[str, str]]:
    """What a rotation in the destroying transaction must not re-wrap: the destroyed
    objects' data keys stay under the retired area key and die with it."""
    return {(STORE_KIND[o.kind], o.name) for o in destroyed}


def destroy_dataset(
    tx: Transact,
    vault: Vault,
    login: str,
    area: str,
    name: str,
    reason: str,
    *,
    kind: str = DATASET,
    rotate: bool = True,
) -> StoredObject:
    """Crypto-shred a stored dataset (or output); the register and audit keep the facts.

    With ``rotate`` (the default) the area key is rotated afterwards, so that no copy of
    the destroyed data key (in a backup of the area store) opens under any living key.
    """
    if not reason.strip():
        raise ValidationError("a reason is required", hint='e.g. --reason "retention ended"')
    with tx() as session:  # check first: the area lock below creates the store
        area_id = check_manage(session, resolve_actor(session, login), area)
    rotation: Rotation | None = None
    with area_lock(vault.store(area), exclusive=True):
        sweep_area(tx, vault, login, area, area_id)
        with tx() as session:
            actor = resolve_actor(session, login)
            area_id = check_manage(session, actor, area)
            row = stored_row(session, area_id, kind, name)
            if row is None:
                raise _not_stored(session, area_id, area, kind, name)
            done = _destroy_row(session, vault, login, row, reason.strip(), f"{kind}.destroy")
            if rotate and vault.provider.key_ids(area):
                rotation = rotate_keys(session, vault, login, area, area_id, _leave([done]))
        # Committed: now the files, then the old keys (see _destroy_row and rotation.retire_keys).
        try:
            _shred_destroyed(vault, [done])
        finally:
            retire_keys(tx, vault, login, area_id, rotation)
        return done


def _not_stored(session: Session, area_id: int, area: str, kind: str, name: str) -> NotFoundError:
    """Nothing of ``kind`` is stored as ``name``; say so, and which flag fits if the other is.

    `dataset stored` lists datasets and outputs together, so a name read there may be of
    the other kind than the command was told.
    """
    other = OUTPUT if kind == DATASET else DATASET
    message = f"area {area!r} stores no {kind} named {name!r}"
    if stored_row(session, area_id, other, name) is None:
        return NotFoundError(message, hint=f"see `fivesafes dataset stored {area}`")
    if other == OUTPUT:
        return NotFoundError(
            f"{message}: {name!r} is an analysis output",
            hint=f"add --output: fivesafes dataset destroy {area} {name} --output --reason ...",
        )
    return NotFoundError(
        f"{message}: {name!r} is a dataset",
        hint=f"run it without --output: fivesafes dataset destroy {area} {name} --reason ...",
    )


def _due(day: date) -> Any:
    return (
        select(VaultObjectRow)
        .join(DatasetRow, VaultObjectRow.dataset_id == DatasetRow.id)
        .where(
            VaultObjectRow.state == STORED,
            VaultObjectRow.kind == DATASET,
            DatasetRow.retention_until.is_not(None),
            DatasetRow.retention_until < day,
        )
        .order_by(VaultObjectRow.id)
    )


def run_retention(
    tx: Transact, vault: Vault, login: str, today: date | None = None
) -> list[StoredObject]:
    """Destroy every stored dataset past its retention date (administrators)."""
    day = today_or(today)
    with tx() as session:
        permissions.check_administer(resolve_actor(session, login).person)
        due_areas = sorted({r.area.name for r in session.scalars(_due(day))})
        all_areas = session.execute(select(AreaRow.name, AreaRow.id)).all()
    done: list[StoredObject] = []
    for area in due_areas:
        rotation: Rotation | None = None
        with area_lock(vault.store(area), exclusive=True):
            with tx() as session:
                area_id = area_row(session, area).id
            sweep_area(tx, vault, login, area, area_id)
            destroyed: list[StoredObject] = []
            with tx() as session:
                for row in session.scalars(_due(day).where(VaultObjectRow.area_id == area_id)):
                    until = row.dataset.retention_until if row.dataset else None
                    reason = f"retention period ended ({until})"
                    destroyed.append(
                        _destroy_row(
                            session, vault, login, row, reason, "dataset.retention_destroy"
                        )
                    )
                if vault.provider.key_ids(area):
                    rotation = rotate_keys(session, vault, login, area, area_id, _leave(destroyed))
            try:  # committed: now the files, then the old keys
                _shred_destroyed(vault, destroyed)
            finally:
                retire_keys(tx, vault, login, area_id, rotation)
            done += destroyed
    for area, area_id in all_areas:
        if area not in due_areas and vault.store(area).exists():
            with tx() as session:
                reconcile(session, login, vault.store(area), area_id, provider=vault.provider)
    return done


def list_stored(
    tx: Transact, area: str | None = None, *, include_destroyed: bool = False
) -> list[StoredObject]:
    """The vault register (optionally of one area), stored objects first."""
    with tx() as session:
        query = select(VaultObjectRow).order_by(VaultObjectRow.kind, VaultObjectRow.name)
        if area is not None:
            query = query.where(VaultObjectRow.area_id == area_row(session, area).id)
        if not include_destroyed:
            query = query.where(VaultObjectRow.state == STORED)
        return [object_of(r) for r in session.scalars(query)]
