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

import math
import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from fivesafes.sdc.lp.highs import new_highs
from fivesafes.sdc.secondary.bridgeless import drop_bridges
from fivesafes.sdc.secondary.infeasible import check_feasible_alone
from fivesafes.sdc.secondary.model import (
    BoolArray,
    Cut,
    FloatArray,
    IntArray,
    Problem,
    met,
    relation_cuts,
)
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
# One restricted MIP in :func:`shrink` gets at most this long (they are small)
SHRINK_MIP_SECONDS = 10.0
# Without a start (3-D tables), the MIP rounds stop at this relative gap: their dual bound
# is the proof, and a round that ends sooner leaves time for more rounds of cuts (on the
# 3-D 1,859-cell table an exact MIP round took 9-15 s, one within 2% took 3-5 s)
ROUND_GAP = 0.02


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


def _reduced(problem: Problem, cut: Cut) -> tuple[IntArray, FloatArray, float] | None:
    """The cut over the free cells only (forced cells to the right-hand side), strengthened."""
    cells, coef = cut.cells, cut.coef
    forced = problem.forced[cells]
    rhs = cut.rhs - float(coef[forced].sum())
    if met(-rhs, 0.0) or rhs <= 0:
        return None
    free = ~forced & ~problem.fixed[cells]
    c = np.minimum(coef[free], rhs)
    return cells[free], c / rhs, 1.0  # scaled: every row reads sum w_i y_i >= 1


