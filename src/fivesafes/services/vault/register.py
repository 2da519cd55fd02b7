"""The vault register's shared parts: where stores and keys live, the register view of
an object, and reconciling an area store with the register (see services/vault/lifecycle.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.governance import permissions
from fivesafes.services.context import Actor, record
from fivesafes.services.governance.areas import area_of
from fivesafes.services.governance.lookup import area_row
from fivesafes.services.vault.key_sweep import sweep_retired_keys
from fivesafes.store.models.vault import VaultObjectRow
from fivesafes.vault import (
    AreaStore,
    KeyProvider,
    Manifest,
    shred,
)
from fivesafes.vault.area_lock import area_lock
from fivesafes.vault.row_level import Shown
from fivesafes.workspace.keys import area_key_provider

Transact = Callable[[], AbstractContextManager[Session]]

STORED = "stored"
DESTROYED = "destroyed"
DATASET = "dataset"
OUTPUT = "output"
STORE_KIND = {DATASET: "datasets", OUTPUT: "outputs"}


@dataclass(frozen=True)
class Vault:
    """Where the area stores live and who holds the area keys."""

    areas_dir: Path
    provider: KeyProvider
    # What one query or tabulation over an area's data may use (nothing spills to disk).
    memory_limit: str | None = None

    @classmethod
    def of(
        cls,
        workspace: Any,
        provider: KeyProvider | None = None,
        *,
        ask_passphrase: Callable[[], str] | None = None,
        area_passphrases: Mapping[str, str] | None = None,
    ) -> Vault:
        """The workspace's vault: stores in ``areas/``, area keys (or salts) in ``keys/areas/``.

        The provider is the workspace's ``key_provider`` setting; ``ask_passphrase``
        (a prompt, for commands run in a terminal) is used when the passphrase is not in
        FIVESAFES_KEY_PASSPHRASE.
        """
        if provider is None:
            provider = area_key_provider(
                workspace.keys_dir / "areas",
                str(workspace.setting("key_provider")),
                ask=ask_passphrase,
                per_area=area_passphrases,
                setting=workspace.setting,
            )
        return cls(workspace.areas_dir, provider, str(workspace.setting("engine_memory_limit")))

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
    # What the person who stored it must know (e.g. missing values per column).
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryOutcome:
    """A query's stored (encrypted) output and its result, in memory only."""

    output: StoredObject
    table: pa.Table  # the whole result: it stays in the server's process
    shown: Shown  # what may be shown outside the area (vault/row_level.py)


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


def stored_row(session: Session, area_id: int, kind: str, name: str) -> VaultObjectRow | None:
    """The register row of a stored (not destroyed) object, or None."""
    return session.scalars(
        select(VaultObjectRow).where(
            VaultObjectRow.area_id == area_id,
            VaultObjectRow.kind == kind,
            VaultObjectRow.name == name,
            VaultObjectRow.state == STORED,
        )
    ).one_or_none()


def check_manage(session: Session, actor: Actor, area: str) -> int:
    """The area's id, if the actor may manage its data (its asset owner or an admin)."""
    row = area_row(session, area)
    permissions.check_register_dataset(actor.person, area_of(row))
    return row.id


def reconcile(
    session: Session,
    login: str,
    store: AreaStore,
    area_id: int,
    *,
    locked: bool = False,
    provider: KeyProvider | None = None,
) -> list[str]:
    """The area's sweep: shred objects on disk that the register does not know as stored
    (an ingest killed after its files were complete but before its registration
    committed; a destroy killed after its commit, before its files were shredded); then,
    given the ``provider``, destroy the old area keys a committed rotation retired but a
    kill left (key_sweep). Each audited."""
    if locked:
        return _reconcile_alone(session, login, store, area_id, provider)
    with area_lock(store, exclusive=True, wait=False) as alone:
        # Another process writing here may hold a complete object whose registration is
        # about to commit: reconcile only when nobody else holds the area lock.
        return _reconcile_alone(session, login, store, area_id, provider) if alone else []


def _reconcile_alone(
    session: Session, login: str, store: AreaStore, area_id: int, provider: KeyProvider | None
) -> list[str]:
    shredded = _shred_orphans(session, login, store, area_id)
    if provider is not None:  # after the orphans: their manifests name the keys they need
        sweep_retired_keys(session, login, provider, store, area_id)
    return shredded


def _shred_orphans(session: Session, login: str, store: AreaStore, area_id: int) -> list[str]:
    store.sweep_staging()
    shredded = []
    for kind, store_kind in STORE_KIND.items():
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


def ensure_area_key(session: Session, actor: Actor, vault: Vault, area: str) -> AreaStore:
    """The area's store, created and reconciled, with a key made if it has none (audited)."""
    store = vault.store(area)
    store.create()
    reconcile(session, actor.login, store, area_row(session, area).id, provider=vault.provider)
    if not vault.provider.key_ids(area):
        key_id = vault.provider.create_key(area)
        record(session, actor.login, "area.key_create", area=area, details={"key_id": key_id})
    return store


def row_from_manifest(
    area_id: int, kind: str, manifest: Manifest, dataset_id: int | None
) -> VaultObjectRow:
    """A new register row for an object written with ``manifest``."""
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


def provenance_details(manifest: Manifest) -> dict[str, Any]:
    """The audit details that describe an object's provenance."""
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
        **{
            k: manifest.extra[k] for k in ("pseudonymised", "missing_values") if k in manifest.extra
        },
    }
