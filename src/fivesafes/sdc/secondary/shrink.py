"""Primal side of `optimal`: the cheapest safe pattern inside a safe pattern.

A safe pattern (from `fast`, from rounding the LP relaxation, from a repaired MIP
pattern) usually hides cells that no demand needs any more once others were added.
:func:`shrink` finds the cheapest safe subset of it: the MIP of :mod:`optimal`, with
every cell outside the pattern held published, is solved over the capacity cuts known
so far; the attacker LPs check and repair its pattern (hiding more cells where
a demand is unmet); the cuts they found join the model; the repaired pattern, when
cheaper, is the next round's. The repair prices the partners a cell needs to move
(:func:`repair.cover`): here only the pattern matters, not the cuts met on the way (the
MIP rounds' repairs keep the plain greedy cover, whose longer way teaches the MIP
more: with the priced cover there, 3d-2k's bound after 60 s was 962,229-969,473
against 972,947-974,678). The pattern itself satisfies every valid cut, so the
restricted MIP is never infeasible, and every pattern kept was proved safe by the LPs.
Out of time, the best safe pattern so far is returned (the one given at worst).

Measured on the 3-D 1,859-cell benchmark table (bench/bench_gap.py, singleton false):
a rounded LP pattern repaired to 1,067,677 and a MIP pattern repaired to 995,467,
where `fast` hid 1,762,955, the LP bound being 720,310 (see bench/RESULTS.md).
"""

from __future__ import annotations

import time
from typing import Protocol

from fivesafes.sdc.secondary.bridgeless import drop_bridges
from fivesafes.sdc.secondary.model import BoolArray, Cut, Problem
from fivesafes.sdc.secondary.moves import MoveLibrary
from fivesafes.sdc.secondary.repair import OutOfTime, repair

# No round starts with less time left (on 16,000 cells its restricted MIP alone took
# 0.6-1.2 s, and HiGHS overruns a short limit)
MIN_ROUND_SECONDS = 0.5


class RestrictedMip(Protocol):
    """What :func:`shrink` needs of the MIP: cuts in, a pattern out within allowed cells."""

    def add(self, cuts: list[Cut]) -> int: ...

    def solve_within(self, allowed: BoolArray, seconds: float) -> BoolArray | None: ...


def shrink(
    problem: Problem,
    mip: RestrictedMip,
    safe: BoolArray,
    deadline: float,
    max_rounds: int = 20,
    *,
    allowed: BoolArray | None = None,
    library: MoveLibrary | None = None,
) -> tuple[BoolArray, int]:
    """A cheaper safe pattern inside (mostly) the safe pattern ``safe``, by ``deadline``; LPs used.

    Each round solves the restricted MIP, repairs its pattern (the attacker LPs add the
    cheapest cells the cuts they find ask for, anywhere) and keeps it when it is
    cheaper; the cuts found join the model. The pattern returned is ``safe`` or one
    the repair proved safe. ``allowed``: more cells the first restricted MIP may choose
    from, e.g. another safe pattern's, to take the best of each (the union is never
    returned: it is not known safe, as hiding more cells can give insiders more to use;
    kept for every round, it cost more than it found on the 3-D 1,859-cell table).
    """
    best = safe | problem.forced
    best_cost = problem.pattern_cost(best)
    lps = 0
    within = best if allowed is None else allowed | best
    for _ in range(max_rounds):
        if deadline - time.monotonic() <= MIN_ROUND_SECONDS:
            break  # a round's MIP and repair would not finish: its MIP overran the limit
        pattern = mip.solve_within(within, deadline - time.monotonic())
        if pattern is None:
            break
        pattern = pattern | problem.forced
        if problem.pattern_cost(pattern) >= best_cost:
            break  # nothing cheaper inside: the incumbent is the restricted optimum
        within = best
        seen: list[Cut] = []
        try:
            fixed, _, n_lp = repair(
                problem, pattern, seen=seen, deadline=deadline, library=library, partners=True
            )
        except OutOfTime:
            break
        lps += n_lp
        fixed = drop_bridges(problem, fixed)  # free: see :mod:`bridgeless`
        if not seen:  # the MIP's own pattern was safe: the cheapest inside ``within``
            return fixed, lps
        new = mip.add(seen)
        if problem.pattern_cost(fixed) < best_cost:
            best, best_cost = fixed, problem.pattern_cost(fixed)
            within = best
        elif new == 0:
            break
    return best, lps
