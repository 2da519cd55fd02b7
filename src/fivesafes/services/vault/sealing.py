"""The area's key held for sealing: a transaction that seals under an area key holds the
area lock shared, taken before it begins and kept until it has ended.

A rotation (and a dataset's destruction, retention, an erasure's rotation) takes the area
lock exclusive, then re-wraps what is committed under the area key and destroys the old
key once it has committed. A row sealed under that key by a transaction still open is
not there to re-wrap (PostgreSQL runs the two at once; SQLite one writer at a time), and
commits sealed under a destroyed key: what it seals is lost. Held shared from before the
sealing transaction begins to its end, the lock makes the rotation wait for sealers in
flight, and a sealer wait for a rotation in flight and then seal under the new key.

The order is the documented one (docs/vault.md, "Locks"): the area lock before the
database, never inside a transaction. A lock taken inside, after the audit log's lock,
could wait for a rotation waiting for that lock (a file lock: the database cannot see
the cycle). A shared lock taken again inside (the differencing check's read of the
data's zeros, services/release/zeros.py) is granted at once, even with a rotation
waiting: it does not queue behind it (vault/area_lock.py).

Callers (the server's operations, ``answer_figure``) wrap their transaction in
:func:`key_held_for_sealing`; each sealer calls :func:`check_key_held` before it seals,
which refuses to seal under another area's key than the one held (its area was read
before the transaction and changed since).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from sqlalchemy import select

from fivesafes.errors import ConflictError
from fivesafes.store.models.governance import AreaRow
from fivesafes.vault.area_lock import area_lock

if TYPE_CHECKING:  # the vault's modules load the table libraries: not for every sealer's import
    from fivesafes.services.vault.register import Transact, Vault

# A rotation takes milliseconds to seconds, a destruction as long as it takes to overwrite
# the object's files; a sealer that waits longer (a rotation stuck on its key provider)
# gives up with a clear error, nothing done, rather than hold a server worker for ever.
SEAL_WAIT_SECONDS = 120.0

# The areas whose key this thread (context) holds for sealing; None: it holds none, as a
# caller of the services in a library or a test, whose sealing is not checked.
_HELD: ContextVar[frozenset[str] | None] = ContextVar("fivesafes_sealing", default=None)


@contextmanager
def key_held_for_sealing(tx: Transact, vault: Vault, area: str | None) -> Iterator[None]:
    """Hold ``area``'s key for sealing (its area lock, shared) around the caller's
    transaction: enter before the transaction begins, leave after it has ended.

    ``area`` None, or an area the register does not know: nothing is locked (the area's
    store is not created for a name someone typed), and nothing may be sealed within.
    """
    if area is not None:
        with tx() as session:  # a short read of its own, ended before the lock is waited for
            if session.scalar(select(AreaRow.id).where(AreaRow.name == area)) is None:
                area = None
    outer = _HELD.get() or frozenset()
    if area is None:
        token = _HELD.set(outer)
        try:
            yield
        finally:
            _HELD.reset(token)
        return
    with area_lock(vault.store(area), exclusive=False, timeout=SEAL_WAIT_SECONDS) as held:
        if not held:
            raise ConflictError(
                f"area {area}'s key is being changed (a key rotation or a dataset's "
                "destruction has held it, or waited for the area's writers to finish, for "
                f"more than {SEAL_WAIT_SECONDS:.0f} s): nothing was done",
                hint="run it again once the rotation or destruction has finished",
                value_free=True,
            )
        token = _HELD.set(outer | {area})
        try:
            yield
        finally:
            _HELD.reset(token)


@contextmanager
def sealing_checked() -> Iterator[None]:
    """Within it, a seal with no key held for sealing is refused, not let through.

    For the server's operations: one that seals must hold the key (:func:`key_held_for_sealing`
    around its transaction); one that forgets would bring back the lost seal on
    PostgreSQL, found only by a race. (A library's or a test's direct call is not checked.)
    A hold already taken by the caller stays as it is.
    """
    if _HELD.get() is not None:
        yield
        return
    token = _HELD.set(frozenset())
    try:
        yield
    finally:
        _HELD.reset(token)


def check_key_held(area: str) -> None:
    """Refuse to seal under ``area``'s key within :func:`key_held_for_sealing` of another
    area (the caller read the area before its transaction, and it changed since), or
    within :func:`sealing_checked` with no key held."""
    held = _HELD.get()
    if held is not None and area not in held:
        raise ConflictError(
            f"area {area}'s key is not held for sealing (it was read as "
            f"{', '.join(sorted(held)) or 'no area'} before the transaction): nothing was done",
            hint="run it again",
            value_free=True,
        )
