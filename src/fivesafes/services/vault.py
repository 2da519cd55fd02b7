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

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import AccessDenied, ConflictError, NotFoundError, ValidationError
from fivesafes.governance import permissions
from fivesafes.governance.access import Decision
from fivesafes.governance.grants import STATISTICAL
from fivesafes.services.access import check_access
from fivesafes.services.areas import area_of
from fivesafes.services.context import Actor, now, record, resolve_actor, today_or
from fivesafes.services.lookup import area_row, dataset_row
from fivesafes.store.models.governance import AreaRow, DatasetRow
from fivesafes.store.models.vault import VaultObjectRow
from fivesafes.vault import (
    AreaStore,
    FileKeyProvider,
    KeyProvider,
    Manifest,
    ingest_file,
    open_table,
    rotate_area_key,
    shred,
)
from fivesafes.vault.query import query_area, sql_name
from fivesafes.vault.rotate import Rotation
from fivesafes.vault.writer import area_lock

Transact = Callable[[], AbstractContextManager[Session]]

STORED = "stored"
DESTROYED = "destroyed"
DATASET = "dataset"
OUTPUT = "output"
_STORE_KIND = {DATASET: "datasets", OUTPUT: "outputs"}


@dataclass(frozen=True)
class Vault:
    """Where the area stores live and who holds the area keys."""

    areas_dir: Path
    provider: KeyProvider

    @classmethod
    def of(cls, workspace: Any, provider: KeyProvider | None = None) -> Vault:
        """The workspace's vault: stores in ``areas/``, area key files in ``keys/areas/``."""
        return cls(workspace.areas_dir, provider or FileKeyProvider(workspace.keys_dir / "areas"))

    def store(self, area: str) -> AreaStore:
        """The area store of ``area``."""
        return AreaStore(self.areas_dir, area)


@dataclass(frozen=True)
class StoredObject:
    """The register's view of one encrypted object (also after it was destroyed)."""

    area: str
    kind: str
    name: str
    object_id: str
    state: str
    rows: int
    columns: tuple[tuple[str, str], ...]
    source: str
    source_sha256: str
    source_bytes: int
    source_format: str
    ingested_by: str
    ingested_at: datetime
    key_id: str
    ciphertext_bytes: int
    destroyed_at: datetime | None = None
    destroyed_by: str | None = None
    destroy_reason: str | None = None


@dataclass(frozen=True)
class QueryOutcome:
    """A query's stored (encrypted) output and its result, in memory only."""

    output: StoredObject
    table: pa.Table


def object_of(row: VaultObjectRow) -> StoredObject:
    """Return the domain view of a vault register row."""
    return StoredObject(
        area=row.area.name,
        kind=row.kind,
        name=row.name,
        object_id=row.object_id,
        state=row.state,
        rows=row.rows,
        columns=tuple((c["name"], c["type"]) for c in json.loads(row.columns_json)),
        source=row.source,
        source_sha256=row.source_sha256,
        source_bytes=row.source_bytes,
        source_format=row.source_format,
        ingested_by=row.ingested_by,
        ingested_at=row.ingested_at,
        key_id=row.key_id,
        ciphertext_bytes=row.ciphertext_bytes,
        destroyed_at=row.destroyed_at,
        destroyed_by=row.destroyed_by,
        destroy_reason=row.destroy_reason,
    )


def _stored_row(session: Session, area_id: int, kind: str, name: str) -> VaultObjectRow | None:
    return session.scalars(
        select(VaultObjectRow).where(
            VaultObjectRow.area_id == area_id,
            VaultObjectRow.kind == kind,
            VaultObjectRow.name == name,
            VaultObjectRow.state == STORED,
        )
    ).one_or_none()


def _check_manage(session: Session, actor: Actor, area: str) -> int:
    """The area's id, if the actor may manage its data (its asset owner or an admin)."""
    row = area_row(session, area)
    permissions.check_register_dataset(actor.person, area_of(row))
    return row.id


def _reconcile(
    session: Session, login: str, store: AreaStore, area_id: int, *, locked: bool = False
) -> list[str]:
    """Shred objects on disk that the register does not know (an ingest killed after its
    files were complete but before its registration committed); audited."""
    if locked:
        return _reconcile_alone(session, login, store, area_id)
    with area_lock(store, exclusive=True, wait=False) as alone:
        # Another process writing here may hold a complete object whose registration is
        # about to commit: reconcile only when nobody else holds the area lock.
        return _reconcile_alone(session, login, store, area_id) if alone else []


