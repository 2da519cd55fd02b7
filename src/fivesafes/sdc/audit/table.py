"""The independent audit of a suppression pattern: the attacker's exact interval per hidden cell.

Whatever method chose the pattern, the audit recomputes from scratch what an attacker
who knows every published cell, the table's additive relations and bounds on the
hidden cells can deduce, and reports every primary cell whose required protection is
not met. See docs/audit.md for the model, the tolerance and what is checked.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fivesafes.errors import DataError
from fivesafes.sdc.audit.inputs import AuditCells, attacker_bounds, read_audit_cells
from fivesafes.sdc.audit.intervals import SolvePlan, SolveStats, solve_intervals
from fivesafes.sdc.audit.result import (
    FAIL_EXACT,
    FAIL_INTERVAL,
    FAIL_PUBLISHED,
    FAIL_SINGLETON,
    INTERVAL_COLUMNS,
    INTERVAL_MODES,
    AuditResult,
    IntervalMode,
)
from fivesafes.sdc.audit.singleton import integer_interval, singleton_check
from fivesafes.sdc.audit.witness import Witnesses, verify_witnesses
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.linked import LinkedStructure, build_linked_structure
from fivesafes.sdc.lp.structure import TableStructure, build_structure
from fivesafes.sdc.progress import Progress
from fivesafes.sdc.progress import stage as progress_stage

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# A bound counts as reached when it is within RTOL * (largest |value| in the table), and
# never closer than ABS_TOL: HiGHS's own primal feasibility tolerance is 1e-7.
DEFAULT_RTOL = 1e-9
ABS_TOL = 1e-7


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
    witnesses: Witnesses | None = None,
    progress: Progress | None = None,
) -> AuditResult:
    """Audit one table: build its relations, then solve the attacker's LPs for every hidden cell.

    ``bounds`` (one lower and one upper array aligned with the rows of ``cells``) override
    ``a_priori_percent``, which overrides the default (non-negative when no value is negative).
    ``witnesses``: attacker moves offered by the method that chose the pattern, keyed by
    (row, +1 upper / -1 lower); each is verified, never trusted (sdc/audit/witness.py).
    ``progress`` hears of the LPs as they are solved.
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
        witnesses=witnesses,
        progress=progress,
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
    witnesses: Witnesses | None = None,
    progress: Progress | None = None,
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
        witnesses=witnesses,
        progress=progress,
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
    progress: Progress | None = None,
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
        progress=progress,
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
    records = np.full(n, np.nan)
    for m, p in zip(linked.members, parts, strict=True):
        values[m] = p.values
        published[m] |= ~p.hidden
        primary[m] |= p.primary
        lower[m] = np.maximum(lower[m], p.lower_protection)
        upper[m] = np.maximum(upper[m], p.upper_protection)
        contributors[m] = np.where(np.isnan(contributors[m]), p.contributors, contributors[m])
        if p.records is not None:
            records[m] = np.where(np.isnan(records[m]), p.records, records[m])
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
        records=None if np.isnan(records).all() else records,
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
    witnesses: Witnesses | None = None,
    progress: Progress | None = None,
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
    verified = verify_witnesses(
        witnesses, structure.relations, values, data.hidden, lower_b, upper_b, tol
    )
    if witnesses:
        plan = replace(plan, seen_lo=verified.seen_lo, seen_hi=verified.seen_hi)
    with progress_stage(progress, "audit: attacker LPs", total=2 * int(data.hidden.sum())) as lps:
        lo, hi, solved_exactly, models = solve_intervals(
            structure.relations,
            values,
            data.hidden,
            lower_b,
            upper_b,
            stats,
            tolerance=tol,
            plan=plan,
            progress=lps,
        )
        lps.outcome = f"{stats.lps:,} LPs"
    # a primary cell published (linked tables) is known exactly
    shown = data.primary & ~data.hidden
    lo[shown] = values[shown]
    hi[shown] = values[shown]
    if frequency:
        lo, hi = integer_interval(lo, hi, tol)
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
        with progress_stage(progress, "audit: singleton check"):
            s_fail, singleton_cols = singleton_check(
                structure,
                data,
                models,
                req_lo,
                req_hi,
                lower_b,
                upper_b,
                stats,
                tol,
                frequency,
                witnessed=verified,
                failed=exact | short,
            )
        fail_kinds.append((FAIL_SINGLETON, s_fail))
        stats.seconds["singleton"] = time.perf_counter() - t_s

    report = data.hidden | data.primary
    idx = np.flatnonzero(report)
    failure = np.full(values.size, "", dtype=object)
    for kind, mask in fail_kinds:
        failure = np.where(mask, np.where(failure == "", kind, failure + ";" + kind), failure)
    failed = failure != ""
    table = structure.keys.iloc[idx].astype(str).reset_index(drop=True)
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
        table[name] = col[idx]
    table["status"] = table["status"].astype(str)
    table["failure"] = table["failure"].astype(str)
    table["interval"] = table["interval"].astype(str)
    failures = table[~table["protected"]].reset_index(drop=True)
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
        "batch_lps": stats.batch_lps,
        "open_after_batch": stats.after_batch,
        "local_lps": stats.local_lps,
        "open_after_local": stats.after_local,
        "witnesses_verified": len(verified.moves),
        "witnesses_rejected": verified.rejected,
    }
    return AuditResult(
        intervals=table,
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
    return SolvePlan(lo_t, hi_t, deferred, integer=frequency)


__all__ = [
    "INTERVAL_COLUMNS",
    "INTERVAL_MODES",
    "AuditResult",
    "IntervalMode",
    "audit_cells",
    "audit_linked",
    "audit_table",
    "combine_linked",
]
