"""Hot and cold demands: the checks `optimal` runs between MIP rounds, short of a whole repair.

A whole repair of a 16,000-cell 3-D pattern (every demand, against the outsider and
every insider) takes 10-25 s of a minute. Most of what a MIP pattern misses lies among
the demands some cut was found for already (*hot* ones): :func:`hot_cuts` checks only
those, in a tenth of the LPs. The others (*cold* ones) can still hide cuts, mostly an
insider's against a demand the outsider cannot break: :class:`ColdDemands` checks them a
share at a time while the next MIP round solves on the second core, so a demand turns
hot as soon as a cut is found for it. :func:`closer_guess` alternates the two before the
start's repair of a large table.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from dataclasses import replace
from functools import partial
from typing import cast

import numpy as np

from fivesafes.sdc.secondary.attacker import separate
from fivesafes.sdc.secondary.background import RoundResult, TwinModels
from fivesafes.sdc.secondary.cut_model import CutModel
from fivesafes.sdc.secondary.model import BoolArray, Cut, Problem
from fivesafes.sdc.secondary.moves import MoveLibrary
from fivesafes.sdc.secondary.repair import OutOfTime, repair

# Hot rounds before the start's repair (see :func:`closer_guess`): when a whole repair
# would take more than PRE_HOT_ABOVE of the limit, estimated as REPAIR_PER_CHECK times
# one outsider check of the first MIP pattern (3d-2k: 0.23 s check, 4.5 s repair; 3d-16k:
# 0.9 s and 25 s), until PRE_HOT_SHARE of the limit (3d-16k in 60 s: 13.4% with 0.6,
# 16.3-23.5% with 0.4-0.5, 17.7% with 0.7 where the start's repair overran the limit)
REPAIR_PER_CHECK = 25.0
PRE_HOT_ABOVE = 0.2
PRE_HOT_SHARE = 0.6
# Cold demands checked at a time beside a MIP round (3d-16k: 0.3-1 s per share, the
# round 5-8 s); the checks stop with the first share that ends after the round
COLD_SHARE = 300
# A MIP round cut short before the start's repair still gives its pattern when it is
# this close to its dual bound (it knows every cut found so far; the last finished
# round's does not): a relative gap, in multiples of the rounds' own
CUT_SHORT_GAP = 2.0


def hot_cuts(
    problem: Problem,
    pattern: BoolArray,
    hot: set[tuple[int, int]],
    deadline: float,
    library: MoveLibrary | None = None,
) -> list[Cut]:
    """Cuts the pattern violates among the ``hot`` demands (as the repair finds them).

    A repair restricted to those demands: its pattern is not checked for the others and
    is dropped; its cuts, found on the pattern and on what it adds, are valid for every
    pattern and are what the next MIP round needs (on the 3-D 1,859-cell table the whole
    repair found its cuts among 20-30 of 774 demands).
    """
    others = {(p, d) for p, d, _ in problem.targets()} - hot
    seen: list[Cut] = []
    with contextlib.suppress(OutOfTime):  # the cuts found so far hold all the same
        repair(
            problem,
            pattern.copy(),
            seen=seen,
            insider_proof=others,
            deadline=deadline,
            library=library,
        )
    return seen


class ColdDemands:
    """The demands no cut was found for yet, checked in turn, a share at a time.

    Round robin over every demand of the problem: a demand that turned hot is skipped
    (the hot rounds check it), the others are checked in the order they come, so that
    successive calls of :meth:`while_running` go on where the last one stopped and reach
    every cold demand before any is checked again.
    """

    def __init__(self, problem: Problem, share: int | None = None) -> None:
        self.problem = problem
        self.share = COLD_SHARE if share is None else share
        self._queue = deque((p, d) for p, d, _ in problem.targets())

    def next_share(self, hot: set[tuple[int, int]]) -> list[tuple[int, int]]:
        """The next ``share`` cold demands in turn (fewer when fewer are cold)."""
        out: list[tuple[int, int]] = []
        for _ in range(len(self._queue)):
            if len(out) >= self.share:
                break
            demand = self._queue.popleft()
            self._queue.append(demand)
            if demand not in hot:
                out.append(demand)
        return out

    def while_running(
        self,
        mip: TwinModels,
        pattern: BoolArray,
        hot: set[tuple[int, int]],
        deadline: float,
        library: MoveLibrary | None = None,
    ) -> int:
        """Check cold demands on ``pattern`` while the MIP round solves; cuts new to the model.

        Shares are checked until the round ends, ``deadline`` passes or every cold
        demand was checked once; a demand a cut is found for turns hot (``hot`` grows).
        """
        new = 0
        checked = 0
        while mip.running and time.monotonic() < deadline:
            cold = sum(1 for d in self._queue if d not in hot)
            share = self.next_share(hot)
            if not share or checked >= cold:
                break
            checked += len(share)
            cuts = hot_cuts(self.problem, pattern, set(share), deadline, library)
            hot.update((c.primary, c.direction) for c in cuts)
            new += mip.add(cuts)
        return new


def closer_guess(
    problem: Problem,
    mip: TwinModels,
    guess: BoolArray,
    hot: set[tuple[int, int]],
    t0: float,
    time_limit: float,
    round_gap: float,
    library: MoveLibrary | None = None,
) -> tuple[BoolArray, float, int]:
    """A MIP pattern that misses fewer cuts than ``guess``, for the start's repair.

    The outsider's cuts ``guess`` violates (one LP per demand) join the model and make
    the first hot demands (``hot``, filled here). Where a whole repair would take more
    than PRE_HOT_ABOVE of the limit (estimated from that check: REPAIR_PER_CHECK times
    as long), MIP rounds and hot rounds then alternate until PRE_HOT_SHARE of the limit:
    there the start's repair is the only whole one the minute holds, and the closer its
    pattern the cheaper the start (3d-16k: 2,013,000 against 2,317,000). With two cores,
    the cold demands of the last pattern are checked while each round solves (3d-16k:
    the bound at the minute rose from 1,690,000-1,745,000 to 1,751,000-1,769,000).
    Returns the last MIP pattern, the best MIP bound and the LPs solved.
    """
    outsider = replace(problem, pinned=np.zeros(problem.n, dtype=bool))
    began = time.monotonic()
    cuts, lps = separate(outsider, guess | problem.forced)
    bound = 0.0
    if REPAIR_PER_CHECK * (time.monotonic() - began) < PRE_HOT_ABOVE * time_limit:
        return guess, bound, lps
    hot.update((c.primary, c.direction) for c in cuts)
    mip.add(cuts)
    deadline = t0 + PRE_HOT_SHARE * time_limit
    cold = ColdDemands(problem)
    took = 0.0  # the last round's time: a round started before the deadline gets as long
    while time.monotonic() < deadline:
        began = time.monotonic()
        seconds = max(deadline - began, took)
        cold_new = 0
        if mip.parallel:
            mip.start(partial(CutModel.solve, start=None, seconds=seconds, gap=round_gap))
            cold_new = cold.while_running(mip, guess | problem.forced, hot, deadline, library)
            nxt, mip_bound, finished = cast(RoundResult, mip.collect())
        else:
            nxt, mip_bound, finished = mip.solve(None, seconds, round_gap)
        took = time.monotonic() - began
        bound = max(bound, mip_bound)  # a dual bound holds, finished or not
        if nxt is None:
            break
        if not finished:
            # cut short near its bound: it knows every cut so far (the last finished
            # round's pattern does not)
            if problem.free_cost(nxt) * (1.0 - CUT_SHORT_GAP * round_gap) <= mip_bound:
                guess = nxt
            break
        guess = nxt
        # (its cuts belong to hot demands already: ``hot`` needs no update)
        cuts = hot_cuts(problem, guess | problem.forced, hot, deadline, library)
        if mip.add(cuts) == 0 and cold_new == 0:
            break  # the pattern meets every cut found: the round would find it again
    return guess, bound, lps
