"""The end of a case's retention period: what it kept about people is shredded.

Two things: the requester's details (sealed in the case's row, ``requester.shred_expired``)
and, for a subject access request, the subject's records found in the areas (sealed in
``areas/<requests area>/subject-access/case-N.json``, the data key wrapped inside the
file). Both are recorded and audited in one transaction first; the files are shredded
after it commits. A file that outlives a failure here is found again on the next run,
because what is due is decided by the file's presence, not by a flag.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.requests.kinds import RequestKind
from fivesafes.services.context import record, resolve_actor, today_or
from fivesafes.services.requests import requester
from fivesafes.services.requests.subject import records_path
from fivesafes.services.vault.register import Vault
from fivesafes.store.models.requests import RequestCaseRow
from fivesafes.vault.area_lock import area_lock
from fivesafes.vault.shred import shred_file

Transact = Callable[[], AbstractContextManager[Session]]
SUBJECT_SHRED = "request.subject_shred"


@dataclass(frozen=True)
class Shredding:
    """The cases whose requester details and whose subject records were shredded."""

    requesters: tuple[int, ...]
    subject_records: tuple[int, ...]


def shred_expired_records(
    tx: Transact, vault: Vault, login: str, today: date | None = None
) -> Shredding:
    """Shred everything kept about people for cases past their retention (audited)."""
    day = today_or(today)
    with tx() as session:
        actor = resolve_actor(session, login)
        requesters = requester.shred_expired(session, actor, day)  # checks the role
        due = session.scalars(
            select(RequestCaseRow)
            .where(RequestCaseRow.kind == RequestKind.SAR.value)
            .where(RequestCaseRow.retain_until.is_not(None))
            .where(RequestCaseRow.retain_until < day)
            .order_by(RequestCaseRow.id)
        ).all()
        doomed = [(row.id, row.area, records_path(vault, row.area, row.id)) for row in due]
        doomed = [(case_id, area, path) for case_id, area, path in doomed if path.is_file()]
        for case_id, _, _ in doomed:
            row = session.get(RequestCaseRow, case_id)
            assert row is not None and row.retain_until is not None
            record(
                session,
                login,
                SUBJECT_SHRED,
                area=row.area,
                subject=str(case_id),
                details={"retain_until": row.retain_until.isoformat()},
            )
    # After the record is committed: a crash here leaves the file, found again next run.
    # Under the area lock (shared): a rotation re-wrapping the file meanwhile would write
    # it back after its shredding.
    shredded = tuple(case_id for case_id, area, path in doomed if _shred(vault, area, path))
    return Shredding(tuple(requesters), shredded)


def _shred(vault: Vault, area: str, path: Path) -> bool:
    with area_lock(vault.store(area), exclusive=False):
        return shred_file(path)
