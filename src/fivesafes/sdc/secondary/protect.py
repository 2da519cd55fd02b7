"""Dispatch: pick a method, run it on a problem, write the statuses back."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from fivesafes.errors import SpecError
from fivesafes.sdc.cells import STATUS, Status
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import TableStructure, build_structure
from fivesafes.sdc.progress import Progress, stage
from fivesafes.sdc.secondary import fast as fast_module
from fivesafes.sdc.secondary.bridgeless import drop_bridges
from fivesafes.sdc.secondary.fast import protect_fast
from fivesafes.sdc.secondary.hypercube_phase import Demand, Witness
from fivesafes.sdc.secondary.model import BoolArray, Problem
from fivesafes.sdc.secondary.modular import protect_modular
from fivesafes.sdc.secondary.optimal import protect_optimal
from fivesafes.sdc.secondary.problem import build_problem
from fivesafes.sdc.secondary.result import SecondaryResult, information_loss
from fivesafes.sdc.spec import SuppressionSpec

# `auto` thresholds, from bench/bench_secondary.py and bench/bench_gap.py (bench/RESULTS.md):
# up to OPTIMAL_MAX_CELLS one exact model is proven optimal in seconds; 2-D and 3-D
# tables up to BOUNDED_MAX_CELLS get `optimal` too, within the spec's time limit, so that
# the pattern comes with a proven lower bound (it starts from `fast` and keeps the best
# safe pattern, so it never returns worse than `fast`).
OPTIMAL_MAX_CELLS = 3_000
BOUNDED_MAX_CELLS = 20_000
BOUNDED_MAX_DIMENSIONS = 3
# On tables of at most this many dimensions beyond OPTIMAL_MAX_CELLS, `optimal` also
# starts from a `modular` pattern, given this share of the time limit for its sub-tables
MODULAR_START_DIMENSIONS = 2
MODULAR_START_SHARE = 0.3
# `optimal` gets at least this long after its fast start, whatever the time limit
MIN_MIP_SECONDS = 1.0
# On tables of this many dimensions (up to BOUNDED_MAX_CELLS), `optimal` starts from its
# first MIP's pattern repaired instead of `fast`: on the 3-D 1,859-cell benchmark table
# that took about as long as `fast` and hid 1,246,464 against 2,005,046. (Not measured
# on 4-D tables, where `fast` starts from hypercube moves because LP repairs of large
# patterns were slow there: they keep the `fast` start.)
ROUNDED_START_DIMENSIONS = 3


def rounded_start(n_cells: int, structure: TableStructure) -> bool:
    """Whether `optimal` starts from its rounded root pattern rather than from `fast`."""
    return len(structure.dimensions) == ROUNDED_START_DIMENSIONS and n_cells <= BOUNDED_MAX_CELLS


def choose_method(
    n_cells: int, n_primary: int, structure: TableStructure | None = None
) -> tuple[str, str]:
    """The method `auto` uses for a table of this size, and why."""
    if n_primary == 0:
        return "none", "no primary cells: nothing to protect"
    if n_cells <= OPTIMAL_MAX_CELLS:
        return "optimal", f"{n_cells} cells <= {OPTIMAL_MAX_CELLS}: one exact model solves quickly"
    n_dims = len(structure.dimensions) if structure is not None else 0
    if n_cells <= BOUNDED_MAX_CELLS and 0 < n_dims <= BOUNDED_MAX_DIMENSIONS:
        return "optimal", (
            f"{n_dims}-D table of {n_cells} cells <= {BOUNDED_MAX_CELLS}: the exact model "
            "improves on a heuristic start and proves a lower bound within the time limit"
        )
    start = (
        "hypercube moves"
        if fast_module.uses_hypercube(n_cells, structure)
        else "greedy covering of relations"
    )
    return "fast", (
        f"{n_cells} cells > {OPTIMAL_MAX_CELLS}: {start} with LP repair scales to very "
        "large tables (modular was no cheaper and much slower in the benchmark)"
    )


def run_method(
    problem: Problem,
    structure: TableStructure,
    spec: SuppressionSpec,
    method: str,
    why: str,
    progress: Progress | None = None,
) -> tuple[BoolArray, dict[str, object]]:
    """Run one method on a problem; returns the pattern and what to report about it."""
    timings: dict[str, float] = {}
    notes: list[str] = [why] if why else []
    t = time.monotonic()
    if method == "optimal" and rounded_start(problem.n, structure):
        # `optimal` starts from its rounded LP pattern instead (see ROUNDED_START_DIMENSIONS)
        fast_hidden: BoolArray | None = None
        fast_stats: dict[str, float] = {"attacker_lps": 0.0}
        witnesses: dict[Demand, Witness] = {}
    else:
        fast_hidden, fast_stats, witnesses = protect_fast(problem, structure, progress=progress)
        # a complement alone in a relation is read off it: publishing it loses no protection
        fast_hidden = drop_bridges(problem, fast_hidden)
    timings["fast"] = time.monotonic() - t
    out: dict[str, object] = {"stats": dict(fast_stats), "timings": timings, "notes": notes}
    if method == "fast" and fast_hidden is not None:
        out.update(
            status="heuristic",
            objective=problem.pattern_cost(fast_hidden),
            bound=None,
            gap=None,
            witnesses=witnesses,  # proofs on this very pattern (other methods change it)
        )
        return fast_hidden, out
    if method == "optimal":
        t = time.monotonic()
        start = fast_hidden
        if (
            start is not None
            and problem.n > OPTIMAL_MAX_CELLS
            and len(structure.dimensions) <= MODULAR_START_DIMENSIONS
        ):
            # a second start: sub-table optimisation loses far less than `fast` on 2-D
            # tables (4,489 cells: 156,000 against 187,000, the bound being 152,000)
            with stage(progress, "secondary: modular start") as modular_stage:
                share = replace(spec, time_limit=MODULAR_START_SHARE * spec.time_limit)
                modular_hidden, _ = protect_modular(problem, structure, share)
                modular_hidden = drop_bridges(problem, modular_hidden)
                modular_stage.outcome = f"cost {problem.pattern_cost(modular_hidden):,.0f}"
            timings["modular_start"] = time.monotonic() - t
            if problem.pattern_cost(modular_hidden) < problem.pattern_cost(start):
                start = modular_hidden
                notes.append("optimal started from the modular pattern (cheaper than fast)")
        # the time limit covers the whole method, the fast start included
        left = max(spec.time_limit - (time.monotonic() - t) - timings["fast"], MIN_MIP_SECONDS)
        res = protect_optimal(problem, start, time_limit=left, gap=spec.gap)
        timings["optimal"] = time.monotonic() - t
        out["stats"] = {
            **fast_stats,
            "rounds": float(res.rounds),
            "cuts": float(res.cuts),
            "attacker_lps": float(res.lps + fast_stats["attacker_lps"]),
        }
        if res.status != "optimal":
            notes.append(time_limit_note(spec.time_limit, res.gap))
        out.update(status=res.status, objective=res.cost, bound=res.bound, gap=res.gap)
        return res.hidden, out
    if method == "modular" and fast_hidden is not None:
        t = time.monotonic()
        hidden, mstats = protect_modular(problem, structure, spec)
        timings["modular"] = time.monotonic() - t
        cost = problem.pattern_cost(hidden)
        if problem.pattern_cost(fast_hidden) < cost:
            notes.append("the fast pattern was cheaper than the modular one and is used")
            hidden, cost = fast_hidden, problem.pattern_cost(fast_hidden)
            # the method reported is the one whose pattern is published (its proofs too)
            out.update(method="fast", witnesses=witnesses)
        out["stats"] = {**fast_stats, **mstats}
        out.update(status="heuristic", objective=cost, bound=None, gap=None)
        return hidden, out
    raise SpecError(
        f"unknown secondary method {method!r}", hint="use auto, optimal, modular, fast or none"
    )


# Below this proven gap a time-limited result needs no advice on narrowing it
NOTED_GAP = 0.01


def time_limit_note(time_limit: float, gap: float) -> str:
    """What a statistician reads when `optimal` stopped on its limit: the pattern is safe,
    how far from the least loss it may be, and the lever that narrows it: more time, never
    less protection (the 3-D 15,979-cell benchmark table, bench/RESULTS.md: 9-21% at 60 s
    depending on the machine, 4-6% at 300 s)."""
    note = f"time limit {time_limit:g}s reached: best safe pattern found, proven gap {gap:.2%}"
    if gap < NOTED_GAP:
        return note
    return note + (
        " (at most that share of its loss could be saved; a longer [suppression] time_limit,"
        f" e.g. {max(300.0, 5 * time_limit):g}, narrows the gap on tables this size)"
    )


def protect_secondary(
    cells: pd.DataFrame,
    hierarchies: Sequence[Hierarchy],
    spec: SuppressionSpec,
    *,
    frequency: bool = False,
    dimensions: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> SecondaryResult:
    """Choose complementary suppressions so that every primary cell keeps its protection.

    ``progress`` hears of the method's rounds (see :mod:`fivesafes.sdc.progress`).
    """
    t0 = time.monotonic()
    structure = build_structure(cells, hierarchies, dimensions=dimensions)
    problem = build_problem(cells, structure, spec, frequency=frequency)
    t_build = time.monotonic() - t0
    method: str = spec.method
    why = ""
    if method == "auto":
        method, why = choose_method(problem.n, int(problem.primary.sum()), structure)
        why = f"auto chose {method}: {why}"
    if method == "none" or not problem.primary.any():
        hidden = problem.forced.copy()
        info: dict[str, object] = {
            "status": "nothing_to_protect" if not problem.primary.any() else "not_run",
            "objective": 0.0,
            "bound": None,
            "gap": None,
            "stats": {},
            "timings": {},
            "notes": [why] if why else [],
        }
        if method != "none":
            method = "none"
    else:
        hidden, info = run_method(problem, structure, spec, method, why, progress)
        method = str(info.get("method", method))
    out = _with_status(cells, problem, hidden)
    timings = {"build": t_build, **info["timings"]}  # type: ignore[dict-item]
    timings["total"] = time.monotonic() - t0
    objective = float(info["objective"])  # type: ignore[arg-type]
    return SecondaryResult(
        cells=out,
        method=method,
        solver_status=str(info["status"]),
        objective=objective,
        bound=info["bound"],  # type: ignore[arg-type]
        gap=info["gap"],  # type: ignore[arg-type]
        information_loss=information_loss(out, objective),
        timings=timings,
        notes=tuple(info["notes"]),  # type: ignore[arg-type]
        stats=dict(info["stats"]),  # type: ignore[call-overload]
        witnesses=info.get("witnesses") or {},  # type: ignore[arg-type]
    )


def _with_status(cells: pd.DataFrame, problem: Problem, hidden: BoolArray) -> pd.DataFrame:
    out = cells.copy()
    status = out[STATUS].astype(str).to_numpy(dtype=object)
    status[hidden & ~problem.primary] = Status.SECONDARY.value
    status[problem.primary] = Status.PRIMARY.value
    column = pd.Series(status, index=out.index, dtype=object)
    if isinstance(cells[STATUS].dtype, pd.StringDtype):  # keep a string column a string column
        column = column.astype(cells[STATUS].dtype)
    out[STATUS] = column
    return out


def apply_pattern(cells: pd.DataFrame, problem: Problem, hidden: BoolArray) -> pd.DataFrame:
    """Cells with status set from a pattern (primaries stay primary)."""
    return _with_status(cells, problem, np.asarray(hidden, dtype=bool))
