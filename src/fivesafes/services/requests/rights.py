"""Erasure and rectification of a data subject's records, carried out where the law allows.

A subject access case's officer asks; the system finds the subject's rows as the subject
search does (pseudonymised identifier columns through each area's pseudonym key, named
columns as written) and, dataset by dataset:

- refuses where the dataset's lawful basis takes it out of the right (statistics,
  research, archiving: ``requests.erasure``), recording the reason;
- otherwise writes a new version of the encrypted dataset without the rows (erasure) or
  with the named columns replaced in them (rectification), under a new data key, swapped
  in by rename; the old version is crypto-shredded once the change is recorded
  (``vault.rewrite``) and the area key rotated, as ``dataset destroy`` does.

The record is one audit event per request (``request.erase`` / ``request.rectify``):
per dataset the rows concerned, done or the reason refused, and for rectification the
columns changed. Never the identifier, never a value. If recording fails, every new
version is shredded and the old ones put back.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import ValidationError
from fivesafes.requests.erasure import SubjectRight, refusal_reason
from fivesafes.services.context import record
from fivesafes.services.requests.subject import sar_areas, subject_datasets, subject_mask
from fivesafes.services.vault.register import DATASET, Vault, stored_row
from fivesafes.services.vault.rotation import retire_keys, rotate_keys
from fivesafes.services.vault.sealing import key_held_for_sealing
from fivesafes.store.models.governance import AreaRow, DatasetRow
from fivesafes.vault.area_lock import area_lock
from fivesafes.vault.reader import open_table
from fivesafes.vault.rewrite import Rewrite, rewrite_dataset

Transact = Callable[[], AbstractContextManager[Session]]
EVENTS = {SubjectRight.ERASURE: "request.erase", SubjectRight.RECTIFICATION: "request.rectify"}


@dataclass(frozen=True)
class RightOutcome:
    """What one dataset gave: the subject's rows, and whether the right was carried out."""

    area: str
    dataset: str
    rows: int
    done: bool
    reason: str | None  # why not, when refused


def erase_subject(
    tx: Transact,
    vault: Vault,
    login: str,
    case_id: int,
    identifier: str,
    *,
    columns: Sequence[str] = (),
    today: date | None = None,
) -> tuple[RightOutcome, ...]:
    """Erase the subject's rows from every dataset whose lawful basis allows it (audited)."""
    return _carry_out(
        tx, vault, login, case_id, identifier, SubjectRight.ERASURE, {}, columns, today
    )


def rectify_subject(
    tx: Transact,
    vault: Vault,
    login: str,
    case_id: int,
    identifier: str,
    values: Mapping[str, str],
    *,
    columns: Sequence[str] = (),
    today: date | None = None,
) -> tuple[RightOutcome, ...]:
    """Replace ``values`` {column: new value} in the subject's rows, where allowed (audited)."""
    if not values:
        raise ValidationError(
            "rectification needs the corrected values",
            hint="give --set COLUMN=VALUE (repeatable)",
        )
    return _carry_out(
        tx, vault, login, case_id, identifier, SubjectRight.RECTIFICATION, values, columns, today
    )


