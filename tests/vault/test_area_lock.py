"""The area lock: shared by writers, alone for a rotation, and a bounded wait for callers
that must not wait for ever (a reader inside a database transaction)."""

from __future__ import annotations

import threading
import time

from fivesafes.vault import AreaStore
from fivesafes.vault.writer import area_lock


def test_a_bounded_wait_gives_up_on_an_exclusive_holder_and_says_so(store: AreaStore) -> None:
    with area_lock(store, exclusive=True):  # a rotation (another open file: another holder)
        began = time.monotonic()
        with area_lock(store, exclusive=False, timeout=0.3) as held:
            waited = time.monotonic() - began
            assert not held
        assert 0.3 <= waited < 5.0
        with area_lock(store, exclusive=False, wait=False) as held:
            assert not held  # at once, as before
    with area_lock(store, exclusive=False, timeout=0.3) as held:
        assert held  # free again: taken at once


def test_shared_holders_do_not_wait_for_each_other(store: AreaStore) -> None:
    with area_lock(store, exclusive=False) as first:
        began = time.monotonic()
        with area_lock(store, exclusive=False, timeout=5.0) as second:
            assert first and second
            assert time.monotonic() - began < 1.0
        with area_lock(store, exclusive=True, timeout=0.2) as alone:
            assert not alone  # a writer is in: a rotation waits


def test_a_shared_lock_taken_again_is_granted_while_a_rotation_waits(store: AreaStore) -> None:
    # What the area's key held for sealing relies on (services/vault/sealing.py): a sealer
    # holds the lock shared and, inside its transaction, the differencing check takes it
    # shared again. Were a waiting rotation (exclusive) to queue new shared holders behind
    # it, the check would wait for the rotation, which waits for the sealer: refused
    # after its bounded wait, each submission during a rotation.
    with area_lock(store, exclusive=False):
        waiting = threading.Thread(target=_rotate, args=(store,), daemon=True)
        waiting.start()
        time.sleep(0.3)  # the rotation is waiting now
        assert waiting.is_alive()
        began = time.monotonic()
        with area_lock(store, exclusive=False, timeout=5.0) as again:
            assert again and time.monotonic() - began < 1.0
    waiting.join(5.0)
    assert not waiting.is_alive()  # and once the sealer is done, the rotation goes on


def _rotate(store: AreaStore) -> None:
    with area_lock(store, exclusive=True, timeout=10.0) as alone:
        assert alone
