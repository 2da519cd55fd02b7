"""The attacker's linear programs over a system of published sums, reduced before solving.

Given ``A x = b`` (each row a published sum over unknowns ``x``) and bounds on
``x``, find the min and max of ``c . x`` for target vectors ``c``. Before any LP:
unknowns pinned by a published sum of one free unknown are fixed and substituted
(repeatedly, as a solver's presolve would, but once for all targets); then the
free unknowns split into independent components, each its own small HiGHS model
that is reused, warm-started, for every target inside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from fivesafes.errors import DataError
from fivesafes.sdc.highs import new_highs

_PIN_TOL = 1e-9


@dataclass(frozen=True)
class Bound:
    """One side of the attacker's interval and the row multipliers that prove it."""

    value: float
    duals: dict[int, float]  # published row -> multiplier (empty when fixed without an LP)


class LinearAttack:
    """Min/max of linear functions of unknowns constrained by published sums."""

    def __init__(self, a: sp.csr_matrix, b: np.ndarray, lower: np.ndarray, upper: np.ndarray):
        self.a = a.tocsr()
        self.b = np.asarray(b, dtype=float)
        self.lower = np.asarray(lower, dtype=float)
        self.upper = np.asarray(upper, dtype=float)
        self.lp_count = 0
        self.fixed = np.full(a.shape[1], np.nan)
        self.pinned_by = np.full(a.shape[1], -1, dtype=np.int64)  # the row that fixed it
        self._propagate()
        self._split()
        self._models: dict[int, _ComponentLP] = {}

    def _propagate(self) -> None:
        """Fix unknowns that a published sum pins down, until nothing more is pinned."""
        a, residual = self.a, self.b.copy()
        free = np.ones(a.shape[1], dtype=bool)
        active = np.ones(a.shape[0], dtype=bool)
        # an unknown whose bounds coincide is known without any published sum
        pinned_by_bounds = np.flatnonzero(np.isclose(self.lower, self.upper))
        self.fixed[pinned_by_bounds] = self.lower[pinned_by_bounds]
        free[pinned_by_bounds] = False
        residual -= a[:, pinned_by_bounds] @ self.lower[pinned_by_bounds]
        while True:
            free_part = a[:, free]
            nnz = np.diff(free_part.indptr)
            singles = np.flatnonzero(active & (nnz == 1))
            empties = np.flatnonzero(active & (nnz == 0))
            for r in empties:
                if abs(residual[r]) > 1e-6 * max(1.0, abs(self.b[r])):
                    raise DataError(
                        "the published figures contradict each other "
                        f"(sum {r} is off by {residual[r]:g})",
                        hint="check that every output comes from the same data",
                    )
            active[empties] = False
            if len(singles) == 0:
                break
            free_cols = np.flatnonzero(free)
            sub = free_part[singles]
            cols = free_cols[sub.indices]
            vals = residual[singles] / sub.data
            order = np.argsort(cols, kind="stable")
            cols, vals = cols[order], vals[order]
            uniq, first = np.unique(cols, return_index=True)
            for c, v in zip(cols, vals, strict=True):
                if abs(v - vals[first[np.searchsorted(uniq, c)]]) > 1e-6 * max(1.0, abs(v)):
                    raise DataError(
                        "the published figures contradict each other (one unknown, two values)",
                        hint="check that every output comes from the same data",
                    )
            self.fixed[uniq] = vals[first]
            self.pinned_by[uniq] = singles[order][first]
            free[uniq] = False
            residual -= a[:, uniq] @ vals[first]
            active[singles] = False
        self.free = free
        self.active_rows = np.flatnonzero(active)
        self.residual = residual

    def _split(self) -> None:
        """Independent components of the free unknowns (linked through active rows)."""
        free_cols = np.flatnonzero(self.free)
        self.free_cols = free_cols
        sub = self.a[self.active_rows][:, free_cols].tocsr()
        self.sub = sub
        n = len(free_cols)
        if n == 0:
            self.component = np.zeros(0, dtype=np.int64)
            return
        incidence = (sub.T @ sub).tocsr() if sub.shape[0] else sp.identity(n, format="csr")
        _, labels = connected_components(incidence, directed=False)
        self.component = labels
        self._col_pos = np.full(self.a.shape[1], -1, dtype=np.int64)
        self._col_pos[free_cols] = np.arange(n)

    def combination(self, target: dict[int, float]) -> dict[int, float]:
        """Rows whose weighted sum gives the fixed part of ``target`` (how it was pinned)."""
        out: dict[int, float] = {}
        stack = [(j, c) for j, c in target.items() if not self.free[j]]
        steps = 0
        while stack and steps < 100_000:
            steps += 1
            j, coef = stack.pop()
            r = int(self.pinned_by[j])
            if r < 0:
                continue  # known from its bounds alone
            row = self.a.getrow(r)
            a_rj = float(row[0, j])
            weight = coef / a_rj
            out[r] = out.get(r, 0.0) + weight
            stack.extend(
                (int(k), -weight * float(v))
                for k, v in zip(row.indices, row.data, strict=True)
                if k != j
            )
        return {r: c for r, c in out.items() if abs(c) > _PIN_TOL}

    def interval(self, target: dict[int, float]) -> tuple[Bound, Bound]:
        """The attacker's (min, max) of ``sum(coef * x[j])`` over ``target`` = {j: coef}."""
        const = 0.0
        free_terms: dict[int, float] = {}
        for j, coef in target.items():
            if self.free[j]:
                free_terms[j] = coef
            else:
                const += coef * float(self.fixed[j])
        if not free_terms:
            return Bound(const, {}), Bound(const, {})
        positions = self._col_pos[list(free_terms)]
        comps = set(self.component[positions].tolist())
        lo, hi = const, const
        lo_duals: dict[int, float] = {}
        hi_duals: dict[int, float] = {}
        for comp in comps:
            model = self._models.get(comp)
            if model is None:
                model = _ComponentLP(self, comp)
                self._models[comp] = model
            terms = {j: c for j, c in free_terms.items() if model.has(j)}
            for minimise in (True, False):
                value, duals = model.solve(terms, minimise=minimise)
                self.lp_count += 1
                if minimise:
                    lo += value
                    lo_duals.update(duals)
                else:
                    hi += value
                    hi_duals.update(duals)
        return Bound(lo, lo_duals), Bound(hi, hi_duals)


