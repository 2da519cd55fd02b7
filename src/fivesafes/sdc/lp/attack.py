"""The attacker's linear programs over a system of published sums: one engine for every check.

Given ``A x = b`` (each row a published sum over unknowns ``x``) and bounds
``lower <= x <= upper``, find the min and max of ``c . x`` for target vectors ``c``.
The table audit (sdc/audit/intervals.py) and the differencing check (sdc/differencing.py)
both use it. Before any LP:

1. propagate: an unknown whose bounds coincide, or that is the only unknown of a
   published sum, is fixed and substituted; repeat until nothing more is pinned
   (figures that contradict each other on the way, or pin an unknown outside its
   bounds, raise Contradiction, a DataError);
2. split the free unknowns into connected components (two unknowns are linked when
   they share a sum) and solve each component on its own;
3. per component, build one HiGHS model and change only the objective between solves,
   so each solve starts from the previous optimal basis (warm start).

Each bound also comes with the published sums that prove it (the LP's row duals, plus
the sums that pinned the fixed part), which is how a disclosure names its combination.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from fivesafes.errors import DataError
from fivesafes.sdc.lp.highs import new_highs

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

INF = float("inf")
_DUAL_TOL = 1e-9
COLD_IPM_ABOVE = 5_000  # unknowns above which a model's first solve is by interior point
_DECIDED = (
    highspy.HighsModelStatus.kOptimal,
    highspy.HighsModelStatus.kUnbounded,
    highspy.HighsModelStatus.kUnboundedOrInfeasible,
)
_CONTRADICTION = "the published figures contradict each other"
_SAME_DATA = "check that every output comes from the same data"


class Contradiction(DataError):
    """The published sums and the bounds fit no values at all: some figure is not true of
    the data the others come from."""


@dataclass(frozen=True)
class Bound:
    """One side of the attacker's interval and the row multipliers that prove it."""

    value: float
    duals: dict[int, float]  # published row -> multiplier (empty when fixed without an LP)


