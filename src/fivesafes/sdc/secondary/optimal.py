"""`optimal`: the Fischetti & Salazar-González model solved by constraint generation with HiGHS.

Minimise the cost of the hidden cells over binary ``y`` subject to capacity cuts
(see :mod:`model`). Start with the relation cuts of every primary; solve the MIP;
solve the attacker LPs on its pattern; add a cut for every unmet demand; repeat.
When the LPs find nothing the MIP's pattern is safe, and its MIP bound (a bound over
a relaxation: only some of the valid cuts) proves how far from optimal it can be.
A safe starting pattern (the `fast` one) is always at hand, so a time limit returns
the best safe pattern seen and the proven gap, never an unsafe one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import partial
from typing import cast

import numpy as np

from fivesafes.sdc.secondary.background import RoundResult, TwinModels, bound_round, rounds_while
from fivesafes.sdc.secondary.bridgeless import drop_bridges
from fivesafes.sdc.secondary.cut_model import CutModel
from fivesafes.sdc.secondary.hot import closer_guess, hot_cuts
from fivesafes.sdc.secondary.infeasible import check_feasible_alone
from fivesafes.sdc.secondary.model import (
    BoolArray,
    Cut,
    FloatArray,
    Problem,
    relation_cuts,
)
from fivesafes.sdc.secondary.moves import MoveLibrary
from fivesafes.sdc.secondary.repair import OutOfTime, repair
from fivesafes.sdc.secondary.root import root_cuts
from fivesafes.sdc.secondary.shrink import shrink

# Share of the time limit kept to check and repair the pattern the MIP returns when it
# runs out (on 16,000 cells that repair took 20-30 s and found a pattern 20% cheaper)
REPAIR_RESERVE = 0.5
# Shares of the time limit: the root's cutting planes end by ROOT_SHARE, the rounded
# root pattern is repaired by ROUNDED_SHARE; the MIP rounds have the rest.
ROOT_SHARE = 0.2
# ... without a start (3-D tables), where the MIP rounds' cuts raise the bound faster
# than the root's LPs: 60 s runs at load 1 on 3d-16k ended at 20.0-20.5% with 0.1
# against 24.2-24.6% with 0.2, on 3d-2k at 11.2-13.5% against 12.9-13.9%
ROOT_SHARE_NO_START = 0.1
ROUNDED_SHARE = 0.5
# Without a start, a first MIP gets this share for its bound and a pattern to repair
MIP_START_SHARE = 0.15
# A repaired MIP pattern is shrunk when the MIP ran out of time or the repair made it
# dearer than this factor (3-D tables with insiders: 940,000 repaired to 1,390,000)
SHRINK_ABOVE = 1.1
# One shrink gets at most this share of the time limit
SHRINK_SHARE = 0.2
# Without a start (3-D tables), the MIP rounds stop at this relative gap: their dual bound
# is the proof, and a round that ends sooner leaves time for more rounds of cuts (on the
# 3-D 1,859-cell table an exact MIP round took 9-15 s, one within 2% took 3-5 s)
ROUND_GAP = 0.02
# Between two whole repairs, up to this many rounds check only the demands some cut was
# found for so far (hot ones): their cuts are most of what the MIP misses, found in a
# tenth of a whole repair's LPs (see :func:`hot.hot_cuts`)
HOT_ROUNDS = 3
# The last quarter of the limit goes to the exact MIP's bound when no whole round fits
FINAL_SHARE = 0.25


@dataclass(frozen=True)
class OptimalOutcome:
    """What the cut loop found: the pattern and how good it is proven to be."""

    hidden: BoolArray
    cost: float
    bound: float
    gap: float
    status: str  # "optimal" | "time_limit"
    rounds: int
    cuts: int
    lps: int


def _rounded(
    problem: Problem,
    y: FloatArray | None,
    deadline: float | None,
    seen: list[Cut],
    library: MoveLibrary | None = None,
    partners: bool = False,
) -> tuple[BoolArray | None, int]:
    """A safe pattern from the LP relaxation: its half-hidden cells, repaired and cleaned.

    Without ``y`` the repair starts from the primaries alone; without ``deadline`` it
    always returns a pattern (or raises when the table cannot be protected).
    ``partners``: the repair's cover prices the partners a cell needs (see repair.cover).
    """
    guess = problem.forced.copy() if y is None else (y >= 0.5) | problem.forced
    try:
        fixed, _, n_lp = repair(
            problem, guess, seen=seen, deadline=deadline, library=library, partners=partners
        )
    except OutOfTime:
        return None, 0
    return drop_bridges(problem, fixed), n_lp


def _round_seconds(remaining: float, time_limit: float) -> float:
    # keep a share of the time to repair what the MIP returns when it runs out
    return max(remaining - REPAIR_RESERVE * time_limit, 0.5 * remaining)


def _closing(remaining: float, time_limit: float, loose: bool) -> bool:
    """Whether only the closing phase is left: too little time for another round's repair.

    ``loose``: rounds stop at a gap wider than the one asked for (3-D tables); otherwise
    every round is exact and there is no closing phase.
    """
    return loose and remaining < FINAL_SHARE * time_limit


def _next_round(remaining: float, time_limit: float, loose: bool) -> tuple[float, bool]:
    """Seconds for a MIP round started now in the background, and whether it is the last.

    When only the closing phase would follow it (``loose`` rounds stop at a gap; the
    closing phase's exact MIP would start over from no tree), the round keeps solving
    to the end of the limit, its bound still rising (3d-2k: a round stopped at 969,990
    after its 12 s reached 977,320 by the end).
    """
    seconds = _round_seconds(remaining, time_limit)
    if _closing(remaining - seconds, time_limit, loose):
        return remaining, True
    return seconds, False


def protect_optimal(
    problem: Problem, start: BoolArray | None, *, time_limit: float, gap: float = 0.0
) -> OptimalOutcome:
    """Minimum-cost safe pattern (or the best safe one found and its proven gap).

    ``start``: a safe pattern to improve on; without one, the rounded root pattern,
    repaired whatever the time, is the start (on 3-D tables it costs about what `fast`
    costs in time and hides far less: 1,317,440 against 2,005,046 on 1,859 cells).
    """
    t0 = time.monotonic()
    check_feasible_alone(problem)
    mip = TwinModels(problem)
    mip.add(relation_cuts(problem))
    library = MoveLibrary(problem)  # every repair's LP moves, for the next patterns
    share = ROOT_SHARE if start is not None else ROOT_SHARE_NO_START
    bound, lps, y_root = root_cuts(problem, mip, t0 + share * time_limit)
    round_gap = gap
    hot: set[tuple[int, int]] = set()
    stop = threading.Event()  # ends the rounds run beside the start's repair
    beside: list[BoolArray] = []  # their patterns, as they come
    # a MIP round solved in the background: (pattern, dual bound, finished)
    ready: RoundResult | None = None
    whole = 0.0  # how long the last whole repair took
    if start is None:
        round_gap = max(gap, ROUND_GAP)
        # a first MIP over the root's cuts: its dual bound, and an integral pattern that
        # meets every cut known (it knows the insiders' cuts the rounding ignores), to be
        # repaired into the start (on 15,979 cells the MIP proved 1,665,670 in 8 s where
        # the root had 1,243,506; the repair takes 30-45 s there)
        guess, mip_bound, _ = mip.solve(None, MIP_START_SHARE * time_limit, round_gap)
        bound = max(bound, mip_bound)
        seen_start: list[Cut] = []
        if guess is not None:
            guess, pre_bound, n_lp = closer_guess(
                problem, mip, guess, hot, t0, time_limit, round_gap, library
            )
            bound = max(bound, pre_bound)
            lps += n_lp
        if guess is not None:
            y_root = guess.astype(np.float64)
        began = time.monotonic()
        # where the start's repair takes much of the limit (hot rounds ran before it), the
        # MIP rounds go on meanwhile on the second core, over the cuts it finds so far
        if hot and mip.parallel:
            mip.start(
                lambda _: rounds_while(
                    mip, seen_start, stop, t0 + time_limit, round_gap, patterns=beside
                )
            )
        try:
            # (after hot rounds, this repair is the only whole one the minute holds: its
            # pattern matters more than the cuts it meets, so its cover prices the
            # partners a cell needs, see repair.cover; 3d-16k under load 2-3: starts
            # 2,052,436-2,065,797 against 2,264,503-2,286,216)
            start, n_lp = _rounded(problem, y_root, None, seen_start, library, partners=bool(hot))
        except BaseException:
            stop.set()
            raise
        whole = time.monotonic() - began
        assert start is not None  # no deadline: the repair finished
        lps += n_lp
        if not _closing(time_limit - (time.monotonic() - t0), time_limit, round_gap > gap):
            stop.set()  # they end with their current solve, collected at the next round
        # (otherwise only the closing phase is left: they go on beside its shrink, over
        # the cuts it finds, to the end; 3d-16k: the second core sat idle 11 s there)
        mip.add(seen_start)
        hot.update((c.primary, c.direction) for c in seen_start)
        y_root = None  # rounded already
    best = start | problem.forced
    best_cost = problem.free_cost(best)
    bound = min(bound, best_cost)

    def offer(safe: BoolArray) -> None:
        # a pattern the LPs proved safe: the incumbent when it is cheaper
        nonlocal best, best_cost
        cost = problem.free_cost(safe)
        if cost < best_cost:
            best, best_cost = safe, cost

    def consider(safe: BoolArray, deadline: float, allowed: BoolArray | None = None) -> None:
        # the cheapest safe subset of a safe pattern: keep it if it beats the incumbent
        nonlocal lps
        if bound >= best_cost * (1.0 - max(gap, 1e-6)):
            return  # proven good enough already
        smaller, n_lp = shrink(problem, mip, safe, deadline, allowed=allowed, library=library)
        lps += n_lp
        offer(drop_bridges(problem, smaller))

    if y_root is not None:
        # the LP's half-hidden cells are often close to a cheap pattern: repair it and
        # keep it if it beats the start (its cuts teach the MIP too)
        seen_root: list[Cut] = []
        rounded, n_lp = _rounded(
            problem, y_root, t0 + ROUNDED_SHARE * time_limit, seen_root, library
        )
        lps += n_lp
        mip.add(seen_root)
        if rounded is not None:
            offer(rounded)
    rounds = 0
    hot_left = HOT_ROUNDS
    last_round = False  # the MIP round solving in the background runs to the end
    status = "time_limit"
    while True:
        rounds += 1
        remaining = time_limit - (time.monotonic() - t0)
        # the last round, when it ended early (optimal over its cuts), is an ordinary one
        last_round = last_round and mip.running
        closing = _closing(remaining, time_limit, round_gap > gap) or last_round
        if mip.busy and not closing:  # the round that solved while the shrink ran
            ready = cast(RoundResult, mip.collect())
        if ready is not None:
            bound = max(bound, min(ready[1], best_cost))
        if remaining <= 0:
            break
        if closing:
            # too little time left for another round: the rest goes to the bound, the MIP
            # over every cut known solved as far as it gets on the second core (after the
            # round still solving there, if any), and to a shrink of the incumbent
            if not mip.busy:
                mip.start(partial(bound_round, seconds=remaining))
            # (the newest pattern of the rounds beside the start's repair, if any, lends
            # its cells to the shrink's first round, as a repaired one does in the loop)
            consider(best, t0 + time_limit, allowed=beside[-1] if beside else None)
            stop.set()
            result = cast(RoundResult, mip.collect())
            bound = max(bound, min(result[1], best_cost))
            left = time_limit - (time.monotonic() - t0)
            if last_round and result[2] and not _closing(left, time_limit, round_gap > gap):
                # the last round ended early, optimal over its cuts: the loop goes on with its
                # pattern (small tables reach their proof this way)
                ready, last_round = result, False
                continue
            if left > 1.0:
                bound = max(bound, min(mip.bound_only(left), best_cost))
            break
        if ready is not None:
            pattern, mip_bound, finished = ready
            ready = None
        else:
            pattern, mip_bound, finished = mip.solve(
                best, _round_seconds(remaining, time_limit), round_gap
            )
        bound = max(bound, min(mip_bound, best_cost))
        if pattern is None:
            break
        if not finished and time.monotonic() - t0 >= time_limit:
            break  # out of time already: an unproven MIP pattern is dropped
        pattern |= problem.forced
        # hot rounds between whole repairs (HOT_ROUNDS), and only hot rounds once a whole
        # repair and its shrink no longer fit in the time left: on the 3-D 15,979-cell
        # table one whole repair takes 20-30 s of the minute, and a shrink cut short finds
        # nothing, where hot rounds raise the bound (1,667,000 -> 1,736,000)
        fits = time_limit - (time.monotonic() - t0) > whole + SHRINK_SHARE * time_limit
        if finished and hot and (hot_left > 0 or not fits):
            hot_left -= 1
            if mip.add(hot_cuts(problem, pattern, hot, t0 + time_limit, library)) > 0:
                continue  # the next round knows what this pattern missed
        hot_left = HOT_ROUNDS
        # check the MIP's pattern and make it safe: the cuts met on the way tell the MIP
        # what it missed, and the repaired pattern, shrunk, may beat the incumbent (the
        # repair keeps the time limit: a whole check of a 16,000-cell pattern with
        # insiders took 115 s at load 5)
        seen: list[Cut] = []
        try:
            began = time.monotonic()
            fixed, _, n_lp = repair(
                problem, pattern, seen=seen, deadline=t0 + time_limit, library=library
            )
            whole = time.monotonic() - began
        except OutOfTime:
            break  # the time limit holds: the incumbent stays, unchecked patterns go
        lps += n_lp
        if not seen:  # safe as it is
            offer(pattern)
            if finished:
                bound = max(bound, min(mip_bound, best_cost))
                if round_gap > gap and best_cost - bound > gap * best_cost:
                    # safe and within the round's gap: time is left, so close it exactly
                    # (a 1,053-cell 3-D table stopped at 1.8% in 1 s of its 10)
                    round_gap = gap
                    continue
                status = "optimal"
                break
            continue
        mip.add(seen)
        hot.update((c.primary, c.direction) for c in seen)
        if finished and problem.free_cost(fixed) <= SHRINK_ABOVE * problem.free_cost(pattern):
            # the MIP keeps up with its cuts and the repair added little: the next round
            # is as good as a shrink (2-D tables)
            offer(fixed)
        else:
            # the next MIP round solves on the second core meanwhile (it needs no shrink)
            seconds, last_round = _next_round(
                time_limit - (time.monotonic() - t0), time_limit, round_gap > gap
            )
            # (the last one solves exactly: stopped at its gap it would leave the second core
            # idle to the end; 3d-2k: 972,947 at 50 s, then nothing, against 973,311-973,508
            # at 60 s solved on, the incumbent the same)
            mip.start(
                partial(
                    CutModel.solve,
                    start=None,
                    seconds=seconds,
                    gap=gap if last_round else round_gap,
                )
            )
            # a shrink gets a share of the limit: the next MIP round raises the bound
            # within the repaired pattern and the incumbent both: the restricted MIP may
            # take the best of each (3d-2k: 1,098,338 -> 1,096,307)
            shrink_until = time.monotonic() + SHRINK_SHARE * time_limit
            consider(
                fixed,
                t0 + time_limit if last_round else min(t0 + time_limit, shrink_until),
                allowed=fixed | best,
            )
    if mip.busy:  # a round still solving when the time ran out: its bound holds
        bound = max(bound, min(cast(RoundResult, mip.collect())[1], best_cost))
    best = drop_bridges(problem, best)
    best_cost = problem.free_cost(best)
    proven = 0.0 if best_cost <= 0 else max(0.0, (best_cost - bound) / best_cost)
    if status == "optimal" and proven > max(gap, 1e-6) + 1e-9:
        status = "time_limit"
    return OptimalOutcome(best, best_cost, bound, proven, status, rounds, mip.n_cuts, lps)


def lower_bound(problem: Problem, seconds: float, max_rounds: int = 20) -> float | None:
    """A proven lower bound on the cost of any safe pattern, without attacker LPs.

    The LP relaxation of the model over the relation cuts (along each relation of a
    primary, the other hidden cells must give its room) and the bridgeless rows it
    violates, re-solved until none is. Both hold for a cheapest safe pattern, so the
    relaxation's optimum bounds every safe pattern's cost from below. It is what a
    method without a bound of its own (`fast` on 4-D tables, where one round of attacker
    LPs over every demand costs more than the method) reports its gap against; weaker
    than `optimal`'s root, which adds the attacker's capacity cuts. None when not even
    the first relaxation finished within ``seconds``.
    """
    if not problem.primary.any():
        return 0.0
    mip = CutModel(problem)
    mip.add(relation_cuts(problem))
    bound, _, last = root_cuts(
        problem, mip, time.monotonic() + seconds, max_rounds, attackers=False
    )
    return None if last is None else bound
