"""Area key rotation: re-wrap under a new area key, destroy the old keys after the commit.

A rotation re-wraps every data key (and every sealed row) in the caller's transaction,
with the area lock held exclusively; the keys it replaced are destroyed only once that
transaction has committed (:func:`retire_keys`), so that a rollback or a kill leaves
every wrapped key still openable. Destroying a dataset and retention rotate in the
destroying transaction, a data subject's rewrite right after it; `area rotate-key`
rotates alone (:func:`rotate_area_key_for`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import NotFoundError
from fivesafes.faults import crash_point
from fivesafes.services.context import record, resolve_actor
from fivesafes.services.vault.key_sweep import retire_rotated_keys
from fivesafes.services.vault.register import (
    STORED,
    Transact,
    Vault,
    check_manage,
    reconcile,
)
from fivesafes.services.vault.sealed import rewrap_sealed
from fivesafes.store.models.vault import VaultObjectRow
from fivesafes.vault import rotate_area_key
from fivesafes.vault.area_lock import area_lock
from fivesafes.vault.rotate import Rotation


def sweep_area(tx: Transact, vault: Vault, login: str, area: str, area_id: int) -> None:
    """The area's sweep (orphan objects, retired keys a kill left), in a transaction of
    its own so that what it destroys is audited whatever the caller's transaction does.
    The caller holds the area lock exclusively."""
    with tx() as session:
        reconcile(session, login, vault.store(area), area_id, locked=True, provider=vault.provider)


def rotate_keys(
    session: Session,
    vault: Vault,
    login: str,
    area: str,
    area_id: int,
    leave: set[tuple[str, str]] | None = None,
) -> Rotation:
    """Re-wrap under a new area key in ``session``; the caller destroys the old keys with
    :func:`retire_keys` once the session committed, still under the area lock."""
    # The caller holds the area lock exclusively, taken before its transaction: the lock
    # order is always area lock, then database (an ingest holds its shared area lock
    # while it registers, a sealer while its transaction runs: services/vault/sealing.py),
    # so the two can never wait for each other, and no row sealed under the old key is
    # uncommitted while this re-wraps the committed ones.
    rotation = rotate_area_key(
        vault.store(area),
        vault.provider,
        locked=True,
        rewrap_others=lambda: rewrap_sealed(session, vault, area, area_id),
        destroy_old=False,
        leave=leave or set(),
    )
    for row in session.scalars(
        select(VaultObjectRow).where(
            VaultObjectRow.area_id == area_id, VaultObjectRow.state == STORED
        )
    ):
        row.key_id = rotation.new_key_id
    session.flush()
    record(
        session,
        login,
        "area.rotate_key",
        area=area,
        details={
            "new_key_id": rotation.new_key_id,
            "destroyed_key_ids": list(rotation.destroyed_key_ids),
            "rewrapped": rotation.rewrapped,
        },
    )
    crash_point("rotate.rewrapped")  # every data key re-wrapped (files too), not committed
    return rotation


def retire_keys(
    tx: Transact, vault: Vault, login: str, area_id: int, rotation: Rotation | None
) -> None:
    """Destroy the keys a committed rotation replaced, but never one still referenced.

    Only after the commit: the sealed rows re-wrapped in the rotation's transaction keep
    their old wrapped keys if it rolls back (an error, a kill), and those must still open.
    A kill between the commit and this leaves the old key files; the area's next sweep
    (key_sweep, from register.reconcile) destroys them, or the next rotation. A key that
    something still names (a data key the rotation did not re-wrap) is kept, audited as
    ``area.key_kept``: losing what it seals would be worse than a key living on.
    """
    if rotation is None:
        return
    crash_point("rotate.committed")  # the rotation committed, its old keys not yet destroyed
    with tx() as session:
        retire_rotated_keys(
            session, login, vault.provider, vault.store(rotation.area), area_id,
            rotation.destroyed_key_ids,
        )  # fmt: skip


def rotate_area_key_for(tx: Transact, vault: Vault, login: str, area: str) -> Rotation:
    """Re-wrap every data key of ``area`` under a new area key; destroy the old keys."""
    with tx() as session:
        check_manage(session, resolve_actor(session, login), area)
    if not vault.provider.key_ids(area):
        raise NotFoundError(
            f"area {area!r} has no key yet", hint="it gets one with its first ingest"
        )
    with area_lock(vault.store(area), exclusive=True):
        with tx() as session:
            actor = resolve_actor(session, login)
            area_id = check_manage(session, actor, area)
        # First the sweep: an orphan object would otherwise be re-wrapped under the new key.
        sweep_area(tx, vault, login, area, area_id)
        with tx() as session:
            rotation = rotate_keys(session, vault, login, area, area_id)
        retire_keys(tx, vault, login, area_id, rotation)
        return rotation
