"""Batch certification: one attacker LP over all hidden cells proves many demands at once.

Checking demands one LP each costs tens of thousands of LPs on a large table. Any
feasible attacker move ``z`` (``A z = 0`` within the rooms of the hidden cells) proves
every demand it reaches: if ``z_p >= upper_protection_p`` the attacker cannot rule out
``p``'s value plus its protection, whatever else he tries. So one LP whose objective
pushes every uncertified primary towards its requirement (each capped at the
requirement, so that no primary takes all the room) certifies most demands of a
sensible pattern in a few solves; random weights vary the solutions between rounds.

The same move proves a demand against an insider who knows hidden cell ``q`` exactly
when it leaves ``q`` where it is (``z_q = 0``): rounds with every single-contributor
cell held at zero certify demands against all insiders together. Whatever a round
cannot prove goes to the per-demand LPs of :mod:`attacker`, which find the cuts.
"""

from __future__ import annotations

import highspy
import numpy as np

from fivesafes.sdc.secondary.attacker import neighbourhood_lp
from fivesafes.sdc.secondary.model import UP, BoolArray, FloatArray, IntArray, Problem, met

Demand = tuple[int, int]  # (primary cell, direction)
Pair = tuple[int, int, int]  # (primary cell, direction, insider's cell)

# Stop a kind of round when one certifies less than this share of what is left.
MIN_PROGRESS = 0.02
MAX_ROUNDS = 8
IPM_ABOVE = 5_000  # hidden cells
MIN_DEMANDS = 50  # open demands below which no batch round is worth its LP


class BatchCertifier:
    """The attacker LP over every hidden cell of a (boolean) pattern, re-solved in rounds."""

    def __init__(self, problem: Problem, hidden: BoolArray) -> None:
        self.problem = problem
        self.cells: IntArray = np.flatnonzero(hidden).astype(np.int64)
        self.pos = np.full(problem.n, -1, dtype=np.int64)
        self.pos[self.cells] = np.arange(self.cells.size)
        self.lps = 0
        inf = highspy.kHighsInf
        lo = -problem.down[self.cells]
        hi = problem.up[self.cells]
        self.lower: FloatArray = np.where(np.isinf(lo), -inf, lo)
        self.upper: FloatArray = np.where(np.isinf(hi), inf, hi)
        self.h = self._build()

    def _build(self) -> highspy.Highs:
        h, _ = neighbourhood_lp(self.problem, self.cells, np.ones(self.problem.n))
        h.setOptionValue("presolve", "choose")  # every round is a fresh solve, in effect
        h.setOptionValue("simplex_strategy", 1)
        if self.cells.size > IPM_ABOVE:
            # each round changes many costs and bounds at once, so a warm simplex start
            # buys little; on 58,000 hidden cells one round took 10-160 s by dual simplex
            # and 4.6 s by interior point (with crossover, so the move is a vertex)
            h.setOptionValue("solver", "ipm")
        return h

    def solve(
        self, demands: list[tuple[int, int, float]], hold: IntArray, seed: int
    ) -> FloatArray | None:
        """One round: a move pushing every demand towards its requirement, ``hold`` kept at 0.

        Returns the move on :attr:`cells`, or None when the solver gave no optimal point.
        """
        n = self.cells.size
        rng = np.random.default_rng(seed)
        cost = np.zeros(n)
        lo, hi = self.lower.copy(), self.upper.copy()
        held = self.pos[hold]
        held = held[held >= 0]
        lo[held] = 0.0
        hi[held] = 0.0
        for (p, direction, req), w in zip(demands, 0.5 + rng.random(len(demands)), strict=True):
            j = int(self.pos[p])
            cost[j] -= direction * w / req
            if direction == UP:
                hi[j] = min(hi[j], req)
            else:
                lo[j] = max(lo[j], -req)
        idx = np.arange(n, dtype=np.int32)
        self.h.changeColsCost(n, idx, cost)
        self.h.changeColsBounds(n, idx, lo, hi)
        self.h.run()
        self.lps += 1
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            self.h.clearSolver()
            return None
        return np.asarray(self.h.getSolution().col_value, dtype=np.float64)


def certify(
    problem: Problem,
    hidden: BoolArray,
    demands: list[tuple[int, int, float]],
    pins_of: dict[int, list[int]],
    outsider_ok: set[Demand],
    pair_ok: set[Pair],
) -> int:
    """Prove as many demands (and insider pairs) as batch rounds can; returns LPs solved.

    ``outsider_ok`` and ``pair_ok`` are extended in place. Demands on a pattern stay
    proved when more cells are hidden (the attacker's moves only grow), so the sets may
    be kept across repairs of the same table.
    """

    def open_pairs(p: int, d: int) -> list[int]:
        return [q for q in pins_of.get(p, []) if (p, d, q) not in pair_ok]

    still = sum((p, d) not in outsider_ok or bool(open_pairs(p, d)) for p, d, _ in demands)
    if still < MIN_DEMANDS:
        return 0  # a few demands: their own LPs cost less than rounds over every hidden cell
    batch = BatchCertifier(problem, hidden)
    pinned = np.flatnonzero(hidden & problem.pinned).astype(np.int64)
    seed = 0

    for insiders in (bool(pinned.size), False):
        stalls = 0
        for _ in range(MAX_ROUNDS):
            if insiders:
                todo = [
                    t for t in demands if (t[0], t[1]) not in outsider_ok or open_pairs(t[0], t[1])
                ]
                in_todo = np.zeros(problem.n, dtype=bool)
                in_todo[[t[0] for t in todo]] = True
                hold = pinned[~in_todo[pinned]]
            else:
                todo = [t for t in demands if (t[0], t[1]) not in outsider_ok]
                hold = np.zeros(0, dtype=np.int64)
            if not todo:
                break
            todo = _one_direction_each(todo, seed)
            z = batch.solve(todo, hold, seed)
            seed += 1
            if z is None:
                break
            gained = _record(batch, z, todo, pins_of, outsider_ok, pair_ok, insiders=insiders)
            stalls = stalls + 1 if gained < MIN_PROGRESS * len(todo) else 0
            if stalls == 2:  # both directions had their turn
                break
    return batch.lps


def _one_direction_each(
    todo: list[tuple[int, int, float]], seed: int
) -> list[tuple[int, int, float]]:
    """At most one demand per primary (a cell cannot be pushed both ways in one move)."""
    chosen: dict[int, tuple[int, int, float]] = {}
    for t in todo:
        p = t[0]
        if p not in chosen or (p + seed) % 2 == (t[1] == UP):
            chosen[p] = t
    return list(chosen.values())


def _record(
    batch: BatchCertifier,
    z: FloatArray,
    todo: list[tuple[int, int, float]],
    pins_of: dict[int, list[int]],
    outsider_ok: set[Demand],
    pair_ok: set[Pair],
    *,
    insiders: bool,
) -> int:
    """Mark what the move ``z`` proves; returns how many of ``todo`` it proved.

    With ``insiders``, a demand counts only when proved against every insider too.
    """
    gained = 0
    moved = np.abs(z) > 1e-9
    pos = batch.pos
    for p, d, req in todo:
        if not met(d * float(z[pos[p]]), req):
            continue
        new = (p, d) not in outsider_ok
        outsider_ok.add((p, d))
        if not insiders:
            gained += new
        still = False
        for q in pins_of.get(p, []):
            if (p, d, q) in pair_ok:
                continue
            if pos[q] < 0 or not moved[pos[q]]:
                pair_ok.add((p, d, q))
            else:
                still = True
        if insiders:
            gained += not still
    return gained