class _Mip:
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        n = problem.n
        lp = highspy.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = 0
        free = ~problem.forced & ~problem.fixed
        lp.col_cost_ = np.where(free, problem.cost, 0.0)
        lp.col_lower_ = np.where(problem.forced, 1.0, 0.0)
        lp.col_upper_ = np.where(problem.fixed & ~problem.forced, 0.0, 1.0)
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.zeros(n + 1, dtype=np.int32)
        self.h = new_highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("threads", 1)  # many tiny MIPs: thread start-up costs more
        # our incumbent is always a good safe pattern: HiGHS's own heuristics and restarts
        # cost more than they find on these small covering models
        self.h.setOptionValue("mip_heuristic_effort", 0.0)
        self.h.setOptionValue("mip_allow_restart", False)
        self.h.setOptionValue("mip_pscost_minreliable", 0)
        # with MIP presolve on, HiGHS 1.16 returned solutions dearer than the objective it
        # reported (postsolve), which hid the optimum behind a false gap on small tables
        self.h.setOptionValue("presolve", "off")
        self.h.passModel(lp)
        self.seen: set[bytes] = set()
        self.n_cuts = 0
        self.n_rows_extra = 0

    def add(self, cuts: list[Cut]) -> int:
        lower: list[float] = []
        starts: list[int] = []
        index: list[IntArray] = []
        values: list[FloatArray] = []
        nnz = 0
        for cut in cuts:
            red = _reduced(self.problem, cut)
            if red is None:
                continue
            cells, coef, rhs = red
            key = cells.tobytes() + np.round(coef, 9).tobytes()
            if key in self.seen or cells.size == 0:
                continue
            self.seen.add(key)
            starts.append(nnz)
            index.append(cells.astype(np.int32))
            values.append(coef.astype(np.float64))
            lower.append(rhs)
            nnz += cells.size
        if not lower:
            return 0
        k = len(lower)
        self.h.addRows(
            k,
            np.array(lower),
            np.full(k, highspy.kHighsInf),
            nnz,
            np.array(starts, dtype=np.int32),
            np.concatenate(index),
            np.concatenate(values),
        )
        self.n_cuts += k
        return k

    def add_rows(self, rows: list[tuple[IntArray, FloatArray]]) -> int:
        """Add rows ``coef . y >= 0`` (bridgeless inequalities); returns how many."""
        if not rows:
            return 0
        k = len(rows)
        starts = np.cumsum([0] + [c.size for c, _ in rows[:-1]]).astype(np.int32)
        self.h.addRows(
            k,
            np.zeros(k),
            np.full(k, highspy.kHighsInf),
            int(sum(c.size for c, _ in rows)),
            starts,
            np.concatenate([c for c, _ in rows]).astype(np.int32),
            np.concatenate([v for _, v in rows]).astype(np.float64),
        )
        self.n_rows_extra += k
        return k

    def solve(
        self, start: BoolArray | None, seconds: float, gap: float
    ) -> tuple[BoolArray | None, float, bool]:
        h = self.h
        h.setOptionValue("time_limit", max(seconds, 0.01))
        h.setOptionValue("mip_rel_gap", max(gap, 1e-6))
        # no setSolution(start): with a start HiGHS 1.16 reported an objective it did not
        # return (seen on a 36-cell table); every pattern is checked by LP anyway
        del start
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        bound = float(info.mip_dual_bound)
        if not math.isfinite(bound):
            bound = 0.0
        values = np.asarray(h.getSolution().col_value)
        hidden = values > 0.5 if values.size == self.problem.n else None
        finished = status == highspy.HighsModelStatus.kOptimal
        if hidden is not None:
            # HiGHS 1.16 sometimes returns a solution dearer than the objective it reports
            # (seen on 36-cell tables): drop cells the cuts do not need, dearest first
            hidden = self._prune(hidden)
        return hidden, bound, finished

    def solve_within(self, allowed: BoolArray, seconds: float) -> BoolArray | None:
        """The cheapest pattern over the cuts among ``allowed`` cells (the rest published).

        Its MIP bound says nothing of the whole problem and is dropped.
        """
        h = self.problem
        out = np.flatnonzero(~allowed & ~h.forced & ~h.fixed).astype(np.int32)
        k = int(out.size)
        self.h.changeColsBounds(k, out, np.zeros(k), np.zeros(k))
        try:
            self.h.setOptionValue("time_limit", max(min(seconds, SHRINK_MIP_SECONDS), 0.01))
            self.h.setOptionValue("mip_rel_gap", 1e-6)
            self.h.run()
            values = np.asarray(self.h.getSolution().col_value)
        finally:
            self.h.changeColsBounds(k, out, np.zeros(k), np.ones(k))
        if values.size != h.n:
            return None
        return self._prune((values > 0.5) & allowed)

    def _prune(self, hidden: BoolArray) -> BoolArray:
        lp = self.h.getLp()
        if lp.num_row_ == 0:
            return hidden
        a = sp.csc_matrix(
            (
                np.asarray(lp.a_matrix_.value_),
                np.asarray(lp.a_matrix_.index_),
                np.asarray(lp.a_matrix_.start_),
            ),
            shape=(lp.num_row_, lp.num_col_),
        )
        lower = np.asarray(lp.row_lower_)
        activity = a @ hidden.astype(np.float64)
        free = hidden & ~self.problem.forced
        for c in np.flatnonzero(free)[np.argsort(-self.problem.cost[free])]:
            col = a[:, [c]].toarray().ravel()
            if np.all(activity - col >= lower - 1e-9):
                activity -= col
                hidden[c] = False
        return hidden

    def relaxation(self, seconds: float) -> tuple[FloatArray | None, float]:
        """The LP relaxation's solution with the current cuts (None if it did not finish)."""
        h = self.h
        h.setOptionValue("time_limit", max(seconds, 0.01))
        h.setOptionValue("solve_relaxation", True)
        h.run()
        h.setOptionValue("solve_relaxation", False)
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None, 0.0
        values = np.asarray(h.getSolution().col_value, dtype=np.float64)
        return values, float(h.getInfo().objective_function_value)


def _rounded(
    problem: Problem, y: FloatArray | None, deadline: float | None, seen: list[Cut]
) -> tuple[BoolArray | None, int]:
    """A safe pattern from the LP relaxation: its half-hidden cells, repaired and cleaned.

    Without ``y`` the repair starts from the primaries alone; without ``deadline`` it
    always returns a pattern (or raises when the table cannot be protected).
    """
    guess = problem.forced.copy() if y is None else (y >= 0.5) | problem.forced
    try:
        fixed, _, n_lp = repair(problem, guess, seen=seen, deadline=deadline)
    except OutOfTime:
        return None, 0
    return drop_bridges(problem, fixed), n_lp


