"""The attacker's linear programs: reduce, split into components, warm-started HiGHS solves.

The attacker knows the published cells, the relations ``A x = 0`` and bounds
``lower <= x <= upper`` on the hidden cells. For a hidden cell j the attainable range
is [min x_j, max x_j] over that polytope. This module computes it for every hidden
cell at once:

1. fix the published cells and move them to the right-hand side;
2. propagate: a relation with a single unknown cell determines it exactly (no LP);
   repeat until no relation has exactly one unknown;
3. split the unknown cells into connected components (two cells are linked when they
   share a relation) and solve each component on its own;
4. per component, build one HiGHS model and change only the objective between solves,
   so each solve starts from the previous optimal basis (warm start);
5. skip an LP when an earlier solution already puts the cell at its own bound (then
   that bound is the optimum, exactly): with non-negative bounds many minima are 0;
6. optionally (see SolvePlan), skip an LP when an earlier solution already shows the
   cell reaches its required protection, or (for cells without a requirement) that it
   is not exactly determined.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from fivesafes.errors import DataError
from fivesafes.sdc.highs import new_highs

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

INF = float("inf")


@dataclass
class SolveStats:
    """Counters of one audit's LP work (mutable: filled in while solving)."""

    lps: int = 0
    skipped_at_bound: int = 0
    skipped_at_target: int = 0
    determined_without_lp: int = 0
    components: int = 0
    largest_component: int = 0
    simplex_iterations: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _highs() -> highspy.Highs:
    h = new_highs()
    h.setOptionValue("threads", 1)
    # Between solves only the objective changes, so the last optimal basis stays primal
    # feasible: primal simplex continues from it in a few iterations, where dual simplex
    # (the default) and presolve would start over. Measured: ~8x fewer iterations.
    h.setOptionValue("presolve", "off")
    h.setOptionValue("simplex_strategy", 4)
    return h


def _finite(x: float) -> float:
    return x if np.isfinite(x) else (highspy.kHighsInf if x > 0 else -highspy.kHighsInf)


_SETTLED = (
    highspy.HighsModelStatus.kOptimal,
    highspy.HighsModelStatus.kUnbounded,
    highspy.HighsModelStatus.kUnboundedOrInfeasible,
)


