"""The MIP of `optimal` solving on the second core while Python checks patterns.

HiGHS releases the GIL while it solves, and the attacker LPs that check a pattern
are mostly Python around small solves: a MIP round (seconds to tens of seconds on
3-D tables) can run in a thread while the main thread shrinks the last repaired
pattern or repairs the start. :class:`TwinModels` keeps two copies of the cut model:
the rounds' (``main``), which may be solving in the background, and the shrink's
(``twin``), which the main thread uses meanwhile. Every cut goes to both; cuts found
while ``main`` solves wait and join it when its solve is collected, so neither model
is ever touched by two threads at once.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from fivesafes.sdc.secondary.cut_model import CutModel
from fivesafes.sdc.secondary.model import BoolArray, Cut, FloatArray, IntArray, Problem

T = TypeVar("T")
# What a MIP round in the background returns: its pattern (None without one), its dual
# bound, and whether it finished (its pattern optimal within the round's gap)
RoundResult = tuple[BoolArray | None, float, bool]
# :func:`rounds_while` starts no round with less time than this left (after its first)
MIN_ROUND_SECONDS = 1.0


def cores() -> int:
    """CPUs this process may run on (a container or ``taskset`` may allow fewer)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Pending(Generic[T]):
    """One call running in a daemon thread (or, ``thread=False``, run at once).

    :meth:`result` waits for it. A daemon thread: an interrupted run (Ctrl-C) does not
    wait for the solve at exit.
    """

    def __init__(self, fn: Callable[[], T], *, thread: bool = True) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if not thread:
            self._run(fn)
            return
        self._thread = threading.Thread(
            target=self._run, args=(fn,), name="fivesafes-mip", daemon=True
        )
        self._thread.start()

    def _run(self, fn: Callable[[], T]) -> None:
        try:
            self._value = fn()
        except BaseException as exc:  # handed to the caller of result()
            self._error = exc

    def done(self) -> bool:
        """Whether the call has returned (or raised)."""
        return self._thread is None or not self._thread.is_alive()

    def result(self) -> T:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


class TwinModels:
    """The rounds' MIP and the shrink's copy, with the same cuts (see the module).

    ``parallel``: whether background solves run in a thread (default: when this process
    may use two CPUs or more); without, :meth:`start` solves at once, as one core would.
    """

    def __init__(self, problem: Problem, *, parallel: bool | None = None) -> None:
        self.parallel = cores() >= 2 if parallel is None else parallel
        self.main = CutModel(problem)
        self.twin = CutModel(problem)
        self._queued: list[Cut] = []
        self._lock = threading.Lock()  # the queue: filled by the main thread, drained by either
        self._pending: Pending[object] | None = None

    @property
    def n_cuts(self) -> int:
        return self.twin.n_cuts

    @property
    def busy(self) -> bool:
        return self._pending is not None

    @property
    def running(self) -> bool:
        """Whether a background solve is still under way (not only waiting to be collected)."""
        return self._pending is not None and not self._pending.done()

    def add(self, cuts: list[Cut]) -> int:
        """Add cuts to both models (to ``main`` once its solve is collected); how many new."""
        new = self.twin.add(cuts)
        if self._pending is not None:
            with self._lock:
                self._queued.extend(cuts)
        else:
            self.main.add(cuts)
        return new

    def drain(self) -> int:
        """Move the queued cuts into ``main``: by the thread that owns it now; how many new."""
        with self._lock:
            cuts, self._queued = self._queued, []
        return self.main.add(cuts)

    def add_rows(self, rows: list[tuple[IntArray, FloatArray]]) -> int:
        self.collect()
        self.twin.add_rows(rows)
        return self.main.add_rows(rows)

    def start(self, fn: Callable[[CutModel], object]) -> None:
        """Run ``fn(main)`` in the background; its value comes back from :meth:`collect`."""
        self.collect()
        main = self.main
        self._pending = Pending(lambda: fn(main), thread=self.parallel)

    def collect(self) -> object:
        """Wait for the background solve (None when there is none); queued cuts join ``main``."""
        if self._pending is None:
            return None
        pending, self._pending = self._pending, None
        try:
            return pending.result()
        finally:
            self.drain()

    # the main model's solves, after any background one (never two at once)
    def solve(
        self, start: BoolArray | None, seconds: float, gap: float
    ) -> tuple[BoolArray | None, float, bool]:
        self.collect()
        return self.main.solve(start, seconds, gap)

    def bound_only(self, seconds: float) -> float:
        self.collect()
        return self.main.bound_only(seconds)

    def relaxation(self, seconds: float) -> tuple[FloatArray | None, float]:
        self.collect()
        return self.main.relaxation(seconds)

    def solve_within(self, allowed: BoolArray, seconds: float) -> BoolArray | None:
        """The shrink's restricted MIP, on the twin (``main`` may be solving meanwhile)."""
        return self.twin.solve_within(allowed, seconds)


def rounds_while(
    models: TwinModels,
    found: Sequence[Cut],
    stop: threading.Event,
    deadline: float,
    gap: float,
    patterns: list[BoolArray] | None = None,
) -> RoundResult:
    """MIP rounds over the cuts a running repair has found so far, until ``stop`` is set.

    Runs in the background (``models.start``) while the main thread repairs a pattern
    whose cuts it appends to ``found``: each round adds the new ones and solves within
    ``gap``; at least one round runs. Returns the last finished round's pattern (None
    without one), the best dual bound and whether there is such a pattern; the caller
    adds every cut of ``found`` once the repair is done. ``patterns``: each finished
    round's pattern is appended there as it comes (for the main thread meanwhile).
    """
    taken, bound, last, tried = 0, 0.0, None, False
    while not tried or (not stop.is_set() and time.monotonic() < deadline):
        fresh = list(found[taken:])  # a snapshot: the repair appends meanwhile
        taken += len(fresh)
        new = models.main.add(fresh) + models.drain()
        if last is not None and new == 0:
            stop.wait(0.05)  # nothing to learn yet: wait for the repair's next cut
            continue
        left = deadline - time.monotonic()
        if tried and left < MIN_ROUND_SECONDS:
            break  # too short to finish, and HiGHS overruns its limit by up to a second
        pattern, mip_bound, finished = models.main.solve(None, left, gap)
        tried = True
        bound = max(bound, mip_bound)
        if pattern is not None and finished:
            last = pattern
            if patterns is not None:
                patterns.append(pattern)
    return last, bound, last is not None


def bound_round(main: CutModel, seconds: float) -> RoundResult:
    """The exact MIP's dual bound after ``seconds`` (:meth:`CutModel.bound_only`), no pattern."""
    return None, main.bound_only(seconds), False