def _reconcile_alone(session: Session, login: str, store: AreaStore, area_id: int) -> list[str]:
    store.sweep_staging()
    shredded = []
    for kind, store_kind in _STORE_KIND.items():
        known = set(
            session.scalars(
                select(VaultObjectRow.name).where(
                    VaultObjectRow.area_id == area_id,
                    VaultObjectRow.kind == kind,
                    VaultObjectRow.state == STORED,
                )
            )
        )
        for name in store.names(store_kind):
            if name in known:
                continue
            gone = shred(store, name, kind=store_kind)
            record(
                session,
                login,
                "vault.orphan_shred",
                area=store.area,
                subject=gone.facts.get("object_id"),
                details={"kind": kind, "name": name, "rows": gone.facts.get("rows")},
            )
            shredded.append(f"{kind}:{name}")
    return shredded


def _ensure_area_key(session: Session, actor: Actor, vault: Vault, area: str) -> AreaStore:
    store = vault.store(area)
    store.create()
    _reconcile(session, actor.login, store, area_row(session, area).id)
    if not vault.provider.key_ids(area):
        key_id = vault.provider.create_key(area)
        record(session, actor.login, "area.key_create", area=area, details={"key_id": key_id})
    return store


def _row_from_manifest(
    area_id: int, kind: str, manifest: Manifest, dataset_id: int | None
) -> VaultObjectRow:
    p = manifest.provenance
    return VaultObjectRow(
        area_id=area_id,
        kind=kind,
        name=manifest.name,
        dataset_id=dataset_id,
        object_id=manifest.object_id,
        state=STORED,
        rows=manifest.rows,
        columns_json=json.dumps([{"name": c.name, "type": c.type} for c in manifest.columns]),
        source=p.source,
        source_sha256=p.sha256,
        source_bytes=p.size_bytes,
        source_format=p.source_format,
        ingested_by=p.ingested_by,
        ingested_at=datetime.fromisoformat(p.ingested_at),
        key_id=manifest.wrapped_key.key_id,
        ciphertext_bytes=manifest.ciphertext_bytes,
    )


def _provenance_details(manifest: Manifest) -> dict[str, Any]:
    p = manifest.provenance
    return {
        "source": p.source,
        "sha256": p.sha256,
        "size_bytes": p.size_bytes,
        "format": p.source_format,
        "rows": manifest.rows,
        "columns": [[c.name, c.type] for c in manifest.columns],
        "object_id": manifest.object_id,
        "key_id": manifest.wrapped_key.key_id,
        **(
            {"pseudonymised": manifest.extra["pseudonymised"]}
            if "pseudonymised" in manifest.extra
            else {}
        ),
    }


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
        area_id = _check_manage(session, actor, area)
        ds = dataset_row(session, name)
        if ds.area_id != area_id:
            raise ValidationError(
                f"dataset {name!r} is registered in area {ds.area.name!r}, not {area!r}",
                hint=f"ingest it into its own area: fivesafes dataset ingest {ds.area.name} ...",
            )
        if _stored_row(session, area_id, DATASET, name) is not None:
            raise ConflictError(
                f"area {area!r} already stores data for dataset {name!r}",
                hint="destroy the stored data first (fivesafes dataset destroy), then ingest",
            )
        dataset_id = ds.id
        store = _ensure_area_key(session, actor, vault, area)
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
        )


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
) -> StoredObject:
    # The shared area lock is held until the registration commits (see _reconcile).
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
    )
    try:
        with tx() as session:
            session.add(_row_from_manifest(area_id, DATASET, manifest, dataset_id))
            session.flush()
            record(
                session,
                login,
                "dataset.ingest",
                area=area,
                dataset=name,
                details=_provenance_details(manifest),
            )
            row = _stored_row(session, area_id, DATASET, name)
            assert row is not None
            return object_of(row)
    except BaseException:
        # Not registered, so not stored: nothing half-done stays behind.
        shred(store, name)
        raise


# --- the read path ----------------------------------------------------------------------


def _denied(what: str, decisions: dict[str, Decision]) -> AccessDenied:
    reasons = tuple(
        f"{ds}: {reason.message}" if len(decisions) > 1 else reason.message
        for ds, d in decisions.items()
        for reason in d.reasons
    )
    return AccessDenied(
        f"access to {what} is denied",
        reasons=reasons,
        hint="see `fivesafes access check` for what is missing; every attempt is audited",
    )


