"""The area lock: writers share it, a key rotation (or a destruction) takes it alone.

``flock`` alone grants a shared lock whenever the lock is held shared, even while an
exclusive taker waits: a stream of overlapping writers (ingests, submissions holding the
key for sealing) could keep a rotation, or the destruction of a dataset whose subjects
asked for erasure, waiting for ever. So an area has a second lock file, its *turn*
(``.turn``): an exclusive taker takes the turn exclusive before it waits for the lock,
and a shared taker passes through the turn (takes it shared, then releases it once it
holds the lock). A rotation waiting holds the turn, so writers that come after it wait
behind it; the writers already in finish, then the rotation runs, then they go on.

As in a database's lock queue, a rotation waiting for a long writer (a large ingest) makes
the writers that come after it wait too, for that writer and then the rotation; sealers
give up after their bounded wait (services/vault/sealing.py) and say so.

Two kinds of shared takers do not queue at the turn, or they could wait for a rotation
that waits for them:

- one that holds the area's lock already in this context (a sealer's transaction
  reading the stored table it submits): the rotation waits for its outer hold;
- one inside a database transaction (the differencing check's read of the data's zeros,
  ``queue=False``): the rotation may be waiting for that transaction (its audit lock).

A re-take must happen in the holder's own context (a thread started within a hold, its
context not copied, would queue); taking the lock exclusive while holding it, with no
bound on the wait, is refused.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from fivesafes.vault.store import AreaStore

# How often a bounded wait for the area lock tries again
LOCK_POLL_SECONDS = 0.05
LOCK_FILE = ".lock"
TURN_FILE = ".turn"

# The areas (store folders) whose lock this context holds: taken again, it does not queue
_HELD: ContextVar[frozenset[str]] = ContextVar("fivesafes_area_locks", default=frozenset())


@contextmanager
def area_lock(
    store: AreaStore,
    *,
    exclusive: bool,
    wait: bool = True,
    timeout: float | None = None,
    queue: bool = True,
) -> Iterator[bool]:
    """Writers share the area lock; key rotation takes it alone (no write under a dying key).

    With ``wait=False`` the block runs at once and is told (True/False) whether it got
    the lock, for work that may simply be skipped while others write. With ``timeout``
    (seconds) it waits no longer than that (at its turn and for the lock together), then
    is told the same way: for a caller inside a database transaction, which must not
    wait for ever on a holder that may be waiting for that transaction (see
    services/release/zeros.py). ``queue=False``: a shared taker that does not wait behind
    an exclusive one already waiting (see the module; only inside a transaction).
    """
    store.create()
    key = str(store.dir)
    held_here = _HELD.get()
    if exclusive and wait and timeout is None and key in held_here:
        # flock would wait for this very holder for ever (and, at the turn, make every
        # newcomer wait with it)
        raise RuntimeError(f"area lock of {store.area}: taken exclusive while this holds it")
    deadline = None if timeout is None else time.monotonic() + timeout
    queued = wait and (exclusive or (queue and key not in held_here))
    fd = os.open(store.dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        flags = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        if queued:
            with _turn(store, exclusive, deadline) as turn:
                held = turn and _take(fd, flags, True, deadline)
        else:
            held = _take(fd, flags, wait, deadline)
        token = _HELD.set(held_here | {key}) if held else None
        try:
            yield held
        finally:
            if held:
                fcntl.flock(fd, fcntl.LOCK_UN)
            if token is not None:
                _HELD.reset(token)
    finally:
        os.close(fd)


@contextmanager
def _turn(store: AreaStore, exclusive: bool, deadline: float | None) -> Iterator[bool]:
    """The area's turn, exclusive (a rotation waiting) or shared (a writer passing)."""
    fd = os.open(store.dir / TURN_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        got = _take(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, True, deadline)
        try:
            yield got
        finally:
            if got:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _take(fd: int, flags: int, wait: bool, deadline: float | None) -> bool:
    """Take the flock ``flags`` on ``fd``: at once, by ``deadline``, or waiting."""
    if wait and deadline is None:
        fcntl.flock(fd, flags)
        return True
    until = deadline if wait and deadline is not None else 0.0
    while True:
        try:
            fcntl.flock(fd, flags | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= until:
                return False
            time.sleep(LOCK_POLL_SECONDS)
