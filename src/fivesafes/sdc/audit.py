"""The independent audit of a suppression pattern: the attacker's exact interval per hidden cell.

Whatever method chose the pattern, the audit recomputes from scratch what an attacker
who knows every published cell, the table's additive relations and bounds on the
hidden cells can deduce, and reports every primary cell whose required protection is
not met. See docs/audit.md for the model, the tolerance and what is checked.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from fivesafes.errors import DataError, UnsafeTableError
from fivesafes.sdc.audit_input import AuditCells, attacker_bounds, read_audit_cells
from fivesafes.sdc.audit_lp import ComponentModel, SolvePlan, SolveStats, solve_intervals
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.structure import (
    LinkedStructure,
    TableStructure,
    build_linked_structure,
    build_structure,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# A bound counts as reached when it is within RTOL * (largest |value| in the table), and
# never closer than ABS_TOL: HiGHS's own primal feasibility tolerance is 1e-7.
DEFAULT_RTOL = 1e-9
ABS_TOL = 1e-7

FAIL_INTERVAL = "interval"  # the attacker's interval does not reach the required protection
FAIL_EXACT = "exact"  # the attacker recovers the primary cell exactly
FAIL_PUBLISHED = "published"  # a primary cell is published (by another linked table)
FAIL_SINGLETON = "singleton"  # another single contributor narrows the interval too much

IntervalMode = Literal["exact", "primary", "check"]
INTERVAL_MODES: tuple[str, ...] = ("exact", "primary", "check")

INTERVAL_COLUMNS = (
    "value",
    "status",
    "attacker_min",
    "attacker_max",
    "required_lower",
    "required_upper",
    "protected",
    "exact",
    "failure",
    "interval",
)


@dataclass(frozen=True, eq=False)
class AuditResult:
    """Intervals of every hidden cell, the under-protected ones, and the work it took."""

    intervals: pd.DataFrame
    failures: pd.DataFrame
    safe: bool
    lp_count: int
    timings: Mapping[str, float]
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self, *, max_failures: int = 100) -> dict[str, Any]:
        """A JSON-ready summary for report.json (infinite bounds become null)."""
        kinds: dict[str, int] = {}
        for text in self.failures["failure"]:
            for kind in str(text).split(";"):
                kinds[kind] = kinds.get(kind, 0) + 1
        listed = self.failures.head(max_failures).astype(object)
        listed = listed.where(pd.notna(listed), None)
        records = [{k: _json_value(v) for k, v in row.items()} for row in listed.to_dict("records")]
        return {
            "safe": self.safe,
            "hidden_cells": len(self.intervals),
            "failures": len(self.failures),
            "failures_by_kind": kinds,
            "failed_cells": records,
            "failed_cells_listed": len(records),
            "lp_count": self.lp_count,
            "timings": {k: round(v, 6) for k, v in self.timings.items()},
            **{k: _json_value(v) for k, v in self.details.items()},
        }

    def summary(self) -> str:
        """A few human-readable lines: verdict, counts, work done."""
        d = self.details
        verdict = "SAFE" if self.safe else f"UNSAFE: {len(self.failures)} under-protected cell(s)"
        return (
            f"audit: {verdict}\n"
            f"  hidden cells: {len(self.intervals)} ({d.get('primary_cells', 0)} primary, "
            f"{d.get('secondary_cells', 0)} secondary; {d.get('exact_secondary', 0)} secondary "
            "exactly determined)\n"
            f"  attacker bounds: {d.get('bounds')}\n"
            f"  LPs solved: {self.lp_count} in {d.get('components', 0)} component(s); "
            f"{d.get('determined_without_lp', 0)} cell(s) determined without an LP; "
            f"{d.get('skipped_at_bound', 0)} LP(s) skipped at a bound; "
            f"{self.timings.get('total', 0.0):.3f}s"
        )

    def raise_if_unsafe(self) -> None:
        """Raise UnsafeTableError naming the first under-protected cells."""
        if self.safe:
            return
        dims = [c for c in self.failures.columns if c not in INTERVAL_COLUMNS]
        names = []
        for _, row in self.failures.head(5).iterrows():
            codes = ", ".join(f"{d}={row[d]}" for d in dims if d in row and _is_code(row[d]))
            names.append(f"{codes} ({row['failure']})")
        raise UnsafeTableError(
            f"{len(self.failures)} hidden cell(s) are under-protected: " + "; ".join(names),
            hint="hide more cells (secondary suppression) and audit again; see audit.csv",
        )


def _is_code(v: object) -> bool:
    return isinstance(v, str)


def _json_value(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def audit_table(
    cells: pd.DataFrame,
    hierarchies: Sequence[Hierarchy],
    *,
    a_priori_percent: float | None = None,
    frequency: bool = False,
    bounds: tuple[FloatArray, FloatArray] | None = None,
    singleton: bool = False,
    protection_percent: float | None = None,
    dimensions: Sequence[str] | None = None,
    rtol: float = DEFAULT_RTOL,
    intervals: IntervalMode = "exact",
) -> AuditResult:
    """Audit one table: build its relations, then solve the attacker's LPs for every hidden cell.

    ``bounds`` (one lower and one upper array aligned with the rows of ``cells``) override
    ``a_priori_percent``, which overrides the default (non-negative when no value is negative).
    """
    t0 = time.perf_counter()
    structure = build_structure(cells, hierarchies, dimensions=dimensions)
    built = time.perf_counter() - t0
    return audit_cells(
        structure,
        cells,
        a_priori_percent=a_priori_percent,
        frequency=frequency,
        bounds=bounds,
        singleton=singleton,
        protection_percent=protection_percent,
        rtol=rtol,
        intervals=intervals,
        _structure_seconds=built,
    )


def audit_cells(
    structure: TableStructure,
    cells: pd.DataFrame,
    *,
    a_priori_percent: float | None = None,
    frequency: bool = False,
    bounds: tuple[FloatArray, FloatArray] | None = None,
    singleton: bool = False,
    protection_percent: float | None = None,
    rtol: float = DEFAULT_RTOL,
    intervals: IntervalMode = "exact",
    _structure_seconds: float = 0.0,
) -> AuditResult:
    """Audit a cells table against a structure already built from it (same row order).

    ``intervals`` chooses the work, never the verdict: ``"exact"`` solves every hidden
    cell's interval; ``"primary"`` solves primary cells exactly and gives secondary cells
    an inner range (exact only when they are exactly determined, which is always
    detected); ``"check"`` stops each primary cell's LPs once a feasible point reaches its
    requirement and leaves secondary cells unsolved (NaN). Column ``interval`` says
    which rows are exact.
    """
    data = read_audit_cells(cells, protection_percent=protection_percent)
    return _audit(
        structure,
        data,
        a_priori_percent=a_priori_percent,
        frequency=frequency,
        bounds=bounds,
        singleton=singleton,
        rtol=rtol,
        intervals=intervals,
        timings={"structure": _structure_seconds},
    )


def audit_linked(
    tables: Sequence[tuple[pd.DataFrame, Sequence[Hierarchy]]],
    *,
    a_priori_percent: float | None = None,
    frequency: bool = False,
    bounds: tuple[FloatArray, FloatArray] | None = None,
    singleton: bool = False,
    protection_percent: float | None = None,
    rtol: float = DEFAULT_RTOL,
    intervals: IntervalMode = "exact",
) -> AuditResult:
    """Audit several tables from the same data as one system (shared cells are one variable).

    A shared cell is published when any table publishes it; it needs protection when any
    table marks it primary. ``bounds`` are aligned with the linked structure's cells.
    """
    t0 = time.perf_counter()
    linked = build_linked_structure(tables)
    built = time.perf_counter() - t0
    data = combine_linked(
        linked,
        [
            read_audit_cells(c, protection_percent=protection_percent, where=f"table {t + 1}")
            for t, (c, _) in enumerate(tables)
        ],
    )
    appears = [[] for _ in range(linked.n_cells)]  # type: list[list[str]]
    for t, m in enumerate(linked.members):
        for g in m:
            appears[int(g)].append(str(t + 1))
    return _audit(
        linked,
        data,
        a_priori_percent=a_priori_percent,
        frequency=frequency,
        bounds=bounds,
        singleton=singleton,
        rtol=rtol,
        intervals=intervals,
        timings={"structure": built},
        extra={"tables": np.array([";".join(a) for a in appears], dtype=object)},
    )


def combine_linked(linked: LinkedStructure, parts: Sequence[AuditCells]) -> AuditCells:
    """One AuditCells over the linked variables from each table's own."""
    n = linked.n_cells
    values = np.full(n, np.nan)
    published = np.zeros(n, dtype=bool)
    primary = np.zeros(n, dtype=bool)
    lower = np.zeros(n)
    upper = np.zeros(n)
    contributors = np.full(n, np.nan)
    for m, p in zip(linked.members, parts, strict=True):
        values[m] = p.values
        published[m] |= ~p.hidden
        primary[m] |= p.primary
        lower[m] = np.maximum(lower[m], p.lower_protection)
        upper[m] = np.maximum(upper[m], p.upper_protection)
        contributors[m] = np.where(np.isnan(contributors[m]), p.contributors, contributors[m])
    hidden = ~published
    status = np.where(primary, "primary", np.where(hidden, "secondary", "safe")).astype(object)
    return AuditCells(
        values=values,
        hidden=hidden,
        primary=primary,
        status=status,
        lower_protection=lower,
        upper_protection=upper,
        contributors=contributors,
    )


