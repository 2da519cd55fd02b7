"""The area lock: shared by writers, alone for a rotation, and a bounded wait for callers
that must not wait for ever (a reader inside a database transaction)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from fivesafes.vault import AreaStore
from fivesafes.vault.area_lock import area_lock


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


def _rotate(store: AreaStore, order: list[str] | None = None) -> None:
    with area_lock(store, exclusive=True, timeout=10.0) as alone:
        assert alone
        if order is not None:
            order.append("rotation")
            time.sleep(0.2)  # a writer let in now would be a writer under a dying key


def test_writers_coming_after_a_waiting_rotation_wait_behind_it(store: AreaStore) -> None:
    # flock alone let every new shared holder in while one was in: overlapping writers
    # could keep a rotation (or an erasure's destruction) waiting for ever
    order: list[str] = []
    with area_lock(store, exclusive=False):
        waiting = threading.Thread(target=_rotate, args=(store, order), daemon=True)
        waiting.start()
        time.sleep(0.3)  # the rotation is waiting now, at its turn
        late = threading.Thread(target=_write, args=(store, order), daemon=True)
        late.start()
        time.sleep(0.3)
        assert order == []  # neither is in while the first writer is
        assert _try_shared(store) is False  # nor is a newcomer let in past the rotation
    waiting.join(5.0)
    late.join(5.0)
    assert order == ["rotation", "writer"]  # the first writer done, the rotation went first


def test_a_read_inside_a_transaction_does_not_queue_behind_a_waiting_rotation(
    store: AreaStore,
) -> None:
    # the differencing check's read of the zeros (queue=False), in another context than
    # the holder's: the rotation may be waiting for its transaction, so it must not wait
    with area_lock(store, exclusive=False):
        waiting = threading.Thread(target=_rotate, args=(store,), daemon=True)
        waiting.start()
        time.sleep(0.3)
        got: list[bool] = []
        reader = threading.Thread(target=_read_in_transaction, args=(store, got))
        reader.start()
        reader.join(5.0)
        assert got == [True]
    waiting.join(5.0)
    assert not waiting.is_alive()


def test_a_rotation_killed_while_it_waits_lets_the_writers_in(store: AreaStore) -> None:
    code = (
        "import sys; from pathlib import Path; from fivesafes.vault import AreaStore; "
        "from fivesafes.vault.area_lock import area_lock\n"
        f"store = AreaStore(Path({str(store.root)!r}), {store.area!r})\n"
        "print('waiting', flush=True)\n"
        "with area_lock(store, exclusive=True): pass\n"
    )
    with area_lock(store, exclusive=False):
        with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE) as rotation:
            try:
                assert rotation.stdout is not None
                assert rotation.stdout.readline() == b"waiting\n"
                time.sleep(0.5)  # at its turn, waiting for the writer
                assert _try_shared(store) is False
            finally:
                os.kill(rotation.pid, signal.SIGKILL)  # kill -9: its turn goes with it
                rotation.wait(5.0)
        assert _try_shared(store, 2.0) is True


def _try_shared(store: AreaStore, seconds: float = 0.3) -> bool:
    got: list[bool] = []

    def take() -> None:  # another context: not a holder taking the lock again
        with area_lock(store, exclusive=False, timeout=seconds) as held:
            got.append(held)

    other = threading.Thread(target=take)
    other.start()
    other.join(seconds + 5.0)
    return got[0]


def _write(store: AreaStore, order: list[str]) -> None:
    with area_lock(store, exclusive=False, timeout=10.0) as held:
        assert held
        order.append("writer")


def _read_in_transaction(store: AreaStore, got: list[bool]) -> None:
    with area_lock(store, exclusive=False, timeout=2.0, queue=False) as held:
        got.append(held)


def test_taking_the_lock_exclusive_while_holding_it_is_refused(store: AreaStore) -> None:
    # flock would wait for this very holder for ever, and at the turn make every newcomer
    # to the area wait with it
    with (
        area_lock(store, exclusive=False),
        pytest.raises(RuntimeError, match="exclusive"),
        area_lock(store, exclusive=True),
    ):
        pass
    with area_lock(store, exclusive=True, timeout=1.0) as alone:
        assert alone  # nothing was left held