class _ComponentLP:
    """One HiGHS model per component; only the objective changes between targets."""

    def __init__(self, attack: LinearAttack, comp: int):
        members = np.flatnonzero(attack.component == comp)
        self.cols = attack.free_cols[members]
        self.index = {int(c): i for i, c in enumerate(self.cols)}
        sub = attack.sub[:, members]
        rows = np.flatnonzero(np.diff(sub.tocsr().indptr) > 0)
        sub = sub.tocsr()[rows]
        self.rows = attack.active_rows[rows]
        rhs = attack.residual[self.rows]
        h = new_highs()
        lp = highspy.HighsLp()
        lp.num_col_ = len(self.cols)
        lp.num_row_ = len(rows)
        lp.col_cost_ = np.zeros(len(self.cols))
        lp.col_lower_ = _finite(attack.lower[self.cols])
        lp.col_upper_ = _finite(attack.upper[self.cols])
        # Published figures are rounded sums; redundant rows then disagree in the last
        # digits, which an exact equality would call infeasible. A relative slack of
        # 1e-11 is far below any protection level (and below the check's exactness
        # tolerance of 1e-8 of the largest published figure).
        slack = 1e-11 * np.maximum(1.0, np.abs(attack.b[self.rows]))
        lp.row_lower_ = rhs - slack
        lp.row_upper_ = rhs + slack
        csc = sub.tocsc()
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(float)
        h.passModel(lp)
        self.h = h
        self.cost = np.zeros(len(self.cols))

    def has(self, col: int) -> bool:
        """True when unknown ``col`` belongs to this component."""
        return col in self.index

    def solve(self, terms: dict[int, float], *, minimise: bool) -> tuple[float, dict[int, float]]:
        """Optimise the target over this component; returns the value and the row duals."""
        cost = np.zeros(len(self.cols))
        sign = 1.0 if minimise else -1.0
        for j, c in terms.items():
            cost[self.index[j]] = sign * c
        changed = np.flatnonzero(cost != self.cost)
        if len(changed):
            self.h.changeColsCost(len(changed), changed.astype(np.int32), cost[changed])
            self.cost = cost
        self.h.run()
        status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            value = sign * self.h.getInfo().objective_function_value
            row_dual = np.asarray(self.h.getSolution().row_dual)
            duals = {
                int(self.rows[i]): sign * float(row_dual[i])
                for i in np.flatnonzero(np.abs(row_dual) > _PIN_TOL)
            }
            return value, duals
        if status in (
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            return (-math.inf if minimise else math.inf), {}
        if status == highspy.HighsModelStatus.kInfeasible:
            raise DataError(
                "the published figures contradict each other (no data fit them all)",
                hint="check that every output comes from the same data",
            )
        raise DataError(f"the attacker's linear program ended with status {status}")


def _finite(x: np.ndarray) -> np.ndarray:
    out = x.astype(float).copy()
    out[np.isposinf(out)] = highspy.kHighsInf
    out[np.isneginf(out)] = -highspy.kHighsInf
    return out
