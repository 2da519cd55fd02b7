"""The area lock: shared by writers, alone for a rotation, and a bounded wait for callers
that must not wait for ever (a reader inside a database transaction)."""

from __future__ import annotations

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