def _audit(
    structure: TableStructure,
    data: AuditCells,
    *,
    a_priori_percent: float | None,
    frequency: bool,
    bounds: tuple[FloatArray, FloatArray] | None,
    singleton: bool,
    rtol: float,
    intervals: IntervalMode,
    timings: dict[str, float],
    extra: Mapping[str, npt.NDArray[Any]] | None = None,
) -> AuditResult:
    t0 = time.perf_counter()
    values = data.values
    if singleton and np.isnan(data.contributors).all():
        raise DataError(
            "the singleton check needs the number of contributors per cell",
            hint="give a 'contributors' column, or audit without the singleton check",
        )
    lower_b, upper_b, mode = attacker_bounds(
        values,
        data.hidden,
        a_priori_percent=a_priori_percent,
        bounds=bounds,
        describe=structure.describe_cell,
    )
    scale = max(1.0, float(np.max(np.abs(values))) if values.size else 1.0)
    tol = max(rtol * scale, ABS_TOL)
    stats = SolveStats()
    req_lo = values - data.lower_protection
    req_hi = values + data.upper_protection
    plan = _plan(intervals, data, values, req_lo, req_hi, tol, frequency)
    lo, hi, solved_exactly, models = solve_intervals(
        structure.relations,
        values,
        data.hidden,
        lower_b,
        upper_b,
        stats,
        tolerance=tol,
        plan=plan,
    )
    # a primary cell published (linked tables) is known exactly
    shown = data.primary & ~data.hidden
    lo[shown] = values[shown]
    hi[shown] = values[shown]
    if frequency:
        lo, hi = _integer_interval(lo, hi, tol)
    exact = (hi - lo) <= tol
    short = (lo > req_lo + tol) | (hi < req_hi - tol)
    fail_kinds: list[tuple[str, BoolArray]] = [
        (FAIL_PUBLISHED, shown),
        (FAIL_EXACT, data.primary & data.hidden & exact),
        (FAIL_INTERVAL, data.primary & data.hidden & short & ~exact),
    ]
    singleton_cols: dict[str, npt.NDArray[Any]] = {}
    if singleton:
        t_s = time.perf_counter()
        s_fail, singleton_cols = _singleton_check(
            structure, data, models, req_lo, req_hi, lower_b, upper_b, stats, tol, frequency
        )
        fail_kinds.append((FAIL_SINGLETON, s_fail))
        stats.seconds["singleton"] = time.perf_counter() - t_s

    report = data.hidden | data.primary
    idx = np.flatnonzero(report)
    failure = np.full(values.size, "", dtype=object)
    for kind, mask in fail_kinds:
        failure = np.where(mask, np.where(failure == "", kind, failure + ";" + kind), failure)
    failed = failure != ""
    intervals = structure.keys.iloc[idx].reset_index(drop=True)
    columns: dict[str, npt.NDArray[Any]] = {
        "value": values,
        "status": data.status,
        "attacker_min": lo,
        "attacker_max": hi,
        "required_lower": req_lo,
        "required_upper": req_hi,
        "protected": ~failed,
        "exact": exact,
        "failure": failure,
        "interval": np.where(
            shown | solved_exactly, "exact", np.where(np.isnan(lo), "unsolved", "inner")
        ).astype(object),
        **singleton_cols,
        **(extra or {}),
    }
    for name, col in columns.items():
        intervals[name] = col[idx]
    intervals["status"] = intervals["status"].astype(str)
    intervals["failure"] = intervals["failure"].astype(str)
    failures = intervals[~intervals["protected"]].reset_index(drop=True)
    timings = {**timings, **stats.seconds}
    timings["audit"] = time.perf_counter() - t0
    timings["total"] = timings["audit"] + timings.get("structure", 0.0)
    details = {
        "primary_cells": int(np.count_nonzero(data.primary)),
        "secondary_cells": int(np.count_nonzero(data.hidden & ~data.primary)),
        "exact_secondary": (
            int(np.count_nonzero(data.hidden & ~data.primary & exact))
            if intervals != "check"
            else None
        ),
        "intervals": intervals,
        "bounds": mode,
        "a_priori_percent": a_priori_percent,
        "frequency": frequency,
        "singleton": singleton,
        "tolerance": tol,
        "components": stats.components,
        "largest_component": stats.largest_component,
        "determined_without_lp": stats.determined_without_lp,
        "skipped_at_bound": stats.skipped_at_bound,
        "skipped_at_target": stats.skipped_at_target,
        "simplex_iterations": stats.simplex_iterations,
    }
    return AuditResult(
        intervals=intervals,
        failures=failures,
        safe=bool(len(failures) == 0),
        lp_count=stats.lps,
        timings=timings,
        details=details,
    )


