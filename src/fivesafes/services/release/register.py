"""The register of everything published: releases, their cells, and what re-auditing them needs.

Published (safe) cells are public and stored in plain text, one row per cell. The
hidden cells of a release (true value, status, required protection) are what the
differencing check must re-audit later; they are confidential, so they are sealed
under the area's key (``release.sealing``), never stored in plain text.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from fivesafes.release.sealing import seal, unseal
from fivesafes.release.submission import (
    FileSubmission,
    TableSubmission,
    hierarchy_from_pairs,
    hierarchy_pairs,
)
from fivesafes.sdc import LOWER, STATUS, UPPER, VALUE, Hierarchy, OutputTable, Status
from fivesafes.services.context import now
from fivesafes.services.vault.sealing import check_key_held
from fivesafes.store.models.release import (
    PublishedCellRow,
    PublishedReleaseRow,
    ReleaseRequestRow,
)
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
    provider: KeyProvider,
    area: str,
    release_id: str,
    table: OutputTable,
    *,
    every: bool = False,
    filters: Mapping[str, list[list[str | None]]] | None = None,
) -> tuple[bytes, str]:
    """Seal the release's hidden cells (codes, value, status, protection) under the area key.

    ``every``: a perturbed or rounded release seals every cell with its true value (its
    public cells in the register are the published values): later differencing checks
    assume the attacker knows the true values, which is stricter, never looser.
    ``filters``: the hierarchy (code, parent pairs) of each filter column with every value
    of the column, which the check needs and the plain register must not hold."""
    cells = table.cells
    hidden = cells if every else cells[cells[STATUS].astype(str) != Status.SAFE.value]
    cols = [*table.dimensions, VALUE, STATUS, *(c for c in (LOWER, UPPER) if c in cells)]
    records = hidden[cols].to_json(orient="records")
    if filters:
        records = f'{{"cells": {records}, "filters": {json.dumps(dict(filters))}}}'
    return seal(provider, area, hidden_object_id(release_id), records.encode())


def _unsealed_hidden(plain: bytes) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The hidden cells and the filter columns' whole hierarchies of a sealed payload (a
    release without a filter, or published before they were sealed, has none)."""
    loaded = json.loads(plain)
    if isinstance(loaded, dict):
        return pd.DataFrame(loaded["cells"]), dict(loaded.get("filters", {}))
    return pd.DataFrame(loaded), {}


def _split_filters(
    table: TableSubmission, view: OutputTable
) -> tuple[list[Hierarchy], dict[str, list[list[str | None]]]]:
    """The release's hierarchies as the plain register keeps them (a filter column's with
    only the values the filter keeps), and each filter column's whole hierarchy, to seal."""
    population = table.population
    if population is None:
        return list(view.hierarchies), {}
    public = [
        population.public_hierarchy(h.name) if h.name in population.where else h
        for h in view.hierarchies
    ]
    sealed = {h.name: hierarchy_pairs(h) for h in view.hierarchies if h.name in population.where}
    return public, sealed


def record_cells(session: Session, release: PublishedReleaseRow, table: OutputTable) -> int:
    """Add every published (safe) cell of ``table`` to the register; returns how many.

    ``table`` is the release as the differencing check sees it (a table of part of the
    units carries its filter as one more dimension: its cells record the population)."""
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


def register_release(
    session: Session,
    provider: KeyProvider,
    request: ReleaseRequestRow,
    submission: TableSubmission | FileSubmission,
    *,
    release_id: str,
    bundle_path: Path,
    manifest: dict[str, str],
    published_on: date,
    published_by: str,
    source_verified: bool = False,
) -> tuple[PublishedReleaseRow, int]:
    """Add a release and its published cells to the register (part of the publisher's audited
    write); returns the row and how many cells were recorded.

    ``source_verified``: the source was proven (else later checks of every source of the
    area include this release)."""
    table = submission if isinstance(submission, TableSubmission) else None
    # what later checks compare with: a table of part of the units with its filter
    view = table.output_table(release_id) if table is not None else None
    # a filter column's other values (every unit, for a filter on an identifier) are
    # sealed with the hidden cells; the plain register keeps the codes the filter selects
    shown, filters = _split_filters(table, view) if table and view else ([], {})
    # the register records what was published: a perturbed table's published values
    public = table.published_table(release_id) if table is not None else None
    perturbed = table is not None and table.perturbed
    published = PublishedReleaseRow(
        source_verified=source_verified,
        release_id=release_id,
        request_id=request.id,
        area_id=request.area_id,
        source=request.source,
        spec_hash=table.spec_hash if table else "",
        spec_json=json.dumps({"text": table.spec_text} if table else {}),
        hierarchies_json=json.dumps({h.name: hierarchy_pairs(h) for h in shown}),
        rule_set_id=request.rule_set_id,
        rule_parameters_json=json.dumps(dict(table.report.get("rules", {})) if table else {}),
        bundle_path=str(bundle_path),
        manifest_json=json.dumps(manifest, sort_keys=True),
        published_on=published_on,
        published_by=published_by,
        published_at=now(),
    )
    if view is not None:
        check_key_held(request.area.name)  # see services/vault/sealing.py
        published.sealed_hidden, published.wrapped_key_json = seal_hidden(
            provider, request.area.name, release_id, view, every=perturbed, filters=filters
        )
    session.add(published)
    session.flush()
    if public is None:
        return published, 0
    return published, record_cells(session, published, public)


