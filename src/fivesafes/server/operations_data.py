"""Operations on datasets and area queries: the register entries and what a query shows.

A query's result stays in the area (an encrypted output); what comes back is what the
area's row-level policy lets be shown (vault/row_level.py), never the whole table.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pydantic import Field

from fivesafes.app import App
from fivesafes.governance.areas import Dataset
from fivesafes.governance.grants import STATISTICAL
from fivesafes.server.acting import acting_as
from fivesafes.server.operation import Operation, Params, in_one, plain
from fivesafes.server.upload import UploadOperation
from fivesafes.services.governance import datasets as dataset_svc
from fivesafes.services.vault import lifecycle as vault_svc

Name = Field(min_length=1, max_length=64)


class DatasetAdd(Params):
    name: str = Name
    area: str = Name
    source: str = Field(min_length=1, max_length=2000)
    lawful_basis: str = Field(min_length=1, max_length=2000)
    identifiable: bool = True
    not_public: bool = True
    harmful: bool = True
    retention: date | None = None
    privacy_notice: str | None = Field(default=None, max_length=200)
    derived_from: str | None = Field(default=None, max_length=64)
    unit: str | None = Field(default=None, max_length=200)


class DatasetFilter(Params):
    area: str | None = Field(default=None, max_length=64)


class DatasetRef(Params):
    name: str = Name


class Ingest(Params):
    area: str = Name
    name: str = Name
    fmt: str | None = Field(default=None, pattern="^(csv|parquet)$")
    types: dict[str, str] = Field(default_factory=dict, max_length=10_000)
    pseudonymise: list[str] = Field(default_factory=list, max_length=1000)


class Query(Params):
    area: str = Name
    sql: str = Field(min_length=1, max_length=100_000)
    purpose: str = Field(default=STATISTICAL, min_length=1, max_length=64)
    project: str | None = Field(default=None, max_length=64)
    show: int = Field(default=20, ge=0, le=100_000)
    memory_limit: str | None = Field(default=None, max_length=16, pattern=r"^[0-9.]+ ?[KMGT]i?B$")


def dataset_entry(d: Dataset) -> dict[str, Any]:
    """A register entry as JSON, with whether it is confidential (a derived fact)."""
    entry: dict[str, Any] = plain(d)
    return entry | {"confidential": d.confidential}


def _add(app: App, login: str, p: DatasetAdd) -> Any:
    entry = Dataset(
        name=p.name,
        area=p.area,
        identifiable=p.identifiable,
        not_public=p.not_public,
        harmful=p.harmful,
        source=p.source,
        lawful_basis=p.lawful_basis,
        retention_until=p.retention,
        privacy_notice=p.privacy_notice,
        derived_from=p.derived_from,
        unit=p.unit,
    )
    return in_one(
        app,
        login,
        lambda a: dataset_entry(dataset_svc.register_dataset(a.session, a.actor, entry)),
    )


def _list(app: App, login: str, p: DatasetFilter) -> Any:
    return in_one(
        app,
        login,
        lambda a: [dataset_entry(d) for d in dataset_svc.list_datasets(a.session, p.area)],
    )


def _show(app: App, login: str, p: DatasetRef) -> Any:
    return in_one(app, login, lambda a: dataset_entry(dataset_svc.get_dataset(a.session, p.name)))


def _query(app: App, login: str, p: Query) -> Any:
    # query_area_for resolves the login itself: an unknown login's attempt is audited
    out = vault_svc.query_area_for(
        app.transaction,
        app.vault(),
        login,
        p.area,
        p.sql,
        p.purpose,
        project_ref=p.project,
        memory_limit=p.memory_limit,
        show=p.show,
    )
    seen = out.shown
    return {
        "output": plain(out.output),
        "shown": {
            "columns": list(seen.columns),
            "rows": [list(r) for r in seen.rows],
            "total_rows": seen.total_rows,
            "summary": seen.summary,
            "withheld": seen.withheld,
            "sha256": seen.sha256,
        },
    }


def _ingest(app: App, login: str, p: Ingest, path: Path) -> Any:
    stored = vault_svc.ingest_dataset(
        app.transaction,
        app.vault(),
        login,
        p.area,
        path,
        name=p.name,
        fmt=p.fmt,
        column_types=dict(p.types) or None,
        pseudonymise=tuple(p.pseudonymise),
    )
    return plain(stored)


class StoredFilter(Params):
    area: str | None = Field(default=None, max_length=64)
    include_destroyed: bool = False


class Destroy(Params):
    area: str = Name
    name: str = Name
    reason: str = Field(min_length=1, max_length=2000)
    output: bool = False  # NAME is an analysis output, not a dataset


class AreaKey(Params):
    area: str = Name


class Retention(Params):
    on: date | None = None


def _stored(app: App, login: str, p: StoredFilter) -> Any:
    with acting_as(app, login):
        pass  # a registered, active person (refusal audited), as every operation
    return plain(
        vault_svc.list_stored(app.transaction, p.area, include_destroyed=p.include_destroyed)
    )


def _destroy(app: App, login: str, p: Destroy) -> Any:
    kind = vault_svc.OUTPUT if p.output else vault_svc.DATASET
    gone = vault_svc.destroy_dataset(
        app.transaction, app.vault(), login, p.area, p.name, p.reason, kind=kind
    )
    return plain(gone)


def _rotate(app: App, login: str, p: AreaKey) -> Any:
    return plain(vault_svc.rotate_area_key_for(app.transaction, app.vault(), login, p.area))


def _retention(app: App, login: str, p: Retention) -> Any:
    return plain(vault_svc.run_retention(app.transaction, app.vault(), login, p.on))


DATA_UPLOADS = (
    UploadOperation("dataset.ingest", Ingest, _ingest, "Encrypt the file sent into an area."),
)

DATA_OPERATIONS = (
    Operation("dataset.add", DatasetAdd, _add, "Register a dataset (asset owner, admins)."),
    Operation("dataset.list", DatasetFilter, _list, "Registered datasets."),
    Operation("dataset.show", DatasetRef, _show, "One dataset's register entry."),
    Operation("dataset.stored", StoredFilter, _stored, "Encrypted datasets and outputs."),
    Operation("dataset.destroy", Destroy, _destroy, "Crypto-shred stored data (owner, admins)."),
    Operation("area.rotate_key", AreaKey, _rotate, "Re-wrap an area's data keys (owner)."),
    Operation("retention.run", Retention, _retention, "Shred data past retention (admins)."),
    Operation("query", Query, _query, "Run one SELECT in an area; shows what its policy allows."),
)