def _free_cost(problem: Problem, hidden: BoolArray) -> float:
    return float(problem.cost[hidden & ~problem.forced].sum())


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
    mip = _Mip(problem)
    mip.add(relation_cuts(problem))
    share = ROOT_SHARE if start is not None else ROOT_SHARE_NO_START
    bound, lps, y_root = root_cuts(problem, mip, t0 + share * time_limit)
    round_gap = gap
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
            y_root = guess.astype(np.float64)
        start, n_lp = _rounded(problem, y_root, None, seen_start)
        assert start is not None  # no deadline: the repair finished
        lps += n_lp
        mip.add(seen_start)
        y_root = None  # rounded already
    best = start | problem.forced
    best_cost = _free_cost(problem, best)
    bound = min(bound, best_cost)

    def consider(safe: BoolArray, deadline: float) -> None:
        # the cheapest safe subset of a safe pattern: keep it if it beats the incumbent
        nonlocal best, best_cost, lps
        if bound >= best_cost * (1.0 - max(gap, 1e-6)):
            return  # proven good enough already
        smaller, n_lp = shrink(problem, mip, safe, deadline)
        lps += n_lp
        smaller = drop_bridges(problem, smaller)
        if _free_cost(problem, smaller) < best_cost:
            best, best_cost = smaller, _free_cost(problem, smaller)

    if y_root is not None:
        # the LP's half-hidden cells are often close to a cheap pattern: repair it and
        # keep it if it beats the start (its cuts teach the MIP too)
        seen_root: list[Cut] = []
        rounded, n_lp = _rounded(problem, y_root, t0 + ROUNDED_SHARE * time_limit, seen_root)
        lps += n_lp
        mip.add(seen_root)
        if rounded is not None and _free_cost(problem, rounded) < best_cost:
            best, best_cost = rounded, _free_cost(problem, rounded)
    rounds = 0
    status = "time_limit"
    while True:
        rounds += 1
        remaining = time_limit - (time.monotonic() - t0)
        if remaining <= 0:
            break
        # keep a share of the time to repair what the MIP returns when it runs out
        pattern, mip_bound, finished = mip.solve(
            best, max(remaining - REPAIR_RESERVE * time_limit, 0.5 * remaining), round_gap
        )
        bound = max(bound, min(mip_bound, best_cost))
        if pattern is None:
            break
        if not finished and time.monotonic() - t0 >= time_limit:
            break  # out of time already: an unproven MIP pattern is dropped
        pattern |= problem.forced
        # check the MIP's pattern and make it safe: the cuts met on the way tell the MIP
        # what it missed, and the repaired pattern, shrunk, may beat the incumbent (the
        # repair keeps the time limit: a whole check of a 16,000-cell pattern with
        # insiders took 115 s at load 5)
        seen: list[Cut] = []
        try:
            fixed, _, n_lp = repair(problem, pattern, seen=seen, deadline=t0 + time_limit)
        except OutOfTime:
            break  # the time limit holds: the incumbent stays, unchecked patterns go
        lps += n_lp
        if not seen:  # safe as it is
            cost = _free_cost(problem, pattern)
            if cost < best_cost:
                best, best_cost = pattern, cost
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
        if finished and _free_cost(problem, fixed) <= SHRINK_ABOVE * _free_cost(problem, pattern):
            # the MIP keeps up with its cuts and the repair added little: the next round
            # is as good as a shrink (2-D tables)
            if _free_cost(problem, fixed) < best_cost:
                best, best_cost = fixed, _free_cost(problem, fixed)
        else:
            # a shrink gets a share of the limit: the next MIP round raises the bound
            consider(fixed, min(t0 + time_limit, time.monotonic() + SHRINK_SHARE * time_limit))
    best = drop_bridges(problem, best)
    best_cost = _free_cost(problem, best)
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
    mip = _Mip(problem)
    mip.add(relation_cuts(problem))
    bound, _, last = root_cuts(
        problem, mip, time.monotonic() + seconds, max_rounds, attackers=False
    )
    return None if last is None else bound