def earlier_table_releases(session: Session, source: str) -> list[str]:
    """The ids of the table releases of ``source`` the differencing check combines, oldest first."""
    rows = session.scalars(
        select(PublishedReleaseRow)
        .where(PublishedReleaseRow.source == source)
        .order_by(PublishedReleaseRow.id)
    ).all()
    return [rel.release_id for rel in rows if json.loads(rel.hierarchies_json)]


def earlier_outputs(session: Session, provider: KeyProvider, source: str) -> list[OutputTable]:
    """Every release published from ``source``: its public cells and its unsealed hidden cells."""
    releases = [
        (rel, json.loads(rel.hierarchies_json))
        for rel in session.scalars(
            select(PublishedReleaseRow)
            .where(PublishedReleaseRow.source == source)
            .order_by(PublishedReleaseRow.id)
        ).all()
    ]
    releases = [(rel, pairs) for rel, pairs in releases if pairs]  # a file has no cells
    if not releases:
        return []
    dims = sorted({d for _, pairs in releases for d in pairs})
    pks, values, codes = _public_cells(session, source, dims)
    out = []
    for rel, pairs in releases:
        names = list(pairs)
        start, stop = np.searchsorted(pks, [rel.id, rel.id + 1])
        public = codes.slice(start, stop - start).select(names).to_pandas()
        public[VALUE] = values[start:stop]
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
            hidden, whole = _unsealed_hidden(plain)
            # the check relates a filter column's every value, sealed (not the plain list)
            pairs = {**pairs, **{n: p for n, p in whole.items() if n in pairs}}
            if len(hidden):
                for d in names:
                    hidden[d] = hidden[d].astype(str)
                if (hidden[STATUS].astype(str) == Status.SAFE.value).any():
                    # a perturbed release sealed every cell's true value (seal_hidden):
                    # the check assumes the attacker knows those, not the published ones
                    frames = []
                frames.append(hidden)
        hierarchies = tuple(hierarchy_from_pairs(name, p) for name, p in pairs.items())
        cells = pd.concat(frames, ignore_index=True)
        for col in (LOWER, UPPER):
            cells[col] = cells[col].fillna(0.0).astype(float) if col in cells else 0.0
        out.append(OutputTable(rel.release_id, hierarchies, cells))
    return out


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a million row tuples are made and dropped.

    Rows of ints, strings and floats cannot form cycles, but every 700 new tuples start a
    collection, and the full ones walk the whole heap: seconds per million rows.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# Rows fetched at a time: a bounded number of row tuples alive at once (not a million),
# many enough that the per-batch overhead does not show.
_BATCH = 50_000


def _public_cells(
    session: Session, source: str, dims: list[str]
) -> tuple[np.ndarray, np.ndarray, pa.Table]:
    """Every public cell of ``source`` in one query, grouped by release: release keys, values,
    and the codes as an Arrow table (one string column per dimension, null where absent)."""
    query = (
        select(PublishedCellRow.release_pk, PublishedCellRow.codes_json, PublishedCellRow.value)
        .where(PublishedCellRow.source == source)
        .order_by(PublishedCellRow.id)  # the source index's own order: no sort in the database
    )
    # A million cells: SQLAlchemy's Row objects would cost more than all the rest, so the
    # driver's plain tuples are read in batches, and the JSON codes are parsed in one go
    # by Arrow's (C++) reader rather than a million json.loads.
    pks: list[np.ndarray] = []
    values: list[np.ndarray] = []
    lines: list[str] = []
    with _collector_paused():
        result = session.connection().execute(query)
        try:
            cursor = result.cursor
            while batch := cursor.fetchmany(_BATCH):
                pk, code, value = zip(*batch, strict=True)
                pks.append(np.array(pk, dtype=np.int64))
                values.append(np.array(value, dtype=float))
                lines.append("\n".join(code))
        finally:
            result.close()
    schema = pa.schema([(d, pa.string()) for d in dims])
    if not lines:
        return np.zeros(0, np.int64), np.zeros(0), schema.empty_table()
    codes = pa_json.read_json(
        pa.py_buffer("\n".join(lines).encode()),
        parse_options=pa_json.ParseOptions(explicit_schema=schema),
    )
    # Grouped by release (stable: each release's cells keep their order).
    order = np.argsort(np.concatenate(pks), kind="stable")
    return (
        np.concatenate(pks)[order],
        np.concatenate(values)[order],
        codes.select(dims).take(pa.array(order)),
    )


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
