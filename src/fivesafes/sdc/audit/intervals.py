"""The audit's use of the attacker's LPs: which cells to solve, and which LPs to skip.

The attacker knows the published cells, the relations ``A x = 0`` and bounds
``lower <= x <= upper`` on the hidden cells. For a hidden cell j the attainable range
is [min x_j, max x_j] over that polytope. This module computes it for every hidden
cell at once on the shared engine (sdc/lp/attack.py: propagation of exactly
determined cells, components, warm-started HiGHS models), and adds the audit's plan:

1. fix the published cells and move them to the right-hand side;
2. skip an LP when an earlier solution already puts the cell at its own bound (then
   that bound is the optimum, exactly): with non-negative bounds many minima are 0;
3. optionally (see SolvePlan), skip an LP when an earlier solution already shows the
   cell reaches its required protection, or (for cells without a requirement) that it
   is not exactly determined.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fivesafes.sdc.audit import local as audit_local
from fivesafes.sdc.audit.batch import batch_points
from fivesafes.sdc.audit.local import LocalAttack
from fivesafes.sdc.lp.attack import ComponentModel, LinearAttack
from fivesafes.sdc.progress import Stage

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

INF = float("inf")
LOCAL_ABOVE = 3_000  # unknowns in a component above which "check" tries neighbourhoods first


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
    batch_lps: int = 0  # "check" mode on large components (see _seed_points)
    after_batch: int = 0  # primary cells the first batch rounds left open
    local_lps: int = 0
    after_local: int = 0  # ... and the neighbourhood LPs after them
    seconds: dict[str, float] = field(default_factory=dict)


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
    # values each cell already takes in known feasible points (verified witnesses)
    seen_lo: FloatArray | None = None
    seen_hi: FloatArray | None = None


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
    progress: Stage | None = None,
) -> tuple[FloatArray, FloatArray, BoolArray, dict[int, tuple[ComponentModel, IntArray]]]:
    """The attacker's [min, max] of every hidden cell (NaN for published ones).

    Returns the lower and upper ends, whether each interval is exact (False: an inner
    range, see SolvePlan) and, per component id, its model and cells for follow-up solves.
    ``progress`` advances by two steps (a min and a max) per hidden cell done.
    """
    t0 = time.perf_counter()
    n = values.size
    if plan is None:
        plan = SolvePlan(np.full(n, -INF), np.full(n, INF), np.zeros(n, dtype=bool))
    lo_out = np.full(n, np.nan)
    hi_out = np.full(n, np.nan)
    exact_out = np.zeros(n, dtype=bool)
    unknown = np.flatnonzero(hidden)
    shown = np.flatnonzero(~hidden)
    # the unknowns are the hidden cells; published cells move to the right-hand side
    a = sp.csr_matrix(relations[:, unknown])
    rhs = -(relations[:, shown] @ values[shown])
    # a sum is contradicted only beyond the additivity tolerance the table was checked with
    give = 1e-6 * (abs(relations) @ np.abs(values) + 1.0)
    attack = LinearAttack(
        a, rhs, lower[unknown], upper[unknown], tolerance=give, truth=values[unknown]
    )
    determined = unknown[~attack.free]
    stats.determined_without_lp = int(determined.size)
    # exactly determined cells are reported at their true value (the attacker's equals it
    # to rounding), and substituted at it, so the true table fits every LP exactly
    lo_out[determined] = values[determined]
    hi_out[determined] = values[determined]
    exact_out[determined] = True
    if progress is not None:
        progress.advance(2.0 * determined.size)
    stats.seconds["reduce"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    models: dict[int, tuple[ComponentModel, IntArray]] = {}
    stats.components = attack.n_components
    for c in range(attack.n_components):
        cells = unknown[attack.cells(c)]
        stats.largest_component = max(stats.largest_component, int(cells.size))
        model = attack.model(c)
        local = SolvePlan(
            plan.target_lo[cells],
            plan.target_hi[cells],
            plan.deferred[cells],
            plan.integer,
            None if plan.seen_lo is None else plan.seen_lo[cells],
            None if plan.seen_hi is None else plan.seen_hi[cells],
        )
        lo, hi, exact = _component_intervals(
            model, values[cells], stats, tolerance=tolerance, plan=local, progress=progress
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
    progress: Stage | None = None,
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Min and max of the cells of one component, as the plan asks."""
    k = model.n
    # the smallest / largest value each cell has taken in any feasible point seen so far
    # (the published table's true values are one such point)
    seen_lo = values.astype(np.float64).copy()
    seen_hi = values.astype(np.float64).copy()
    if plan.seen_lo is not None and plan.seen_hi is not None:
        np.minimum(seen_lo, plan.seen_lo, out=seen_lo)
        np.maximum(seen_hi, plan.seen_hi, out=seen_hi)
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

    _seed_points(model, values, plan, seen_lo, seen_hi, stats)
    for j in range(k):
        if not plan.deferred[j] and not np.isnan(plan.target_lo[j]):
            solve(j, (float(plan.target_lo[j]), float(plan.target_hi[j])))
        if progress is not None and not plan.deferred[j]:
            progress.advance(2.0, detail=f"{stats.lps:,} LPs")
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
        if progress is not None:
            progress.advance(2.0, detail=f"{stats.lps:,} LPs")
    return lo, hi, exact


def _seed_points(
    model: ComponentModel,
    values: FloatArray,
    plan: SolvePlan,
    seen_lo: FloatArray,
    seen_hi: FloatArray,
    stats: SolveStats,
) -> None:
    """ "check" mode on a large component: feasible points that reach most targets cheaply.

    First batch LPs pushing every primary at once (sdc/audit/batch.py); then, for each
    target still unreached, the LP of its neighbourhood with everything beyond known
    (sdc/audit/local.py); then batch LPs again for what is left, together. Only what
    none of them reaches is solved on the whole component.
    """
    k = model.n
    targeted = ~plan.deferred & np.isfinite(plan.target_lo) & np.isfinite(plan.target_hi)

    def still_open() -> npt.NDArray[np.bool_]:
        return targeted & ((seen_lo > plan.target_lo) | (seen_hi < plan.target_hi))

    t = time.perf_counter()
    lps = batch_points(model, values, plan.target_lo, plan.target_hi, seen_lo, seen_hi)
    stats.batch_lps += lps
    stats.lps += lps
    if k < LOCAL_ABOVE:
        return
    open_ = still_open()
    stats.after_batch += int(open_.sum())
    if not open_.any():
        return
    nearby = LocalAttack(model.a, model.rhs, values, model.lower, model.upper)
    for j in np.flatnonzero(open_).tolist():
        near_lo, near_hi = nearby.interval(j, limit=audit_local.NEIGHBOURHOOD)
        stats.local_lps += 2
        stats.lps += 2
        seen_lo[j] = min(seen_lo[j], near_lo)
        seen_hi[j] = max(seen_hi[j], near_hi)
    stats.after_local += int(still_open().sum())
    lps = batch_points(model, values, plan.target_lo, plan.target_hi, seen_lo, seen_hi)
    stats.batch_lps += lps
    stats.lps += lps
    stats.seconds["seed_points"] = stats.seconds.get("seed_points", 0.0) + time.perf_counter() - t
