"""Restricted areas for real: ingest, the only read path, query, destroy, rotate, retention.

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
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import ConflictError, NotFoundError, ValidationError
from fivesafes.faults import crash_point
from fivesafes.governance import permissions
from fivesafes.services.context import now, record, resolve_actor, today_or
from fivesafes.services.governance.lookup import area_row, dataset_row
from fivesafes.services.vault.families import (
    FamilyPlan,
    compute_patterns,
    plan_for,
    store_patterns,
)
from fivesafes.services.vault.key_sweep import retire_rotated_keys
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
    ensure_area_key,
    object_of,
    provenance_details,
    reconcile,
    row_from_manifest,
    stored_row,
)
from fivesafes.services.vault.sealed import rewrap_sealed
from fivesafes.store.models.governance import AreaRow, DatasetRow
from fivesafes.store.models.vault import VaultObjectRow
from fivesafes.vault import (
    AreaStore,
    ingest_file,
    rotate_area_key,
    shred,
)
from fivesafes.vault.ingest_checks import missing_warnings
from fivesafes.vault.rotate import Rotation
from fivesafes.vault.unit_keys import UNIT_SCHEME, UNIT_SCHEME_V1, UnitKeying
from fivesafes.vault.writer import area_lock

# One import for commands and the lead's wiring: the read path lives in vault_read,
# the shared register parts in vault_register.
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

# --- ingest -----------------------------------------------------------------------------


def ingest_dataset(
    tx: Transact,
    vault: Vault,
    login: str,
    area: str,
    path: Path | str,
    *,
    name: str,
    fmt: str | None = None,
    column_types: dict[str, str] | None = None,
    pseudonymise: Sequence[str] = (),
) -> StoredObject:
    """Encrypt a CSV/Parquet file into ``area`` as the registered dataset ``name``."""
    with tx() as session:
        actor = resolve_actor(session, login)
        area_id = check_manage(session, actor, area)
        ds = dataset_row(session, name)
        if ds.area_id != area_id:
            raise ValidationError(
                f"dataset {name!r} is registered in area {ds.area.name!r}, not {area!r}",
                hint=f"ingest it into its own area: fivesafes dataset ingest {ds.area.name} ...",
            )
        if stored_row(session, area_id, DATASET, name) is not None:
            raise ConflictError(
                f"area {area!r} already stores data for dataset {name!r}",
                hint="destroy the stored data first (fivesafes dataset destroy), then ingest",
            )
        dataset_id = ds.id
        family = plan_for(session, ds)
        unit = _unit_keying(ds)
        store = ensure_area_key(session, actor, vault, area)
    with area_lock(store, exclusive=False):
        return _ingest_locked(
            tx,
            vault,
            login,
            store,
            area_id,
            dataset_id,
            path,
            name,
            fmt,
            column_types,
            pseudonymise,
            family,
            unit,
        )


def _unit_keying(row: DatasetRow) -> UnitKeying | None:
    """Records keyed by the family's unit column within the family (its root dataset), if
    the family names its unit; else None (keys by row number)."""
    root = row.derived_from if row.derived_from is not None else row
    if root.unit_column is None:
        return None
    return UnitKeying(root.unit_column, root.name)


def _other_keys(store: AreaStore, family: FamilyPlan | None, name: str) -> list[str]:
    """A warning for each stored member of the family whose record keys were drawn another
    way than by unit under the current scheme (by row, stored before its family named its
    unit; or by unit under scheme v1, stored before v2): cells of the same units get other
    noise in its tables than in this dataset's."""
    if family is None:
        return []
    members = [family.parent] if family.parent_stored else []
    out = []
    for member in [*members, *family.derived]:
        if member == name:
            continue
        scheme = (store.manifest(member).extra.get("record_keys") or {}).get("scheme")
        if scheme == UNIT_SCHEME:
            continue
        how = (
            "by unit under the older scheme (in the order of its file, for its family alone)"
            if scheme == UNIT_SCHEME_V1
            else "by row, not by unit (stored before its unit was named)"
        )
        out.append(
            f"dataset {member!r} of the family of {family.parent!r} has record keys {how}: "
            f"the same units get other perturbations in its tables; destroy and ingest "
            f"{member!r} again"
        )
    return out


def _ingest_locked(
    tx: Transact,
    vault: Vault,
    login: str,
    store: AreaStore,
    area_id: int,
    dataset_id: int,
    path: Path | str,
    name: str,
    fmt: str | None,
    column_types: dict[str, str] | None,
    pseudonymise: Sequence[str],
    family: FamilyPlan | None = None,
    unit: UnitKeying | None = None,
) -> StoredObject:
    # The shared area lock is held until the registration commits (see reconcile).
    area = store.area
    manifest = ingest_file(
        store,
        vault.provider,
        path,
        name=name,
        ingested_by=login,
        fmt=fmt,
        column_types=column_types,
        pseudonymise=pseudonymise,
        unit=unit,
    )
    crash_point("ingest.stored")  # encrypted and in place, not yet registered
    try:
        # A parent or derived dataset: its family's patterns, or a refusal (a derived
        # dataset with units outside its parent), before anything is registered.
        patterns = compute_patterns(store, vault.provider, family) if family else None
        with tx() as session:
            session.add(row_from_manifest(area_id, DATASET, manifest, dataset_id))
            session.flush()
            record(
                session,
                login,
                "dataset.ingest",
                area=area,
                dataset=name,
                details=provenance_details(manifest),
            )
            if family is not None and patterns is not None:
                store_patterns(session, login, area, family, patterns)
            row = stored_row(session, area_id, DATASET, name)
            assert row is not None
            missing = dict(manifest.extra.get("missing_values", {}))
            warnings = [
                *missing_warnings(missing, manifest.rows),
                *_other_keys(store, family, name),
            ]
            return replace(object_of(row), warnings=tuple(warnings))
    except BaseException:
        # Not registered, so not stored: nothing half-done stays behind.
        shred(store, name)
        raise