class ComponentModel:
    """One HiGHS model of ``a x = rhs, lower <= x <= upper``, re-solved for each objective."""

    def __init__(
        self, a: sp.csc_matrix, rhs: FloatArray, lower: FloatArray, upper: FloatArray
    ) -> None:
        self.n = int(a.shape[1])
        self.lower = lower.astype(np.float64).copy()
        self.upper = upper.astype(np.float64).copy()
        lp = highspy.HighsLp()
        lp.num_col_ = self.n
        lp.num_row_ = int(a.shape[0])
        lp.col_cost_ = np.zeros(self.n)
        inf = highspy.kHighsInf
        lp.col_lower_ = np.where(np.isfinite(self.lower), self.lower, -inf)
        lp.col_upper_ = np.where(np.isfinite(self.upper), self.upper, inf)
        lp.row_lower_ = rhs.astype(np.float64)
        lp.row_upper_ = rhs.astype(np.float64)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data.astype(np.float64)
        self.highs = _highs()
        self.highs.passModel(lp)
        self._costed: int | None = None
        self.iterations = 0

    def extreme(self, j: int, *, maximize: bool) -> tuple[float, FloatArray | None]:
        """min or max of x_j and the optimal point (None when unbounded)."""
        h = self.highs
        if self._costed != j:
            if self._costed is not None:
                h.changeColCost(self._costed, 0.0)
            h.changeColCost(j, 1.0)
            self._costed = j
        h.changeObjectiveSense(
            highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
        )
        h.run()
        self.iterations += int(h.getInfo().simplex_iteration_count)
        status = h.getModelStatus()
        if status not in _SETTLED:
            status = self._retry()
        if status == highspy.HighsModelStatus.kOptimal:
            x = np.asarray(h.getSolution().col_value, dtype=np.float64)
            return float(x[j]), x
        if status in (
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            # the published table itself is a feasible point, so "unbounded or
            # infeasible" can only mean unbounded
            return (INF if maximize else -INF), None
        raise DataError(
            f"the attacker's linear program could not be solved ({h.modelStatusToString(status)})",
            hint="check that the bounds contain every hidden cell's value",
        )

    def _retry(self) -> Any:
        """Solve again from scratch, then with presolve, when a warm start misreports.

        HiGHS 1.16 occasionally ends a warm-started primal simplex with a wrong
        "infeasible" status after bounds change; the published table is always a
        feasible point, so that status is re-checked before it is believed.
        """
        h = self.highs
        for presolve in ("off", "on"):
            h.clearSolver()
            h.setOptionValue("presolve", presolve)
            h.setOptionValue("simplex_strategy", 1)  # dual simplex, the robust default
            h.run()
            self.iterations += int(h.getInfo().simplex_iteration_count)
            status = h.getModelStatus()
            if status in _SETTLED:
                break
        h.setOptionValue("presolve", "off")
        h.setOptionValue("simplex_strategy", 4)
        return status

    def set_bounds(self, j: int, lower: float, upper: float) -> None:
        """Change one cell's bounds (e.g. fix a cell its contributor knows)."""
        self.highs.changeColBounds(j, _finite(lower), _finite(upper))


@dataclass(frozen=True)
class ReducedSystem:
    """The hidden cells left after fixing the published ones and propagating exact cells."""

    unknown: IntArray  # cells (global index) still unknown
    matrix: sp.csr_matrix  # rows with >= 2 unknown cells, columns = ``unknown``
    rhs: FloatArray
    determined: IntArray  # hidden cells determined exactly by propagation
    labels: IntArray  # component of each unknown cell
    n_components: int


def reduce_system(
    relations: sp.csr_matrix, values: FloatArray, hidden: BoolArray, stats: SolveStats
) -> ReducedSystem:
    """Fix published cells, propagate exactly determined cells, split into components."""
    pattern = relations.copy()
    pattern.data = np.ones_like(pattern.data)
    unknown = hidden.copy()
    determined: list[IntArray] = []
    while True:
        count = pattern @ unknown.astype(np.float64)
        single = np.flatnonzero(count == 1)
        if single.size == 0:
            break
        sub = relations[single].tocoo()
        pick = unknown[sub.col]
        cells = np.unique(sub.col[pick])
        determined.append(cells.astype(np.int64))
        unknown[cells] = False
    stats.determined_without_lp = int(sum(d.size for d in determined))

    cols = np.flatnonzero(unknown).astype(np.int64)
    count = pattern @ unknown.astype(np.float64)
    rows = np.flatnonzero(count >= 2)
    known_values = np.where(unknown, 0.0, values)
    rhs = -(relations[rows] @ known_values)
    matrix = sp.csr_matrix(relations[rows][:, cols])
    k, m = cols.size, rows.size
    if k:
        if m:
            incidence = sp.bmat([[None, matrix.T], [matrix, None]], format="csr")
            _, labels = connected_components(incidence, directed=False)
            cell_labels = labels[:k]
        else:  # no relation links two unknown cells: each is its own component
            cell_labels = np.arange(k)
        # renumber so components are 0..c-1 over cells only
        uniq, cell_labels = np.unique(cell_labels, return_inverse=True)
        n_components = int(uniq.size)
    else:
        cell_labels = np.zeros(0, dtype=np.int64)
        n_components = 0
    return ReducedSystem(
        unknown=cols,
        matrix=matrix,
        rhs=np.asarray(rhs, dtype=np.float64),
        determined=np.concatenate(determined) if determined else np.zeros(0, np.int64),
        labels=np.asarray(cell_labels, dtype=np.int64),
        n_components=n_components,
    )


def components(
    system: ReducedSystem,
) -> list[tuple[IntArray, sp.csc_matrix, FloatArray]]:
    """Per component: its cells (global), its matrix (rows x cells) and right-hand side."""
    out: list[tuple[IntArray, sp.csc_matrix, FloatArray]] = []
    if system.n_components == 0:
        return out
    matrix = system.matrix
    # every row's cells are in one component: label a row by its first unknown cell
    row_label = system.labels[matrix.indices[matrix.indptr[:-1]]] if matrix.shape[0] else []
    row_label = np.asarray(row_label, dtype=np.int64)
    cell_order = np.argsort(system.labels, kind="stable")
    row_order = np.argsort(row_label, kind="stable")
    cell_bounds = np.searchsorted(system.labels[cell_order], np.arange(system.n_components + 1))
    row_bounds = np.searchsorted(row_label[row_order], np.arange(system.n_components + 1))
    for c in range(system.n_components):
        local = cell_order[cell_bounds[c] : cell_bounds[c + 1]]
        rows = row_order[row_bounds[c] : row_bounds[c + 1]]
        sub = sp.csc_matrix(matrix[rows][:, local])
        out.append((system.unknown[local], sub, system.rhs[rows]))
    return out


@dataclass(frozen=True, eq=False)
class SolvePlan:
    """What to compute per cell (global arrays); the default is the exact interval of all.

    A min (max) LP is skipped once some feasible point reaches ``target_lo`` (``target_hi``):
    -inf/+inf never skip, NaN means the cell is not solved at all. A ``deferred`` cell is
    solved last and only when no feasible point seen so far tells it apart from its value
    (its interval is then exact; otherwise an inner range that proves it is not exact).
    """

    target_lo: FloatArray
    target_hi: FloatArray
    deferred: BoolArray
    integer: bool = False  # counts: a range shows a cell is not exact only across integers


def solve_intervals(
    relations: sp.csr_matrix,
    values: FloatArray,
    hidden: BoolArray,
    lower: FloatArray,
    upper: FloatArray,
    stats: SolveStats,
    *,
    tolerance: float,
    plan: SolvePlan | None = None,
) -> tuple[FloatArray, FloatArray, BoolArray, dict[int, tuple[ComponentModel, IntArray]]]:
    """The attacker's [min, max] of every hidden cell (NaN for published ones).

    Returns the lower and upper ends, whether each interval is exact (False: an inner
    range, see SolvePlan) and, per component id, its model and cells for follow-up solves.
    """
    t0 = time.perf_counter()
    n = values.size
    if plan is None:
        plan = SolvePlan(np.full(n, -INF), np.full(n, INF), np.zeros(n, dtype=bool))
    lo_out = np.full(n, np.nan)
    hi_out = np.full(n, np.nan)
    exact_out = np.zeros(n, dtype=bool)
    lo_out[hidden] = lower[hidden]
    hi_out[hidden] = upper[hidden]
    exact_out[hidden] = True
    system = reduce_system(relations, values, hidden, stats)
    lo_out[system.determined] = values[system.determined]
    hi_out[system.determined] = values[system.determined]
    stats.seconds["reduce"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    models: dict[int, tuple[ComponentModel, IntArray]] = {}
    parts = components(system)
    stats.components = len(parts)
    for c, (cells, sub, rhs) in enumerate(parts):
        stats.largest_component = max(stats.largest_component, int(cells.size))
        model = ComponentModel(sub, rhs, lower[cells], upper[cells])
        local = SolvePlan(
            plan.target_lo[cells], plan.target_hi[cells], plan.deferred[cells], plan.integer
        )
        lo, hi, exact = _component_intervals(
            model, values[cells], stats, tolerance=tolerance, plan=local
        )
        lo_out[cells] = lo
        hi_out[cells] = hi
        exact_out[cells] = exact
        stats.simplex_iterations += model.iterations
        models[c] = (model, cells)
    stats.seconds["solve"] = time.perf_counter() - t1
    return lo_out, hi_out, exact_out, models


def _component_intervals(
    model: ComponentModel,
    values: FloatArray,
    stats: SolveStats,
    *,
    tolerance: float,
    plan: SolvePlan,
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Min and max of the cells of one component, as the plan asks."""
    k = model.n
    # the smallest / largest value each cell has taken in any feasible point seen so far
    # (the published table's true values are one such point)
    seen_lo = values.astype(np.float64).copy()
    seen_hi = values.astype(np.float64).copy()
    lo = np.full(k, np.nan)
    hi = np.full(k, np.nan)
    exact = np.zeros(k, dtype=bool)

    def solve(j: int, targets: tuple[float, float]) -> None:
        exact[j] = True
        for maximize, out, seen, bound, target in (
            (False, lo, seen_lo, model.lower, targets[0]),
            (True, hi, seen_hi, model.upper, targets[1]),
        ):
            if maximize:
                at_bound, at_target = seen[j] >= bound[j] - tolerance, seen[j] >= target
            else:
                at_bound, at_target = seen[j] <= bound[j] + tolerance, seen[j] <= target
            if np.isfinite(bound[j]) and at_bound:
                out[j] = bound[j]
                stats.skipped_at_bound += 1
                continue
            if at_target:
                out[j] = seen[j]
                exact[j] = False
                stats.skipped_at_target += 1
                continue
            best, x = model.extreme(j, maximize=maximize)
            stats.lps += 1
            out[j] = best
            if x is not None:
                np.minimum(seen_lo, x, out=seen_lo)
                np.maximum(seen_hi, x, out=seen_hi)

    for j in range(k):
        if not plan.deferred[j] and not np.isnan(plan.target_lo[j]):
            solve(j, (float(plan.target_lo[j]), float(plan.target_hi[j])))
    for d in np.flatnonzero(plan.deferred):
        if plan.integer:
            apart = np.ceil(seen_lo[d] - tolerance) < np.floor(seen_hi[d] + tolerance)
        else:
            apart = seen_hi[d] - seen_lo[d] > tolerance
        if apart:
            lo[d], hi[d] = seen_lo[d], seen_hi[d]  # already shown not to be exact
            stats.skipped_at_target += 2
        else:
            solve(int(d), (-INF, INF))
    return lo, hi, exact
