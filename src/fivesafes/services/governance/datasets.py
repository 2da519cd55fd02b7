"""The dataset register (names, areas and the facts that make data confidential)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import ConflictError
from fivesafes.governance import permissions
from fivesafes.governance.areas import Dataset, validate_dataset
from fivesafes.services.context import Actor, now, record, today_or
from fivesafes.services.governance.areas import area_of
from fivesafes.services.governance.lookup import area_row, dataset_row
from fivesafes.store.models.governance import DatasetRow


def dataset_of(row: DatasetRow) -> Dataset:
    """Return the domain view of a dataset row."""
    return Dataset(
        name=row.name,
        area=row.area.name,
        identifiable=row.identifiable,
        not_public=row.not_public,
        harmful=row.harmful,
        source=row.source,
        lawful_basis=row.lawful_basis,
        retention_until=row.retention_until,
        privacy_notice=row.privacy_notice,
    )


def register_dataset(
    session: Session, actor: Actor, dataset: Dataset, today: date | None = None
) -> Dataset:
    """Register ``dataset`` in its area (the area's asset owner or an administrator)."""
    area = area_row(session, dataset.area)
    permissions.check_register_dataset(actor.person, area_of(area))
    validate_dataset(dataset, today_or(today))
    if session.scalars(select(DatasetRow.id).where(DatasetRow.name == dataset.name)).first():
        raise ConflictError(
            f"dataset {dataset.name!r} is already registered", hint="see `fivesafes dataset list`"
        )
    session.add(
        DatasetRow(
            name=dataset.name,
            area_id=area.id,
            identifiable=dataset.identifiable,
            not_public=dataset.not_public,
            harmful=dataset.harmful,
            source=dataset.source.strip(),
            lawful_basis=dataset.lawful_basis.strip(),
            retention_until=dataset.retention_until,
            privacy_notice=dataset.privacy_notice,
            registered_at=now(),
            registered_by=actor.login,
        )
    )
    session.flush()
    record(
        session,
        actor.login,
        "dataset.register",
        area=dataset.area,
        dataset=dataset.name,
        details={
            "confidential": dataset.confidential,
            "lawful_basis": dataset.lawful_basis,
            "retention_until": (
                dataset.retention_until.isoformat() if dataset.retention_until else None
            ),
        },
    )
    return dataset


def list_datasets(session: Session, area: str | None = None) -> list[Dataset]:
    """Every registered dataset (optionally of one area), by name."""
    query = select(DatasetRow).order_by(DatasetRow.name)
    if area is not None:
        query = query.where(DatasetRow.area_id == area_row(session, area).id)
    return [dataset_of(r) for r in session.scalars(query)]


def get_dataset(session: Session, name: str) -> Dataset:
    """The registered dataset called ``name`` (NotFoundError otherwise)."""
    return dataset_of(dataset_row(session, name))
