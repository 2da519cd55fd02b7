"""The MIP of `optimal`: binary ``y`` per cell, minimum cost, capacity cuts as rows.

Rows are added as the cuts are found (:mod:`root`, :mod:`repair`); one HiGHS model is
kept and re-solved, for the rounds' patterns and bounds, the shrink's restricted MIPs
(:mod:`shrink`) and the closing bound.
"""

from __future__ import annotations

import math

import highspy
import numpy as np
import scipy.sparse as sp

from fivesafes.sdc.lp.highs import new_highs
from fivesafes.sdc.secondary.model import BoolArray, Cut, FloatArray, IntArray, Problem, met

# One restricted MIP in :func:`shrink` gets at most this long (they are small)
SHRINK_MIP_SECONDS = 10.0


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


class CutModel:
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

    def bound_only(self, seconds: float) -> float:
        """The MIP's dual bound after ``seconds`` of an exact solve (its pattern is not wanted).

        (HiGHS's presolve, which a bound alone would allow, proved less in the same time
        on the 3-D 1,859-cell table: 967,980 against 972,126.)
        """
        h = self.h
        h.setOptionValue("time_limit", max(seconds, 0.01))
        h.setOptionValue("mip_rel_gap", 1e-6)
        h.run()
        bound = float(h.getInfo().mip_dual_bound)
        return bound if math.isfinite(bound) else 0.0

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