class ComponentModel:
    """One HiGHS model of ``a x = rhs, lower <= x <= upper``, re-solved for each objective."""

    def __init__(
        self,
        a: sp.csc_matrix,
        rhs: FloatArray,
        lower: FloatArray,
        upper: FloatArray,
        *,
        rows: IntArray,
        slack: FloatArray | None = None,
    ) -> None:
        self.n = int(a.shape[1])
        self.a = a  # kept for local proofs (sdc/audit/local.py)
        self.rhs = rhs
        self.rows = rows  # the system's row of each model row (for duals)
        self.lower = lower.astype(np.float64).copy()
        self.upper = upper.astype(np.float64).copy()
        lp = highspy.HighsLp()
        lp.num_col_ = self.n
        lp.num_row_ = int(a.shape[0])
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = highs_bounds(self.lower)
        lp.col_upper_ = highs_bounds(self.upper)
        gap = np.zeros(rhs.size) if slack is None else slack
        lp.row_lower_ = rhs.astype(np.float64) - gap
        lp.row_upper_ = rhs.astype(np.float64) + gap
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data.astype(np.float64)
        h = new_highs()
        # Between solves only the objective changes, so the last optimal basis stays primal
        # feasible: primal simplex continues from it in a few iterations, where dual simplex
        # (the default) and presolve would start over. Measured: ~8x fewer iterations.
        h.setOptionValue("presolve", "off")
        h.setOptionValue("simplex_strategy", 4)
        h.passModel(lp)
        self.highs = h
        self._cost: dict[int, float] = {}
        self._maximize = False
        self._solved = False
        self.iterations = 0

    def extreme(self, j: int, *, maximize: bool) -> tuple[float, FloatArray | None]:
        """min or max of x_j and the optimal point (None when unbounded)."""
        # The audit's hot path (one LP per cell bound): only the costed cell and the
        # sense change, and the bound is read exactly from the optimal point.
        h = self.highs
        if self._cost.get(j) != 1.0 or len(self._cost) != 1:
            self._set_cost({j: 1.0})
        if self._maximize != maximize:
            sense = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
            h.changeObjectiveSense(sense)
            self._maximize = maximize
        if self._run():
            x = np.asarray(h.getSolution().col_value, dtype=np.float64)
            return float(x[j]), x
        return (INF if maximize else -INF), None

    def optimise(
        self, terms: dict[int, float], *, maximize: bool
    ) -> tuple[float, dict[int, float]]:
        """min or max of ``sum(c * x[j])`` over ``terms`` = {local j: c}, with the row
        duals by system row (the published sums that prove the bound)."""
        # always minimised (of the negated target for a max), so the duals' signs read
        # the same way for both ends
        sign = -1.0 if maximize else 1.0
        self._set_cost({j: sign * c for j, c in terms.items()})
        if self._maximize:
            self.highs.changeObjectiveSense(highspy.ObjSense.kMinimize)
            self._maximize = False
        if not self._run():
            return (INF if maximize else -INF), {}
        info = self.highs.getInfo()
        row_dual = np.asarray(self.highs.getSolution().row_dual, dtype=np.float64)
        duals = {
            int(self.rows[i]): sign * float(row_dual[i])
            for i in np.flatnonzero(np.abs(row_dual) > _DUAL_TOL)
        }
        return sign * float(info.objective_function_value), duals

    def _run(self) -> bool:
        """Solve; True when optimal, False when unbounded, DataError otherwise."""
        h = self.highs
        cold = not self._solved and self.n > COLD_IPM_ABOVE
        if cold:
            # a first solve starts from nothing: on 59,000 unknowns the primal simplex
            # without presolve took minutes, interior point with crossover seconds; the
            # crossover's basis then warm-starts the primal simplex for every later solve
            h.setOptionValue("solver", "ipm")
            h.setOptionValue("presolve", "on")
        h.run()
        if cold:
            h.setOptionValue("solver", "simplex")
            h.setOptionValue("presolve", "off")
        self._solved = True
        self.iterations += int(h.getInfo().simplex_iteration_count)
        status = h.getModelStatus()
        if status not in _DECIDED:
            # The true figures are a feasible point, so "infeasible" after a warm start
            # (seen after fixing a singleton's bounds on 4-D tables with values of 1e7)
            # is the basis's numerics: believe it only from a cold start, then presolved.
            for presolve in ("off", "on"):
                h.setOptionValue("presolve", presolve)
                h.clearSolver()
                h.run()
                self.iterations += int(h.getInfo().simplex_iteration_count)
                status = h.getModelStatus()
                if status in _DECIDED:
                    break
            h.setOptionValue("presolve", "off")
        if status == highspy.HighsModelStatus.kOptimal:
            return True
        if status in (
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            # the true figures are a feasible point, so "unbounded or infeasible" can only
            # mean unbounded
            return False
        if status == highspy.HighsModelStatus.kInfeasible:
            raise Contradiction(
                f"{_CONTRADICTION} (no data fit them all, within the bounds)",
                hint=f"{_SAME_DATA}, and that the bounds contain every hidden cell's value",
            )
        raise DataError(
            f"the attacker's linear program could not be solved ({h.modelStatusToString(status)})",
            hint="report this with the table: the solver stopped without an answer",
        )

    def _set_cost(self, cost: dict[int, float]) -> None:
        """Change only the objective coefficients that differ from the last solve."""
        change = {j: 0.0 for j in self._cost if j not in cost}
        change.update({j: c for j, c in cost.items() if self._cost.get(j) != c})
        if len(change) <= 2:  # one cell's bound after another's: no arrays to build
            for j, c in change.items():
                self.highs.changeColCost(j, c)
        else:
            idx = np.fromiter(change, dtype=np.int32, count=len(change))
            val = np.fromiter(change.values(), dtype=np.float64, count=len(change))
            self.highs.changeColsCost(len(change), idx, val)
        self._cost = cost

    def set_bounds(self, j: int, lower: float, upper: float) -> None:
        """Change one unknown's bounds (e.g. fix a cell its contributor knows)."""
        lo, hi = highs_bounds(np.array([lower, upper]))
        self.highs.changeColBounds(j, float(lo), float(hi))


class LinearAttack:
    """Min/max of linear functions of unknowns constrained by published sums."""

    def __init__(
        self,
        a: sp.csr_matrix,
        b: FloatArray,
        lower: FloatArray,
        upper: FloatArray,
        *,
        tolerance: FloatArray | None = None,
        slack: float = 0.0,
        truth: FloatArray | None = None,
    ) -> None:
        """``tolerance``: per row, how far a sum may be off before the figures contradict
        each other (default 1e-6 of the published value). ``slack``: a relative give on
        each sum in the LPs, of the magnitude of the figures that went into it (rounded
        published figures; the audit's exact sums use 0). ``truth``: the unknowns' true
        values, when the caller has them (the audit): a pinned unknown is substituted at
        its true value, so the true table stays an exactly feasible point of every LP."""
        self.a = sp.csr_matrix(a)
        self.b = np.asarray(b, dtype=np.float64)
        self.lower = np.asarray(lower, dtype=np.float64)
        self.upper = np.asarray(upper, dtype=np.float64)
        self.tolerance = (
            1e-6 * np.maximum(1.0, np.abs(self.b))
            if tolerance is None
            else np.asarray(tolerance, dtype=np.float64)
        )
        self.slack = slack
        self.truth = truth
        self.lp_count = 0
        n = self.a.shape[1]
        self.fixed = np.full(n, np.nan)
        self.pinned_by = np.full(n, -1, dtype=np.int64)  # the row that fixed it (-1: bounds)
        self._propagate()
        self._split()
        self._models: dict[int, ComponentModel] = {}

    def _propagate(self) -> None:
        """Fix unknowns that a published sum pins down, until nothing more is pinned."""
        a, residual = self.a, self.b.copy()
        pattern = a.copy()
        pattern.data = np.ones_like(pattern.data)
        free = np.ones(a.shape[1], dtype=bool)
        active = np.ones(a.shape[0], dtype=bool)
        # an unknown whose bounds coincide is known without any published sum
        by_bounds = np.flatnonzero(self.lower == self.upper)
        self.fixed[by_bounds] = self.lower[by_bounds]
        free[by_bounds] = False
        residual -= a[:, by_bounds] @ self.lower[by_bounds]
        while True:
            count = pattern @ free.astype(np.float64)
            empties = np.flatnonzero(active & (count == 0))
            off = np.abs(residual[empties]) > self.tolerance[empties]
            if off.any():
                r = int(empties[off][0])
                raise Contradiction(
                    f"{_CONTRADICTION} (sum {r} is off by {residual[r]:g})", hint=_SAME_DATA
                )
            active[empties] = False
            singles = np.flatnonzero(active & (count == 1))
            if singles.size == 0:
                break
            sub = a[singles].tocoo()
            keep = free[sub.col]
            rows, cols, coef = singles[sub.row[keep]], sub.col[keep], sub.data[keep]
            vals = residual[rows] / coef
            give = self.tolerance[rows] / np.abs(coef)
            order = np.argsort(cols, kind="stable")
            rows, cols, vals, give = rows[order], cols[order], vals[order], give[order]
            uniq, first, inverse = np.unique(cols, return_index=True, return_inverse=True)
            # two sums pinning one unknown must agree (to within both their tolerances)
            if (np.abs(vals - vals[first][inverse]) > give + give[first][inverse]).any():
                raise Contradiction(f"{_CONTRADICTION} (one unknown, two values)", hint=_SAME_DATA)
            # a sum may pin an unknown outside its bounds (a negative amount): no values fit
            # then, and every interval computed from it would be a false certainty
            outside = (vals[first] < self.lower[uniq] - give[first]) | (
                vals[first] > self.upper[uniq] + give[first]
            )
            if outside.any():
                raise Contradiction(
                    f"{_CONTRADICTION} (an unknown pinned outside its bounds)",
                    hint=f"{_SAME_DATA}, and that the bounds contain every hidden cell's value",
                )
            pinned = vals[first] if self.truth is None else self.truth[uniq]
            self.fixed[uniq] = pinned
            self.pinned_by[uniq] = rows[first]
            free[uniq] = False
            residual -= a[:, uniq] @ pinned
            active[singles] = False
        self.free = free
        self.active_rows = np.flatnonzero(active).astype(np.int64)
        self.residual = residual
        if self.slack:
            # what each sum's right-hand side was computed from: its rounding scales so
            magnitude = abs(a) @ np.abs(np.where(free, 0.0, self.fixed))
            self.magnitude = np.maximum(1.0, np.abs(self.b) + magnitude)

    def _split(self) -> None:
        """Independent components of the free unknowns (linked through active rows)."""
        cols = np.flatnonzero(self.free).astype(np.int64)
        self.free_cols = cols
        sub = sp.csr_matrix(self.a[self.active_rows][:, cols])
        k, m = cols.size, sub.shape[0]
        if k and m:
            incidence = sp.bmat([[None, sub.T], [sub, None]], format="csr")
            _, labels = connected_components(incidence, directed=False)
            cell_labels = labels[:k]
        else:  # no sum links two unknowns: each is its own component
            cell_labels = np.arange(k)
        uniq, cell_labels = np.unique(cell_labels, return_inverse=True)
        self.n_components = int(uniq.size)
        self.component = np.asarray(cell_labels, dtype=np.int64).reshape(-1)
        self._local = np.full(self.a.shape[1], -1, dtype=np.int64)
        # every active row's unknowns are in one component: label a row by its first one
        row_label = (
            self.component[sub.indices[sub.indptr[:-1]]] if m else np.zeros(0, dtype=np.int64)
        )
        self._sub = sub
        self._cell_order = np.argsort(self.component, kind="stable")
        self._row_order = np.argsort(row_label, kind="stable")
        edges = np.arange(self.n_components + 1)
        self._cell_bounds = np.searchsorted(self.component[self._cell_order], edges)
        self._row_bounds = np.searchsorted(row_label[self._row_order], edges)

    def cells(self, comp: int) -> IntArray:
        """The unknowns of component ``comp``, ascending (model column i = cells[i])."""
        local = self._cell_order[self._cell_bounds[comp] : self._cell_bounds[comp + 1]]
        return self.free_cols[local]

    def component_rows(self, comp: int) -> tuple[IntArray, sp.csr_matrix]:
        """Component ``comp``'s active rows (system row ids) and their coefficients over
        its free unknowns (column i = ``cells(comp)[i]``); right-hand sides in ``residual``."""
        local = self._cell_order[self._cell_bounds[comp] : self._cell_bounds[comp + 1]]
        rows = self._row_order[self._row_bounds[comp] : self._row_bounds[comp + 1]]
        return self.active_rows[rows], sp.csr_matrix(self._sub[rows][:, local])

    def component_of(self, j: int) -> int:
        """The component of free unknown ``j``."""
        return int(self.component[np.searchsorted(self.free_cols, j)])

    def model(self, comp: int) -> ComponentModel:
        """The (cached) HiGHS model of component ``comp``."""
        model = self._models.get(comp)
        if model is None:
            local = self._cell_order[self._cell_bounds[comp] : self._cell_bounds[comp + 1]]
            rows = self._row_order[self._row_bounds[comp] : self._row_bounds[comp + 1]]
            system_rows = self.active_rows[rows]
            cols = self.free_cols[local]
            self._local[cols] = np.arange(cols.size)
            slack = None
            if self.slack:
                slack = self.slack * self.magnitude[system_rows]
            model = ComponentModel(
                sp.csc_matrix(self._sub[rows][:, local]),
                self.residual[system_rows],
                self.lower[cols],
                self.upper[cols],
                rows=system_rows,
                slack=slack,
            )
            self._models[comp] = model
        return model

    @property
    def iterations(self) -> int:
        """Simplex iterations of every model so far."""
        return sum(m.iterations for m in self._models.values())

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
            start, end = self.a.indptr[r], self.a.indptr[r + 1]
            idx, data = self.a.indices[start:end], self.a.data[start:end]
            weight = coef / float(data[idx == j][0])
            out[r] = out.get(r, 0.0) + weight
            stack.extend(
                (int(k), -weight * float(v)) for k, v in zip(idx, data, strict=True) if k != j
            )
        return {r: c for r, c in out.items() if abs(c) > _DUAL_TOL}

    def interval(self, target: dict[int, float]) -> tuple[Bound, Bound]:
        """The attacker's (min, max) of ``sum(coef * x[j])`` over ``target`` = {j: coef}."""
        const = 0.0
        by_comp: dict[int, dict[int, float]] = {}
        for j, coef in target.items():
            if self.free[j]:
                comp = int(self.component[np.searchsorted(self.free_cols, j)])
                by_comp.setdefault(comp, {})[j] = coef
            else:
                const += coef * float(self.fixed[j])
        lo, hi = const, const
        lo_duals: dict[int, float] = {}
        hi_duals: dict[int, float] = {}
        for comp, terms in by_comp.items():
            model = self.model(comp)
            local = {int(self._local[j]): c for j, c in terms.items()}
            for maximize in (False, True):
                value, duals = model.optimise(local, maximize=maximize)
                self.lp_count += 1
                if maximize:
                    hi += value
                    hi_duals.update(duals)
                else:
                    lo += value
                    lo_duals.update(duals)
        return Bound(lo, lo_duals), Bound(hi, hi_duals)


def highs_bounds(x: FloatArray) -> FloatArray:
    """HiGHS's own infinity for infinite bounds."""
    out = np.asarray(x, dtype=np.float64).copy()
    out[np.isposinf(out)] = highspy.kHighsInf
    out[np.isneginf(out)] = -highspy.kHighsInf
    return out