# --- destroy, rotate, retention ---------------------------------------------------------


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


def _sweep(tx: Transact, vault: Vault, login: str, area: str, area_id: int) -> None:
    """The area's sweep (orphan objects, retired keys a kill left), in a transaction of
    its own so that what it destroys is audited whatever the caller's transaction does.
    The caller holds the area lock exclusively."""
    with tx() as session:
        reconcile(session, login, vault.store(area), area_id, locked=True, provider=vault.provider)


def _rotate(
    session: Session,
    vault: Vault,
    login: str,
    area: str,
    area_id: int,
    leave: set[tuple[str, str]] | None = None,
) -> Rotation:
    """Re-wrap under a new area key in ``session``; the caller destroys the old keys with
    :func:`_retire` once the session committed, still under the area lock."""
    # The caller holds the area lock exclusively, taken before its transaction: the lock
    # order is always area lock, then database (an ingest holds its shared area lock
    # while it registers), so the two can never wait for each other.
    rotation = rotate_area_key(
        vault.store(area),
        vault.provider,
        locked=True,
        rewrap_others=lambda: rewrap_sealed(session, vault, area, area_id),
        destroy_old=False,
        leave=leave or set(),
    )
    for row in session.scalars(
        select(VaultObjectRow).where(
            VaultObjectRow.area_id == area_id, VaultObjectRow.state == STORED
        )
    ):
        row.key_id = rotation.new_key_id
    session.flush()
    record(
        session,
        login,
        "area.rotate_key",
        area=area,
        details={
            "new_key_id": rotation.new_key_id,
            "destroyed_key_ids": list(rotation.destroyed_key_ids),
            "rewrapped": rotation.rewrapped,
        },
    )
    crash_point("rotate.rewrapped")  # every data key re-wrapped (files too), not committed
    return rotation


def _retire(
    tx: Transact, vault: Vault, login: str, area_id: int, rotation: Rotation | None
) -> None:
    """Destroy the keys a committed rotation replaced, but never one still referenced.

    Only after the commit: the sealed rows re-wrapped in the rotation's transaction keep
    their old wrapped keys if it rolls back (an error, a kill), and those must still open.
    A kill between the commit and this leaves the old key files; the area's next sweep
    (key_sweep, from register.reconcile) destroys them, or the next rotation. A key that
    something still names (a data key the rotation did not re-wrap) is kept, audited as
    ``area.key_kept``: losing what it seals would be worse than a key living on.
    """
    if rotation is None:
        return
    crash_point("rotate.committed")  # the rotation committed, its old keys not yet destroyed
    with tx() as session:
        retire_rotated_keys(
            session, login, vault.provider, vault.store(rotation.area), area_id,
            rotation.destroyed_key_ids,
        )  # fmt: skip


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
        _sweep(tx, vault, login, area, area_id)
        with tx() as session:
            actor = resolve_actor(session, login)
            area_id = check_manage(session, actor, area)
            row = stored_row(session, area_id, kind, name)
            if row is None:
                raise _not_stored(session, area_id, area, kind, name)
            done = _destroy_row(session, vault, login, row, reason.strip(), f"{kind}.destroy")
            if rotate and vault.provider.key_ids(area):
                rotation = _rotate(session, vault, login, area, area_id, _leave([done]))
        # Committed: now the files, then the old keys (see _destroy_row and _retire).
        try:
            _shred_destroyed(vault, [done])
        finally:
            _retire(tx, vault, login, area_id, rotation)
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


def rotate_area_key_for(tx: Transact, vault: Vault, login: str, area: str) -> Rotation:
    """Re-wrap every data key of ``area`` under a new area key; destroy the old keys."""
    with tx() as session:
        check_manage(session, resolve_actor(session, login), area)
    if not vault.provider.key_ids(area):
        raise NotFoundError(
            f"area {area!r} has no key yet", hint="it gets one with its first ingest"
        )
    with area_lock(vault.store(area), exclusive=True):
        with tx() as session:
            actor = resolve_actor(session, login)
            area_id = check_manage(session, actor, area)
        # First the sweep: an orphan object would otherwise be re-wrapped under the new key.
        _sweep(tx, vault, login, area, area_id)
        with tx() as session:
            rotation = _rotate(session, vault, login, area, area_id)
        _retire(tx, vault, login, area_id, rotation)
        return rotation


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
            _sweep(tx, vault, login, area, area_id)
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
                    rotation = _rotate(session, vault, login, area, area_id, _leave(destroyed))
            try:  # committed: now the files, then the old keys
                _shred_destroyed(vault, destroyed)
            finally:
                _retire(tx, vault, login, area_id, rotation)
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
