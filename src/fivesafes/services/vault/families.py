"""A family of datasets (a parent and the datasets derived from it): its membership patterns.

Computed inside the area when the parent or a derived dataset is ingested: the unit
column of each stored member is decrypted in memory through the vault reader (never
written in plain text), and only the patterns that hold units are kept on the parent's
register row (labels, no counts, no ids). The differencing check reads them back
(``services.release.scope.area_families``) to check the family's releases together.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import ConflictError, ValidationError
from fivesafes.services.context import record
from fivesafes.services.vault.register import DATASET, stored_row
from fivesafes.store.models.governance import DatasetRow
from fivesafes.vault import AreaStore
from fivesafes.vault.keys import KeyProvider
from fivesafes.vault.membership import Pattern, members_kept, membership_patterns
from fivesafes.vault.reader import open_table


@dataclass(frozen=True)
class FamilyPlan:
    """What an ingest must read to compute its family's patterns (gathered before it)."""

    parent: str
    unit: str
    derived: tuple[str, ...]  # the stored derived datasets, with the one being ingested
    parent_stored: bool
    # the family's current patterns: every member they place must be read again
    previous: tuple[Pattern, ...] = ()


def plan_for(session: Session, row: DatasetRow) -> FamilyPlan | None:
    """The family the dataset of ``row`` belongs to, with its stored members; None if none."""
    parent = row.derived_from if row.derived_from is not None else row
    if parent.unit_column is None:
        return None  # no dataset is derived from it
    children = session.scalars(
        select(DatasetRow).where(DatasetRow.derived_from_id == parent.id).order_by(DatasetRow.name)
    ).all()
    if not children:
        return None  # it names its unit (for its record keys), but nothing is derived from it
    stored = tuple(
        c.name
        for c in children
        if c.id == row.id or stored_row(session, c.area_id, DATASET, c.name) is not None
    )
    parent_stored = parent.id == row.id or (
        stored_row(session, parent.area_id, DATASET, parent.name) is not None
    )
    previous = tuple(tuple(p) for p in json.loads(parent.membership_json or "[]"))
    return FamilyPlan(parent.name, parent.unit_column, stored, parent_stored, previous)


def _units(store: AreaStore, provider: KeyProvider, name: str, unit: str) -> pa.ChunkedArray:
    """The unit column of stored dataset ``name``, decrypted in memory."""
    try:
        return open_table(store, provider, name, columns=[unit]).column(unit)
    except (KeyError, ValueError, pa.ArrowException) as exc:
        raise ValidationError(
            f"dataset {name!r} has no column {unit!r}, the unit identifier of its family",
            hint="a parent and its derived datasets must all name their units in that column",
        ) from exc


def compute_patterns(store: AreaStore, provider: KeyProvider, plan: FamilyPlan) -> list[Pattern]:
    """The family's patterns; raises when a derived dataset holds units that the parent
    does not, the parent has no stored data to check that against, or a member that the
    current patterns place is no longer stored (deny by default)."""
    members_kept(plan.parent, plan.previous, plan.derived)
    if not plan.parent_stored:
        raise ValidationError(
            f"dataset {plan.parent!r}, the parent of {list(plan.derived)}, has no stored data: "
            "a derived dataset's units cannot be checked against it",
            hint=f"ingest {plan.parent!r} first, then its derived datasets",
        )
    parent = _units(store, provider, plan.parent, plan.unit)
    derived = {d: _units(store, provider, d, plan.unit) for d in plan.derived}
    return membership_patterns(plan.parent, parent, derived)


def store_patterns(
    session: Session, login: str, area: str, plan: FamilyPlan, patterns: Sequence[Pattern]
) -> None:
    """Keep the patterns on the parent's row; audited in the caller's transaction.

    Refused (ConflictError) if the family's stored members changed since ``plan`` (another
    member ingested meanwhile): patterns that miss a member would leave it unlinked."""
    # the parent's row locked (PostgreSQL; SQLite has one writer): members serialise here
    session.execute(
        select(DatasetRow.id).where(DatasetRow.name == plan.parent).with_for_update()
    ).one()
    parent = session.scalars(select(DatasetRow).where(DatasetRow.name == plan.parent)).one()
    now_stored = tuple(
        c.name
        for c in session.scalars(
            select(DatasetRow)
            .where(DatasetRow.derived_from_id == parent.id)
            .order_by(DatasetRow.name)
        )
        if stored_row(session, c.area_id, DATASET, c.name) is not None
    )
    if now_stored != plan.derived:
        raise ConflictError(
            f"the datasets of the family of {plan.parent!r} changed while this one was "
            f"ingested ({list(now_stored)}, not {list(plan.derived)})",
            hint="ingest it again: its units must be checked with every stored member",
        )
    parent.membership_json = json.dumps([list(p) for p in patterns])
    record(
        session,
        login,
        "dataset.membership",
        area=area,
        dataset=plan.parent,
        details={"unit": plan.unit, "derived": list(plan.derived), "patterns": len(patterns)},
    )