def _plan(
    intervals: IntervalMode,
    data: AuditCells,
    values: FloatArray,
    req_lo: FloatArray,
    req_hi: FloatArray,
    tol: float,
    frequency: bool,
) -> SolvePlan:
    """Which LPs the interval mode needs (see ``audit_cells``)."""
    n = values.size
    if intervals not in INTERVAL_MODES:
        raise DataError(f"intervals must be one of {INTERVAL_MODES}, got {intervals!r}")
    lo_t, hi_t = np.full(n, -np.inf), np.full(n, np.inf)
    deferred = np.zeros(n, dtype=bool)
    secondary = data.hidden & ~data.primary
    if intervals == "primary":
        deferred = secondary
    elif intervals == "check":
        # reaching beyond the value also proves the cell is not pinned: by 2 tol, or for
        # counts (rounded inwards to whole numbers) by a whole unit
        if frequency:
            lo_need = np.minimum(np.floor(req_lo + tol), values - 1)
            hi_need = np.maximum(np.ceil(req_hi - tol), values + 1)
        else:
            lo_need = np.minimum(req_lo, values - 2 * tol)
            hi_need = np.maximum(req_hi, values + 2 * tol)
        lo_t = np.where(data.primary, lo_need, np.nan)
        hi_t = np.where(data.primary, hi_need, np.nan)
    return SolvePlan(lo_t, hi_t, deferred)


