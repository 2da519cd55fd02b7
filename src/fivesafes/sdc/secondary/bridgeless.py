"""Bridgeless inequalities: a hidden complement is never alone in a relation.

If a secondary cell ``j`` is the only hidden cell of some relation, the attacker reads
it off that relation exactly; publishing it changes nothing the attacker can deduce
(for the outsider and for every insider alike), and saves its cost. So some optimal
pattern has no such "bridge", and for every relation ``r`` and every free cell ``j``
of ``r``

    y_j <= sum_{k in r, k != j} y_k

holds at an optimum (Fischetti & Salazar-Gonzalez's bridgeless inequalities). They
are not implied by the capacity cuts on the LP relaxation, where a cell can be hidden
"a little" alone in a relation; adding them raises the proven lower bound and keeps
it valid (costs are strictly positive: every cell carries a tie-break).
"""

from __future__ import annotations

import numpy as np

from fivesafes.sdc.secondary.model import BoolArray, FloatArray, IntArray, Problem

VIOLATION = 1e-6
MAX_ROWS = 5_000  # per separation round, the most violated first


def bridgeless_rows(problem: Problem, y: FloatArray) -> list[tuple[IntArray, FloatArray]]:
    """Violated bridgeless inequalities at ``y``: rows ``coef . y >= 0`` over ``cells``."""
    a = problem.relations
    movable = ~problem.fixed
    yv = np.where(movable, np.clip(y, 0.0, 1.0), 0.0)
    counts = np.diff(a.indptr)
    row_of = np.repeat(np.arange(a.shape[0]), counts)
    cell = a.indices
    sums = np.add.reduceat(yv[cell], a.indptr[:-1]) if a.nnz else np.zeros(0)
    sums = np.where(counts > 0, sums, 0.0)
    free = ~problem.forced[cell] & movable[cell]
    excess = 2.0 * yv[cell] - sums[row_of]
    hits = np.flatnonzero(free & (excess > VIOLATION))
    if hits.size == 0:
        return []
    hits = hits[np.argsort(-excess[hits], kind="stable")[:MAX_ROWS]]
    out: list[tuple[IntArray, FloatArray]] = []
    for e in hits.tolist():
        r = int(row_of[e])
        j = int(cell[e])
        cells = a.indices[a.indptr[r] : a.indptr[r + 1]]
        cells = cells[movable[cells]].astype(np.int64)
        coef = np.where(cells == j, -1.0, 1.0)
        out.append((cells, coef))
    return out


def drop_bridges(problem: Problem, hidden: BoolArray) -> BoolArray:
    """Publish again every complement that is alone in a relation (until none is).

    Such a cell is read off its relation exactly, so publishing it tells the attacker
    (outsider or insider) nothing new: the pattern stays exactly as safe, and cheaper.
    """
    out = np.asarray(hidden, dtype=bool).copy()
    a = problem.relations
    if a.nnz == 0:
        return out
    counts = np.diff(a.indptr)
    row_of = np.repeat(np.arange(a.shape[0]), counts)
    while True:
        per_row = np.add.reduceat(out[a.indices].astype(np.int64), a.indptr[:-1])
        per_row = np.where(counts > 0, per_row, 0)
        alone = out[a.indices] & (per_row[row_of] == 1) & ~problem.forced[a.indices]
        cells = np.unique(a.indices[alone])
        if cells.size == 0:
            return out
        out[cells] = False
