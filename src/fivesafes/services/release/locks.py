"""The locks that keep a check of the register and the act it allows together.

A publication (or an answer's figure) is checked against the register, then added to
it. Two at once must not both pass, each unseen by the other: so each takes, before its
check and until its commit, the locks of everything its check reads. An approving vote
takes them too (services/release/reviews.py): its checks must not run on a register
that a publication is about to change.

- A proven source's check reads its family (the parent and its derived datasets,
  release/families.py: a derived dataset's table differences against its parent's) and
  the releases of declared sources: it takes its **family's lock**, named by the root
  dataset (a dataset in no family is its own root), and the **area's lock shared**.
- A declared source's check reads every release of the area (differencing_scope.py):
  it takes the **area's lock exclusive**, which waits for every other publication of
  the area and holds them off until it commits.

Always in one order, the area's lock then the family's, so two transactions never each
hold what the other waits for. PostgreSQL: transaction-scoped advisory locks (freed at
commit or rollback), named with the schema so that two workspaces on one server do not
wait on each other. SQLite needs none: every transaction begins IMMEDIATE
(store/db.py), so writers run one at a time and a check always sees the last commit.
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from fivesafes.store.models.governance import DatasetRow

_SHARED = text("SELECT pg_advisory_xact_lock_shared(hashtext(current_schema() || :key))")
_EXCLUSIVE = text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || :key))")


def family_root(session: Session, area_id: int, source: str) -> str:
    """The dataset at the root of ``source``'s family (its parent, or itself); a source
    that names no dataset of the area stands for itself."""
    dataset = source.partition(":")[0]
    row = session.scalars(
        select(DatasetRow).where(DatasetRow.area_id == area_id, DatasetRow.name == dataset)
    ).one_or_none()
    if row is None:
        return source
    return row.derived_from.name if row.derived_from is not None else row.name


def lock_for_check(session: Session, area_id: int, source: str, *, verified: bool) -> None:
    """Hold, to the commit, the locks a check of an output of ``source`` needs (proven
    when ``verified``; declared otherwise): the area's (shared, or exclusive for a
    declared source), then the family's."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the write lock, taken at BEGIN IMMEDIATE, is held already
    area = f":fivesafes-register:area {area_id}"
    if not verified:
        session.execute(_EXCLUSIVE, {"key": area})
        return  # no other publication of the area runs: no family lock is needed
    session.execute(_SHARED, {"key": area})
    root = family_root(session, area_id, source)
    session.execute(_EXCLUSIVE, {"key": f":fivesafes-register:area {area_id} family {root}"})
