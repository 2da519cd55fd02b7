"""Cutting planes on the LP relaxation of `optimal`'s model (the root of its search).

Each round solves the relaxation, adds the violated bridgeless rows (:mod:`bridgeless`)
and the violated capacity cuts of the outsider (one attacker LP per demand, on the
fractional pattern: a cell hidden "a fraction" gives that fraction of its room), and
of the insiders who share a relation with the primary (:func:`insider_cuts`). Every
cut is valid for every pattern, so the relaxation's optimum is a lower bound on the
cost of any safe pattern, and it rises round after round until no cut is violated or
the gain tails off.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Protocol

import numpy as np

from fivesafes.sdc.secondary.attacker import Attacker, check_demand, separate
from fivesafes.sdc.secondary.bridgeless import bridgeless_rows
from fivesafes.sdc.secondary.model import Cut, FloatArray, IntArray, Problem

# The root stops when TAIL_ROUNDS rounds raised the bound by less than TAIL_GAIN (relative)
TAIL_ROUNDS = 5
TAIL_GAIN = 5e-3
# An insider's cell counts at the root when the relaxation hides at least this much of it
INSIDER_SHARE = 0.5


class RootModel(Protocol):
    """The model's side the root needs: its relaxation and new rows."""

    def relaxation(self, seconds: float) -> tuple[FloatArray | None, float]: ...

    def add(self, cuts: list[Cut]) -> int: ...

    def add_rows(self, rows: list[tuple[IntArray, FloatArray]]) -> int: ...


def insider_cuts(problem: Problem, y: FloatArray, deadline: float) -> tuple[list[Cut], int]:
    """Violated cuts of insiders next to each primary (sharing a relation), at ``y``.

    The single contributor of cell ``q`` knows it exactly: the cut of (p, q) gives ``q``
    no room. Such a cut holds for every pattern (with ``q`` published the attacker
    knows it anyway), so it is valid whatever ``y``. Only insiders whose cell shares a
    relation with ``p`` and is mostly hidden at ``y`` are tried: separating all of them
    on a fractional pattern (where every insider is linked to every primary) took
    24,000 LPs a round on the 3-D 1,859-cell table.
    """
    if not problem.pinned.any():
        return [], 0
    att = Attacker(problem, y)
    adj = problem.adjacency
    near_pinned = problem.pinned & (y >= INSIDER_SHARE)
    cuts: list[Cut] = []
    for p, direction, req in problem.targets():
        if time.monotonic() > deadline:
            break
        row = adj.indices[adj.indptr[p] : adj.indptr[p + 1]]
        pins = row[near_pinned[row] & (row != p)]
        if pins.size == 0:
            continue
        pins = pins[problem.outsiders(p, pins)]
        for q in pins.tolist():
            cut, _, _ = check_demand(att, p, direction, req, int(q))
            if cut is not None:
                cuts.append(cut)
    return cuts, att.lp_count


def root_cuts(
    problem: Problem,
    mip: RootModel,
    deadline: float,
    max_rounds: int = 200,
    *,
    attackers: bool = True,
) -> tuple[float, int, FloatArray | None]:
    """Cutting planes on the LP relaxation until no cut is violated (or tailing off).

    The outsider's cuts, and the insiders' next to each primary (:func:`insider_cuts`):
    with singletons a fractional pattern links dozens of insiders to each primary, and
    one round of all their LPs took 23 s on the 3-D 1,859-cell table (87 insiders)
    against 0.4 s for the outsider's; the other insiders' cuts come from the MIP's
    integral patterns (repair finds them).
    ``attackers=False``: the bridgeless rows only, no attacker LP (the cheap bound of
    ``optimal.lower_bound``).
    Returns the LP bound, the attacker LPs solved and the last fractional pattern.
    """
    bound, lps = 0.0, 0
    history: list[float] = []
    last_y: FloatArray | None = None
    outsider = replace(problem, pinned=np.zeros(problem.n, dtype=bool))
    for _ in range(max_rounds):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        y, obj = mip.relaxation(remaining)
        if y is None:
            break
        last_y = y
        bound = max(bound, obj)
        bridges = mip.add_rows(bridgeless_rows(problem, y))
        cuts: list[Cut] = []
        if attackers:
            cuts, n_lp = separate(outsider, y)
            lps += n_lp
        if attackers and problem.pinned.any():
            more, n_lp = insider_cuts(problem, y, deadline)
            cuts += more
            lps += n_lp
        if (not cuts or mip.add(cuts) == 0) and not bridges:
            break
        history.append(obj)
        tail = len(history) > TAIL_ROUNDS and obj - history[-1 - TAIL_ROUNDS] <= TAIL_GAIN * obj
        if attackers and tail:
            break  # tailing off: the attacker LPs cost more than they gain; the MIP goes on
    return bound, lps, last_y
