"""The dataset register (names, areas and the facts that make data confidential)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import ConflictError, ValidationError
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
        derived_from=row.derived_from.name if row.derived_from is not None else None,
        unit=row.unit_column,
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
    parent = _parent_row(session, dataset)
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
            derived_from_id=parent.id if parent is not None else None,
            unit_column=dataset.unit.strip() if dataset.unit else None,
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
            "derived_from": dataset.derived_from,
            "unit": dataset.unit,
        },
    )
    return dataset


def _parent_row(session: Session, dataset: Dataset) -> DatasetRow | None:
    """The registered parent of a derived ``dataset`` (in its area, not itself derived)."""
    if dataset.derived_from is None:
        return None
    parent = dataset_row(session, dataset.derived_from)
    if parent.area.name != dataset.area:
        raise ValidationError(
            f"dataset {dataset.derived_from!r} is in area {parent.area.name!r}, not "
            f"{dataset.area!r}: a derived dataset must be in its parent's area",
            hint="register it in the parent's area (its units are the parent's, under the "
            "same protection)",
        )
    if parent.derived_from_id is not None:
        raise ValidationError(
            f"dataset {dataset.derived_from!r} is itself derived from "
            f"{parent.derived_from.name if parent.derived_from else '?'!r}",
            hint="derive from the dataset of all the units (one level: parent and children)",
        )
    if parent.unit_column is not None and parent.unit_column != dataset.unit:
        raise ValidationError(
            f"the datasets derived from {dataset.derived_from!r} name their unit by "
            f"{parent.unit_column!r}, not {dataset.unit!r}",
            hint=f"use --unit {parent.unit_column}",
        )
    if parent.unit_column is None:
        parent.unit_column = dataset.unit  # the family's unit identifier, fixed by its first child
    return parent


def list_datasets(session: Session, area: str | None = None) -> list[Dataset]:
    """Every registered dataset (optionally of one area), by name."""
    query = select(DatasetRow).order_by(DatasetRow.name)
    if area is not None:
        query = query.where(DatasetRow.area_id == area_row(session, area).id)
    return [dataset_of(r) for r in session.scalars(query)]


def get_dataset(session: Session, name: str) -> Dataset:
    """The registered dataset called ``name`` (NotFoundError otherwise)."""
    return dataset_of(dataset_row(session, name))
