"""The singleton check: what the single contributor of one hidden cell learns about a primary.

A cell with one contributor is known exactly to that contributor. For each hidden
primary cell P, every hidden single-contributor cell Q of P's component whose
contributor is not one of P's own (an *outside* insider, decided by
:class:`fivesafes.sdc.contributors.InsiderRule`: P's protection level already allows for
what its own contributors know) is fixed at its value in turn (those sharing a relation
with P first), and P's interval is solved again; P fails when that interval no longer
meets its requirement.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from fivesafes.sdc.audit import batch as audit_batch
from fivesafes.sdc.audit import local as audit_local
from fivesafes.sdc.audit.inputs import AuditCells
from fivesafes.sdc.audit.intervals import SolveStats
from fivesafes.sdc.audit.local import LocalAttack
from fivesafes.sdc.audit.witness import VerifiedWitnesses, moves_by_end, proves_against_insiders
from fivesafes.sdc.contributors import InsiderRule
from fivesafes.sdc.lp.attack import ComponentModel
from fivesafes.sdc.lp.structure import TableStructure

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def integer_interval(lo: FloatArray, hi: FloatArray, tol: float) -> tuple[FloatArray, FloatArray]:
    """Counts are whole numbers: the attacker rounds the LP interval inwards."""
    with np.errstate(invalid="ignore"):
        lo_i = np.where(np.isfinite(lo), np.ceil(lo - tol), lo)
        hi_i = np.where(np.isfinite(hi), np.floor(hi + tol), hi)
    return lo_i, hi_i


def singleton_check(
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
    *,
    witnessed: VerifiedWitnesses | None = None,
    failed: BoolArray | None = None,
) -> tuple[BoolArray, dict[str, npt.NDArray[Any]]]:
    """Re-solve each hidden primary cell with each outside insider of its component known.

    A cell without an outside insider in its component passes (the outsider's interval
    is all there is). A cell whose verified witnesses reach both its ends without moving an
    outside insider's cell (for each insider, some witness that leaves his cell where
    it is) passes at once. Then (on a component larger than a
    neighbourhood) on a neighbourhood of the cell, with
    every hidden cell outside it and every outside insider's cell inside it known: that
    attacker knows more than any one insider, so a cell that keeps its protection there
    keeps it against each. Then, for the cells that do not, the same
    coalition on the whole component (which differs from one cell to the next in a few
    bounds, so each solve starts warm). Only the cells that fail both are re-solved
    against smaller groups of insiders (a group that breaks the cell is halved), down to
    one insider at a time. ``failed``: primaries that already fail against the outsider
    (nothing more to learn about them).
    """
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
    rule = InsiderRule.of(structure, data.records)
    values = data.values

    def solve(model: ComponentModel, p: int) -> tuple[float, float, bool]:
        lo, _ = model.extreme(int(local[p]), maximize=False)
        hi, _ = model.extreme(int(local[p]), maximize=True)
        stats.lps += 2
        if frequency:
            lo_a, hi_a = integer_interval(np.array([lo]), np.array([hi]), tol)
            lo, hi = float(lo_a[0]), float(hi_a[0])
        return lo, hi, bool(lo > req_lo[p] + tol or hi < req_hi[p] - tol or hi - lo <= tol)

    def known(model: ComponentModel, cells: npt.NDArray[np.int64], yes: bool) -> None:
        for q in cells.tolist():
            if yes:
                model.set_bounds(int(local[q]), float(values[q]), float(values[q]))
            else:
                model.set_bounds(int(local[q]), float(lower_b[q]), float(upper_b[q]))

    open_ = data.primary & data.hidden & (comp >= 0)
    if failed is not None:
        open_ &= ~failed
    todo = np.flatnonzero(open_)
    candidates = np.flatnonzero(single & (comp >= 0))
    hidden = data.hidden
    nearby = LocalAttack(
        structure.relations,
        np.zeros(structure.relations.shape[0]),
        values,
        np.where(hidden, lower_b, values),
        np.where(hidden, upper_b, values),
        movable=hidden,
    )
    comp_size = np.bincount(comp[comp >= 0], minlength=len(models) + 1)
    passed = np.zeros(todo.size, dtype=bool)
    t0 = time.perf_counter()
    if witnessed is not None:
        passed = _witnessed(witnessed, todo, comp, candidates, rule, values, req_lo, req_hi, tol)
        known_by[todo[passed]] = (
            "every other single-contributor cell (a verified move leaves them all)"
        )
    t1 = time.perf_counter()
    coalition = _coalition_points(
        models, todo[~passed], single, values, req_lo, req_hi, frequency, tol, stats
    )
    passed[np.isin(todo, coalition)] = True
    known_by[coalition] = "every single-contributor cell at once"
    t2 = time.perf_counter()
    for i, p in enumerate(todo.tolist()):
        if passed[i]:
            continue
        near = candidates[comp[candidates] == comp[p]]
        insiders = np.zeros(n, dtype=bool)
        insiders[near[rule.outside(p, near)]] = True
        if not insiders.any():
            passed[i] = True  # no outside insider can see into p's component
            continue
        if int(comp_size[comp[p]]) <= audit_local.NEIGHBOURHOOD:
            continue  # the neighbourhood would be the component: its warm model is cheaper
        lo, hi = nearby.interval(p, known=insiders)
        stats.lps += 2
        if frequency:
            lo_a, hi_a = integer_interval(np.array([lo]), np.array([hi]), tol)
            lo, hi = float(lo_a[0]), float(hi_a[0])
        if lo <= req_lo[p] + tol and hi >= req_hi[p] - tol and hi - lo > tol:
            passed[i] = True
            s_min[p], s_max[p] = lo, hi
            known_by[p] = "every other single-contributor cell, and the cells beyond"
    t3 = time.perf_counter()
    stats.seconds.update(
        singleton_witnesses=t1 - t0, singleton_coalition=t2 - t1, singleton_local=t3 - t2
    )
    todo = todo[~passed]
    one_by_one: list[int] = []
    for c in np.unique(comp[todo]).tolist():
        model, cells = models[int(c)]
        insiders = cells[single[cells]]
        known(model, insiders, True)
        for p in todo[comp[todo] == c].tolist():
            # p itself, and the cells whose contributor is one of p's own
            free = insiders[rule.shares_contributor(p, insiders)]
            known(model, free, False)
            lo, hi, bad = solve(model, p)
            known(model, free, True)
            if bad:
                one_by_one.append(p)
            elif free.size < insiders.size:
                s_min[p], s_max[p] = lo, hi
                known_by[p] = "every other single-contributor cell"
        known(model, insiders, False)

    csr = structure.relations
    for p in one_by_one:
        model, cells = models[int(comp[p])]
        rows = structure.relations_of(int(p))
        near = np.unique(
            np.concatenate([csr.indices[csr.indptr[r] : csr.indptr[r + 1]] for r in rows])
        )
        # every other singleton of the component, those sharing a relation with p first
        others = cells[single[cells] & (cells != p)]
        others = others[rule.outside(p, others)]
        partners = np.concatenate([others[np.isin(others, near)], others[~np.isin(others, near)]])
        # group testing: a group of insiders known together is stronger than each of
        # them, so a group that cannot break p clears all its members; one that can is
        # halved, until a single insider breaks p or every group is cleared
        groups = [partners]
        while groups:
            group = groups.pop()
            known(model, group, True)
            lo, hi, bad = solve(model, p)
            known(model, group, False)
            if group.size == 1 and (bad or np.isnan(s_min[p])):
                s_min[p], s_max[p] = lo, hi
                known_by[p] = structure.describe_cell(int(group[0]))
            if bad and group.size == 1:
                fail[p] = True
                break
            if bad:
                half = group.size // 2
                groups += [group[half:], group[:half]]  # the first half (nearest) next
    return fail, {"singleton_min": s_min, "singleton_max": s_max, "singleton_known": known_by}


def _witnessed(
    witnessed: VerifiedWitnesses,
    todo: npt.NDArray[np.int64],
    comp: npt.NDArray[np.int64],
    candidates: npt.NDArray[np.int64],
    rule: InsiderRule,
    values: FloatArray,
    req_lo: FloatArray,
    req_hi: FloatArray,
    tol: float,
) -> BoolArray:
    """The primaries whose verified moves reach both ends, for each outside insider one
    that leaves his cell unmoved."""
    n = values.size
    passed = np.zeros(todo.size, dtype=bool)
    by_end = moves_by_end(witnessed)
    for i, p in enumerate(todo.tolist()):
        if (p, 1) not in by_end and (p, -1) not in by_end:
            continue
        near = candidates[comp[candidates] == comp[p]]
        insiders = np.zeros(n, dtype=bool)
        insiders[near[rule.outside(p, near)]] = True
        passed[i] = bool(insiders.any()) and proves_against_insiders(
            witnessed, p, insiders, values, req_lo, req_hi, tol
        )
    return passed


def _coalition_points(
    models: Mapping[int, tuple[ComponentModel, npt.NDArray[np.int64]]],
    todo: npt.NDArray[np.int64],
    single: BoolArray,
    values: FloatArray,
    req_lo: FloatArray,
    req_hi: FloatArray,
    frequency: bool,
    tol: float,
    stats: SolveStats,
) -> npt.NDArray[np.int64]:
    """Primaries that keep their protection with EVERY single-contributor cell known.

    That coalition knows more than the outside insiders of any one primary (whose own
    contributors' cells it also fixes), so its feasible points are points of each
    primary's own attacker system: a primary the batch points take to both required
    ends passes against each insider, however many primaries there are, in a handful of
    LPs per component (the per-primary coalition LPs on a 60,000-cell component took
    seconds each). Single-contributor primaries are not tried: the coalition would fix
    them too. Small components are left to the warm per-primary models.
    """
    found: list[npt.NDArray[np.int64]] = []
    if todo.size == 0:
        return np.zeros(0, dtype=np.int64)
    for model, cells in models.values():
        if cells.size < audit_batch.MIN_CELLS:
            continue
        mine = np.isin(cells, todo) & ~single[cells]
        if not mine.any():
            continue
        v = values[cells]
        lo_req = np.where(mine, req_lo[cells], np.nan)
        hi_req = np.where(mine, req_hi[cells], np.nan)
        if frequency:  # a point at the rounded-outward end survives the attacker's rounding
            lo_req = np.floor(lo_req + tol)
            hi_req = np.ceil(hi_req - tol)
        need_lo = lo_req < v - tol
        need_hi = hi_req > v + tol
        try_ = mine & (need_lo | need_hi)
        if not try_.any():
            continue
        target_lo = np.where(try_ & need_lo, lo_req, np.nan)
        target_hi = np.where(try_ & need_hi, hi_req, np.nan)
        fixed = single[cells]
        lower = np.where(fixed, v, model.lower)
        upper = np.where(fixed, v, model.upper)
        seen_lo = v.astype(np.float64).copy()
        seen_hi = v.astype(np.float64).copy()
        stats.lps += audit_batch.batch_points(
            model, v, target_lo, target_hi, seen_lo, seen_hi, lower=lower, upper=upper
        )
        ok = (
            try_
            & (~need_lo | (seen_lo <= target_lo + tol))
            & (~need_hi | (seen_hi >= target_hi - tol))
        )
        found.append(cells[ok])
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
