"""The singleton check: what the single contributor of one hidden cell learns about another.

A cell with one contributor is known exactly to that contributor. For each primary cell P
with one contributor, every other hidden single-contributor cell Q of P's component is
fixed at its value in turn (those sharing a relation with P first), and P's interval is
solved again; P fails when that interval no longer meets its requirement.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from fivesafes.sdc.audit_input import AuditCells
from fivesafes.sdc.audit_lp import SolveStats
from fivesafes.sdc.linear_attack import ComponentModel
from fivesafes.sdc.structure import TableStructure

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
            if _nested(structure, int(p), int(q)):
                continue  # a one-contributor cell above or below p has p's own contributor
            lq = int(local[q])
            model.set_bounds(lq, float(data.values[q]), float(data.values[q]))
            lo, _ = model.extreme(int(local[p]), maximize=False)
            hi, _ = model.extreme(int(local[p]), maximize=True)
            stats.lps += 2
            model.set_bounds(lq, float(lower_b[q]), float(upper_b[q]))
            if frequency:
                lo_a, hi_a = integer_interval(np.array([lo]), np.array([hi]), tol)
                lo, hi = float(lo_a[0]), float(hi_a[0])
            bad = lo > req_lo[p] + tol or hi < req_hi[p] - tol or hi - lo <= tol
            if bad or np.isnan(s_min[p]):
                s_min[p], s_max[p] = lo, hi
                known_by[p] = structure.describe_cell(int(q))
            if bad:
                fail[p] = True
                break
    return fail, {"singleton_min": s_min, "singleton_max": s_max, "singleton_known": known_by}


def _nested(structure: TableStructure, p: int, q: int) -> bool:
    """True when q's codes are p's or ancestors of them in every dimension, or the reverse."""
    ids = structure.code_ids
    above = below = True
    for d, h in enumerate(structure.hierarchies):
        cp, cq = h.order[ids[p, d]], h.order[ids[q, d]]
        if cp != cq:
            above &= cq in h.ancestors(cp)
            below &= cp in h.ancestors(cq)
    return above or below
