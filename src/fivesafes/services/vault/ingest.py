"""Ingest: encrypt a file into its restricted area and register it, or leave nothing behind.

The file is encrypted under the area's shared lock, outside any transaction (a large
dataset must not hold the database's write lock); then one transaction registers it,
audits it and stores its family's patterns. If that fails, or a kill comes in between,
the new ciphertext is shredded (or swept by the area's next reconcile): the register
never names an object whose files are not there, and no unregistered data stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from fivesafes.errors import ConflictError, ValidationError
from fivesafes.faults import crash_point
from fivesafes.services.context import record, resolve_actor
from fivesafes.services.governance.lookup import dataset_row
from fivesafes.services.vault.families import (
    FamilyPlan,
    compute_patterns,
    plan_for,
    store_patterns,
)
from fivesafes.services.vault.register import (
    DATASET,
    StoredObject,
    Transact,
    Vault,
    check_manage,
    ensure_area_key,
    object_of,
    provenance_details,
    row_from_manifest,
    stored_row,
)
from fivesafes.store.models.governance import DatasetRow
from fivesafes.vault import (
    AreaStore,
    ingest_file,
    shred,
)
from fivesafes.vault.area_lock import area_lock
from fivesafes.vault.ingest_checks import missing_warnings
from fivesafes.vault.unit_keys import UNIT_SCHEME, UNIT_SCHEME_V1, UnitKeying


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