def _carry_out(
    tx: Transact,
    vault: Vault,
    login: str,
    case_id: int,
    identifier: str,
    right: SubjectRight,
    values: Mapping[str, str],
    columns: Sequence[str],
    today: date | None,
) -> tuple[RightOutcome, ...]:
    if not identifier.strip():
        raise ValidationError("the subject's identifier is empty", hint="give --identifier")
    requests_area, areas = sar_areas(
        tx,
        login,
        case_id,
        today,
        doing=f"{right.value} is carried out",
        sar_only=f"{right.value} is a data subject's right, asked for in a subject access case",
        checked_for=right.value,
    )
    with tx() as session:
        bases = {
            (area, name): basis
            for area, name, basis in session.execute(
                select(AreaRow.name, DatasetRow.name, DatasetRow.lawful_basis).join(
                    AreaRow, DatasetRow.area_id == AreaRow.id
                )
            )
        }
    stored_areas = [a for a in areas if vault.store(a).exists()]
    with _one_at_a_time(vault, requests_area), ExitStack() as held:
        # Each new version's data key is wrapped under its area's key and the register
        # records that key: a rotation between the two (or between the write and the swap)
        # re-wraps or sweeps the new object, then this writes back a manifest and a key id
        # under the key the rotation destroys. Held from before the first read to the
        # record's commit, in one order (sar_areas sorts them); released before the
        # rotations below, which take the same locks exclusive.
        for area in stored_areas:
            held.enter_context(key_held_for_sealing(tx, vault, area))
        outcomes: list[RightOutcome] = []
        rewrites: list[Rewrite] = []
        try:
            for d in subject_datasets(vault, stored_areas, identifier, columns):
                name = d.manifest.name
                found = open_table(d.store, vault.provider, name, columns=list(d.wanted))
                rows = int(pc.sum(pc.cast(subject_mask(found, d.wanted), pa.int64())).as_py() or 0)
                if not rows:
                    continue
                basis = bases.get((d.area, name))
                reason = (
                    refusal_reason(right, basis)
                    if basis is not None
                    else "not in the register of datasets: its lawful basis is unknown"
                )
                if reason is None and right is SubjectRight.RECTIFICATION:
                    reason = _cannot_rectify(d.manifest.columns, list(d.pseudonymised), values)
                if reason is not None:
                    outcomes.append(RightOutcome(d.area, name, rows, False, reason))
                    continue
                note = {"request": case_id, right.value: rows, "columns": sorted(values)}
                rewrites.append(
                    rewrite_dataset(
                        d.store, vault.provider, name, _change(right, d.wanted, values), note=note
                    )
                )
                outcomes.append(RightOutcome(d.area, name, rows, True, None))
            _record(tx, login, case_id, requests_area, right, values, outcomes, rewrites)
        except BaseException:
            for rewrite in reversed(rewrites):  # not recorded, so not done
                rewrite.undo()
            raise
        for rewrite in rewrites:
            rewrite.finish()  # the old versions, crypto-shredded
        held.close()
        for area in sorted({r.store.area for r in rewrites}):
            # As `dataset destroy` does: a backup's copy of the old version's wrapped key must
            # not open under any living area key (the rotation is audited by itself).
            with area_lock(vault.store(area), exclusive=True):
                with tx() as session:
                    area_id = session.scalars(select(AreaRow.id).where(AreaRow.name == area)).one()
                    rotation = rotate_keys(session, vault, login, area, area_id)
                retire_keys(tx, vault, login, area_id, rotation)
        return tuple(outcomes)


@contextmanager
def _one_at_a_time(vault: Vault, requests_area: str) -> Iterator[None]:
    """Erasures and rectifications run one at a time, workspace-wide (a lock file in the
    requests area, beside the area's own lock).

    Each reads a dataset, changes it in memory and swaps the new version in: two at once
    on the same dataset would each start from the old version, and the second swap would
    bring back the rows the first erased. Held from the first read to the last swap.
    """
    store = vault.store(requests_area)
    store.create()
    fd = os.open(store.dir / ".subject-rights.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _cannot_rectify(
    columns: Sequence[object], pseudonymised: Sequence[str], values: Mapping[str, str]
) -> str | None:
    names = {getattr(c, "name", "") for c in columns}
    missing = sorted(set(values) - names)
    if missing:
        return f"the dataset has no column(s) {missing}"
    keyed = sorted(set(values) & set(pseudonymised))
    if keyed:
        return f"column(s) {keyed} hold pseudonyms: they are not rectified, they identify"
    return None


def _change(
    right: SubjectRight, wanted: Mapping[str, str], values: Mapping[str, str]
) -> Callable[[pa.Table], pa.Table]:
    def change(table: pa.Table) -> pa.Table:
        mask = subject_mask(table, wanted)
        if right is SubjectRight.ERASURE:
            return table.filter(pc.invert(mask))
        for column, text in values.items():
            i = table.schema.get_field_index(column)
            kind = table.schema.field(column).type
            try:
                new = pa.scalar(text).cast(kind)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                # the value is the subject's data: the message does not quote it
                raise ValidationError(
                    f"the corrected value for column {column!r} is not a {kind}",
                    hint=f"give a value of the column's type ({kind})",
                ) from None
            table = table.set_column(i, column, pc.if_else(mask, new, table[column]))
        return table

    return change


def _record(
    tx: Transact,
    login: str,
    case_id: int,
    requests_area: str,
    right: SubjectRight,
    values: Mapping[str, str],
    outcomes: Sequence[RightOutcome],
    rewrites: Sequence[Rewrite],
) -> None:
    with tx() as session:
        for rewrite in rewrites:
            new = rewrite.new
            area_id = session.scalars(select(AreaRow.id).where(AreaRow.name == new.area)).one()
            stored = stored_row(session, area_id, DATASET, new.name)
            if stored is not None:  # the register follows the new version
                stored.object_id = new.object_id
                stored.rows = new.rows
                stored.ciphertext_bytes = new.ciphertext_bytes
                stored.key_id = new.wrapped_key.key_id
        session.flush()
        record(
            session,
            login,
            EVENTS[right],
            area=requests_area,
            subject=str(case_id),
            details={
                "datasets": {
                    f"{o.area}/{o.dataset}": {"rows": o.rows, "done": o.done, "reason": o.reason}
                    for o in outcomes
                },
                "columns": sorted(values),  # which were corrected, never to what
            },
        )