def _integer_interval(lo: FloatArray, hi: FloatArray, tol: float) -> tuple[FloatArray, FloatArray]:
    """Counts are whole numbers: the attacker rounds the LP interval inwards."""
    with np.errstate(invalid="ignore"):
        lo_i = np.where(np.isfinite(lo), np.ceil(lo - tol), lo)
        hi_i = np.where(np.isfinite(hi), np.floor(hi + tol), hi)
    return lo_i, hi_i


def _singleton_check(
    structure: TableStructure,
    data: AuditCells,
    models: Mapping[int, tuple[ComponentModel, npt.NDArray[np.int64]]],
    req_lo: FloatArray,
    req_hi: FloatArray,
    lower_b: FloatArray,
    upper_b: FloatArray,
    stats: SolveStats,
    tol: float,
    frequency: bool,
) -> tuple[BoolArray, dict[str, npt.NDArray[Any]]]:
    """Re-solve each one-contributor primary cell with another singleton of its component known."""
    n = data.values.size
    comp = np.full(n, -1, dtype=np.int64)
    local = np.full(n, -1, dtype=np.int64)
    for c, (_, cells) in models.items():
        comp[cells] = c
        local[cells] = np.arange(cells.size)
    single = data.hidden & (data.contributors == 1)
    fail = np.zeros(n, dtype=bool)
    s_min = np.full(n, np.nan)
    s_max = np.full(n, np.nan)
    known_by = np.full(n, "", dtype=object)
    csr = structure.relations
    for p in np.flatnonzero(single & data.primary & (comp >= 0)):
        model, cells = models[int(comp[p])]
        rows = structure.relations_of(int(p))
        near = np.unique(
            np.concatenate([csr.indices[csr.indptr[r] : csr.indptr[r + 1]] for r in rows])
        )
        # every other singleton of the component, those sharing a relation with p first
        others = cells[single[cells] & (cells != p)]
        partners = np.concatenate([others[np.isin(others, near)], others[~np.isin(others, near)]])
        for q in partners:
            lq = int(local[q])
            model.set_bounds(lq, float(data.values[q]), float(data.values[q]))
            lo, _ = model.extreme(int(local[p]), maximize=False)
            hi, _ = model.extreme(int(local[p]), maximize=True)
            stats.lps += 2
            model.set_bounds(lq, float(lower_b[q]), float(upper_b[q]))
            if frequency:
                lo_a, hi_a = _integer_interval(np.array([lo]), np.array([hi]), tol)
                lo, hi = float(lo_a[0]), float(hi_a[0])
            bad = lo > req_lo[p] + tol or hi < req_hi[p] - tol or hi - lo <= tol
            if bad or np.isnan(s_min[p]):
                s_min[p], s_max[p] = lo, hi
                known_by[p] = structure.describe_cell(int(q))
            if bad:
                fail[p] = True
                break
    return fail, {"singleton_min": s_min, "singleton_max": s_max, "singleton_known": known_by}
