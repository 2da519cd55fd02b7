"""The releases of an area as the differencing check needs them: cells, source, verified;
and the figures approved in answers to requests (one-cell releases of their source).

See :mod:`fivesafes.release.differencing_scope` for why a declared source widens the
check to every source of the area.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.release.differencing_scope import EarlierRelease
from fivesafes.services.release.register import earlier_outputs
from fivesafes.services.requests.register import area_answers
from fivesafes.store.models.governance import AreaRow
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
        out.extend(area_answers(session, area.name))
    return out