def _decide(
    tx: Transact,
    login: str,
    area: str,
    names: Sequence[str],
    purpose: str,
    today: date | None,
    project_ref: str | None,
) -> dict[str, Decision]:
    """Decide and audit access to each dataset, committed before anyone acts on it."""
    with tx() as session:
        actor = resolve_actor(session, login)
        return {
            n: check_access(session, actor, login, n, purpose, today, project_ref) for n in names
        }


def _stored_dataset(tx: Transact, area: str, name: str) -> None:
    with tx() as session:
        area_id = area_row(session, area).id
        ds = dataset_row(session, name)
        if ds.area_id != area_id:
            raise NotFoundError(
                f"dataset {name!r} is not in area {area!r} (it is in {ds.area.name!r})",
                hint=f"use {ds.area.name}/{name}",
            )
        if _stored_row(session, area_id, DATASET, name) is None:
            raise NotFoundError(
                f"dataset {area}/{name} is registered but holds no data",
                hint=f"ingest it: fivesafes dataset ingest {area} FILE --name {name}",
            )


def open_dataset_for(
    tx: Transact,
    vault: Vault,
    login: str,
    area: str,
    name: str,
    purpose: str = STATISTICAL,
    *,
    today: date | None = None,
    project_ref: str | None = None,
    columns: Sequence[str] | None = None,
) -> pa.Table:
    """Open dataset AREA/NAME for ``login`` and ``purpose``: decided, audited, else denied."""
    decisions = _decide(tx, login, area, [name], purpose, today, project_ref)
    if not decisions[name].allowed:
        raise _denied(f"dataset {area}/{name}", decisions)
    _stored_dataset(tx, area, name)
    return open_table(vault.store(area), vault.provider, name, columns=columns)


def referenced_datasets(sql: str, available: Sequence[str]) -> list[str]:
    """The datasets (of ``available``) a query reads, from DuckDB's own parser."""
    by_sql = {sql_name(n): n for n in available}
    try:
        tables = duckdb.get_table_names(sql, qualified=False)
    except duckdb.ParserException as exc:
        raise ValidationError(f"the query does not parse: {exc}", hint="fix the SQL") from None
    except duckdb.Error:
        # Some valid queries (JOIN ... USING) need binding to list their tables: then
        # every dataset of the area counts as read (stricter, never looser).
        tables = set(by_sql)
    unknown = sorted(t for t in tables if t not in by_sql)
    if unknown:
        raise NotFoundError(
            f"the query reads {', '.join(unknown)}, which the area does not store",
            hint="the area's datasets are: " + (", ".join(sorted(by_sql)) or "none"),
        )
    if not tables:
        raise ValidationError(
            "the query reads no dataset of the area",
            hint='name a dataset in FROM, e.g. "SELECT count(*) FROM survey"',
        )
    return sorted(by_sql[t] for t in tables)


def query_area_for(
    tx: Transact,
    vault: Vault,
    login: str,
    area: str,
    sql: str,
    purpose: str = STATISTICAL,
    *,
    today: date | None = None,
    project_ref: str | None = None,
    memory_limit: str | None = None,
) -> QueryOutcome:
    """Run SQL over the area's datasets for ``login``; the result is stored encrypted."""
    with tx() as session:
        area_id = area_row(session, area).id
        stored = session.scalars(
            select(VaultObjectRow.name).where(
                VaultObjectRow.area_id == area_id,
                VaultObjectRow.kind == DATASET,
                VaultObjectRow.state == STORED,
            )
        ).all()
    names = referenced_datasets(sql, list(stored))
    decisions = _decide(tx, login, area, names, purpose, today, project_ref)
    if not all(d.allowed for d in decisions.values()):
        raise _denied(f"area {area} ({', '.join(names)})", decisions)
    store = vault.store(area)
    with area_lock(store, exclusive=False):
        return _query_locked(tx, vault, login, store, area_id, sql, purpose, names, memory_limit)


