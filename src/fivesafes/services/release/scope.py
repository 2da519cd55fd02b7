"""The releases of an area as the differencing check needs them: cells, source, verified;
and the figures approved in answers to requests (one-cell releases of their source).

See :mod:`fivesafes.release.differencing_scope` for why a declared source widens the
check to every source of the area.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.release.differencing_scope import EarlierRelease
from fivesafes.release.families import Family
from fivesafes.services.release.register import earlier_outputs
from fivesafes.services.requests.register import area_answers
from fivesafes.store.models.governance import AreaRow, DatasetRow
from fivesafes.store.models.release import PublishedReleaseRow
from fivesafes.vault.keys import KeyProvider


def area_releases(session: Session, provider: KeyProvider, area_id: int) -> list[EarlierRelease]:
    """Every release published from ``area_id``, oldest first within each source."""
    rows = session.execute(
        select(
            PublishedReleaseRow.release_id,
            PublishedReleaseRow.source,
            PublishedReleaseRow.source_verified,
        ).where(PublishedReleaseRow.area_id == area_id)
    ).all()
    verified = {release_id: bool(v) for release_id, _, v in rows}
    out: list[EarlierRelease] = []
    for source in sorted({source for _, source, _ in rows}):
        for table in earlier_outputs(session, provider, source):
            if table.label in verified:  # a source of the same name in another area: not ours
                out.append(EarlierRelease(table, source, verified[table.label]))
    # Approved answers to requests are published too (issue 17): a later release or
    # answer must not difference against them.
    area = session.get(AreaRow, area_id)
    if area is not None:
        out.extend(area_answers(session, provider, area.name))
    return out


def area_families(session: Session, area_id: int) -> list[Family]:
    """Every family of datasets of ``area_id`` whose membership patterns are known."""
    parents = session.scalars(
        select(DatasetRow).where(
            DatasetRow.area_id == area_id, DatasetRow.membership_json.is_not(None)
        )
    ).all()
    out = []
    for parent in parents:
        children = session.scalars(
            select(DatasetRow.name).where(DatasetRow.derived_from_id == parent.id)
        ).all()
        patterns = tuple(tuple(p) for p in json.loads(parent.membership_json or "[]"))
        out.append(Family(parent.name, tuple(sorted(children)), patterns))
    return out
