"""The register of everything published: releases, their cells, and what re-auditing them needs.

Published (safe) cells are public and stored in plain text, one row per cell. The
hidden cells of a release (true value, status, required protection) are what the
differencing check must re-audit later; they are confidential, so they are sealed
under the area's key (``release.sealing``), never stored in plain text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from fivesafes.release.sealing import seal, unseal
from fivesafes.release.submission import TableSubmission, hierarchy_from_pairs
from fivesafes.sdc.cells import LOWER, STATUS, UPPER, VALUE, Status
from fivesafes.sdc.differencing import OutputTable
from fivesafes.store.models.release import PublishedCellRow, PublishedReleaseRow
from fivesafes.vault.keys import KeyProvider


@dataclass(frozen=True)
class PublishedRelease:
    """A published release as the register shows it."""

    release_id: str
    request_id: int
    area: str
    source: str
    spec_hash: str
    rule_parameters: dict[str, Any]
    bundle_path: str
    manifest: dict[str, str]
    published_on: date
    published_by: str
    cells: int


def published_of(row: PublishedReleaseRow, cells: int) -> PublishedRelease:
    """The register's view of a published release row."""
    return PublishedRelease(
        release_id=row.release_id,
        request_id=row.request_id,
        area=row.area.name,
        source=row.source,
        spec_hash=row.spec_hash,
        rule_parameters=json.loads(row.rule_parameters_json),
        bundle_path=row.bundle_path,
        manifest=json.loads(row.manifest_json),
        published_on=row.published_on,
        published_by=row.published_by,
        cells=cells,
    )


def hidden_object_id(release_id: str) -> str:
    """The id that binds a release's sealed hidden cells to it."""
    return f"published/{release_id}/hidden"


def seal_hidden(
    provider: KeyProvider, area: str, release_id: str, table: TableSubmission
) -> tuple[bytes, str]:
    """Seal the release's hidden cells (codes, value, status, protection) under the area key."""
    cells = table.cells
    hidden = cells[cells[STATUS].astype(str) != Status.SAFE.value]
    cols = [*table.dimensions, VALUE, STATUS, *(c for c in (LOWER, UPPER) if c in cells)]
    payload = hidden[cols].to_json(orient="records").encode()
    return seal(provider, area, hidden_object_id(release_id), payload)


def record_cells(session: Session, release: PublishedReleaseRow, table: TableSubmission) -> int:
    """Add every published (safe) cell of ``table`` to the register; returns how many."""
    cells = table.cells
    safe = cells[cells[STATUS].astype(str) == Status.SAFE.value]
    dims = list(table.dimensions)
    codes = safe[dims].astype(str).to_dict("records")
    rows = [
        {
            "release_pk": release.id,
            "source": release.source,
            "spec_hash": release.spec_hash,
            "published_on": release.published_on,
            "codes_json": json.dumps(c, sort_keys=True),
            "value": float(v),
        }
        for c, v in zip(codes, safe[VALUE].to_numpy(dtype=float), strict=True)
    ]
    if rows:
        session.execute(insert(PublishedCellRow), rows)
    return len(rows)


def earlier_outputs(session: Session, provider: KeyProvider, source: str) -> list[OutputTable]:
    """Every release published from ``source``: its public cells and its unsealed hidden cells."""
    out = []
    releases = session.scalars(
        select(PublishedReleaseRow)
        .where(PublishedReleaseRow.source == source)
        .order_by(PublishedReleaseRow.id)
    ).all()
    for rel in releases:
        pairs = json.loads(rel.hierarchies_json)
        if not pairs:  # a published file: no cells to combine
            continue
        hierarchies = tuple(hierarchy_from_pairs(name, p) for name, p in pairs.items())
        dims = [h.name for h in hierarchies]
        # Core rows and one json.loads over all codes: a million cells load in seconds.
        result = (
            session.connection()
            .execute(
                select(PublishedCellRow.codes_json, PublishedCellRow.value).where(
                    PublishedCellRow.release_pk == rel.id
                )
            )
            .all()
        )
        codes = json.loads("[" + ",".join(c for c, _ in result) + "]")
        public = pd.DataFrame.from_records(codes, columns=dims)
        public[VALUE] = np.fromiter((v for _, v in result), dtype=float, count=len(result))
        public[STATUS] = Status.SAFE.value
        frames = [public]
        if rel.sealed_hidden is not None and rel.wrapped_key_json is not None:
            plain = unseal(
                provider,
                rel.area.name,
                hidden_object_id(rel.release_id),
                rel.sealed_hidden,
                rel.wrapped_key_json,
            )
            hidden = pd.DataFrame(json.loads(plain))
            if len(hidden):
                for d in dims:
                    hidden[d] = hidden[d].astype(str)
                frames.append(hidden)
        cells = pd.concat(frames, ignore_index=True)
        for col in (LOWER, UPPER):
            cells[col] = cells[col].fillna(0.0).astype(float) if col in cells else 0.0
        out.append(OutputTable(rel.release_id, hierarchies, cells))
    return out


def list_published(session: Session, source: str | None = None) -> list[PublishedRelease]:
    """Published releases, oldest first, optionally of one source."""
    query = select(PublishedReleaseRow).order_by(PublishedReleaseRow.id)
    if source is not None:
        query = query.where(PublishedReleaseRow.source == source)
    out = []
    for row in session.scalars(query).all():
        count = session.scalar(
            select(func.count())
            .select_from(PublishedCellRow)
            .where(PublishedCellRow.release_pk == row.id)
        )
        out.append(published_of(row, int(count or 0)))
    return out


def published_cells(session: Session, source: str) -> pd.DataFrame:
    """Every published cell of ``source``: release, date, codes (JSON), value."""
    rows = session.execute(
        select(
            PublishedReleaseRow.release_id,
            PublishedCellRow.published_on,
            PublishedCellRow.codes_json,
            PublishedCellRow.value,
        )
        .join(PublishedReleaseRow, PublishedReleaseRow.id == PublishedCellRow.release_pk)
        .where(PublishedCellRow.source == source)
        .order_by(PublishedCellRow.id)
    ).all()
    return pd.DataFrame(rows, columns=["release", "published_on", "codes", "value"])