def _query_locked(
    tx: Transact,
    vault: Vault,
    login: str,
    store: AreaStore,
    area_id: int,
    sql: str,
    purpose: str,
    names: list[str],
    memory_limit: str | None,
) -> QueryOutcome:
    area = store.area
    result = query_area(
        store, vault.provider, sql, run_by=login, datasets=names, memory_limit=memory_limit
    )
    try:
        with tx() as session:
            session.add(_row_from_manifest(area_id, OUTPUT, result.output, None))
            session.flush()
            record(
                session,
                login,
                "area.query",
                area=area,
                subject=result.output.name,
                details={
                    "sql": sql,
                    "purpose": purpose,
                    "datasets": names,
                    "output": result.output.name,
                    "rows": result.output.rows,
                    "sha256": result.output.provenance.sha256,
                },
            )
            row = _stored_row(session, area_id, OUTPUT, result.output.name)
            assert row is not None
            return QueryOutcome(object_of(row), result.table)
    except BaseException:
        shred(store, result.output.name, kind="outputs")
        raise


# --- destroy, rotate, retention ---------------------------------------------------------


def _destroy_row(
    session: Session, vault: Vault, login: str, row: VaultObjectRow, reason: str, action: str
) -> StoredObject:
    area = row.area.name
    store = vault.store(area)
    try:
        shredded = shred(store, row.name, kind=_STORE_KIND[row.kind])
        facts: dict[str, Any] = shredded.facts
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


def _rotate(session: Session, vault: Vault, login: str, area: str, area_id: int) -> Rotation:
    # The caller holds the area lock exclusively, taken before its transaction: the lock
    # order is always area lock, then database (an ingest holds its shared area lock
    # while it registers), so the two can never wait for each other.
    rotation = rotate_area_key(vault.store(area), vault.provider, locked=True)
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
    return rotation


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
        _check_manage(session, resolve_actor(session, login), area)
    with area_lock(vault.store(area), exclusive=True), tx() as session:
        actor = resolve_actor(session, login)
        area_id = _check_manage(session, actor, area)
        row = _stored_row(session, area_id, kind, name)
        if row is None:
            raise NotFoundError(
                f"area {area!r} stores no {kind} named {name!r}",
                hint="see `fivesafes dataset stored AREA`",
            )
        done = _destroy_row(session, vault, login, row, reason.strip(), f"{kind}.destroy")
        if rotate and vault.provider.key_ids(area):
            _rotate(session, vault, login, area, area_id)
        return done


def rotate_area_key_for(tx: Transact, vault: Vault, login: str, area: str) -> Rotation:
    """Re-wrap every data key of ``area`` under a new area key; destroy the old keys."""
    with tx() as session:
        _check_manage(session, resolve_actor(session, login), area)
    if not vault.provider.key_ids(area):
        raise NotFoundError(
            f"area {area!r} has no key yet", hint="it gets one with its first ingest"
        )
    with area_lock(vault.store(area), exclusive=True), tx() as session:
        actor = resolve_actor(session, login)
        area_id = _check_manage(session, actor, area)
        return _rotate(session, vault, login, area, area_id)


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
        with area_lock(vault.store(area), exclusive=True), tx() as session:
            area_id = area_row(session, area).id
            for row in session.scalars(_due(day).where(VaultObjectRow.area_id == area_id)):
                until = row.dataset.retention_until if row.dataset else None
                reason = f"retention period ended ({until})"
                done.append(
                    _destroy_row(session, vault, login, row, reason, "dataset.retention_destroy")
                )
            if vault.provider.key_ids(area):
                _rotate(session, vault, login, area, area_id)
            _reconcile(session, login, vault.store(area), area_id, locked=True)
    for area, area_id in all_areas:
        if area not in due_areas and vault.store(area).exists():
            with tx() as session:
                _reconcile(session, login, vault.store(area), area_id)
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


def open_dataset_ref(
    workspace: Any,
    ref: str,
    purpose: str = STATISTICAL,
    *,
    login: str | None = None,
    project_ref: str | None = None,
    columns: Sequence[str] | None = None,
) -> pa.Table:
    """Open ``AREA/NAME`` in ``workspace`` for the acting login (``table protect --dataset``)."""
    area, sep, name = ref.partition("/")
    if not sep or not area or not name or "/" in name:
        raise ValidationError(
            f"--dataset {ref!r} is not AREA/NAME", hint="e.g. --dataset earnings/ashe"
        )
    if login is None:
        from fivesafes.identity import current_login

        login = current_login(workspace)
    return open_dataset_for(
        workspace.transaction,
        Vault.of(workspace),
        login,
        area,
        name,
        purpose,
        project_ref=project_ref,
        columns=columns,
    )
