"""Local proofs: an unknown's interval on a neighbourhood of it, everything beyond it known.

Fixing unknowns at their true values only shrinks what the attacker can do, so an
unknown that reaches its required ends on a neighbourhood (every unknown outside it,
and any chosen ones inside, fixed at the truth) reaches them on the whole system too,
and the points that reach them are feasible points of the whole system. On a large
component a neighbourhood LP of a thousand unknowns costs milliseconds where the
component's own LP costs seconds; the audit tries it first and falls back to the
whole component only for what it cannot show.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fivesafes.sdc.lp.attack import LinearAttack

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

NEIGHBOURHOOD = 2_000  # unknowns around the cell


class LocalAttack:
    """``a x = rhs`` with bounds; intervals of one unknown on its neighbourhood."""

    def __init__(
        self,
        a: sp.spmatrix,
        rhs: FloatArray,
        truth: FloatArray,
        lower: FloatArray,
        upper: FloatArray,
        *,
        movable: BoolArray | None = None,
    ) -> None:
        self.a = sp.csr_matrix(a)
        self.rhs = np.asarray(rhs, dtype=np.float64)
        self.truth = np.asarray(truth, dtype=np.float64)
        self.lower, self.upper = lower, upper
        n = self.a.shape[1]
        self.movable = np.ones(n, dtype=bool) if movable is None else movable
        pattern = sp.csr_matrix(
            (np.ones(self.a.nnz), self.a.indices, self.a.indptr), shape=self.a.shape
        )
        self.row_cells = pattern
        self.cell_rows = sp.csr_matrix(pattern.T)
        # a sum is contradicted only beyond this give (as in the audit's own system)
        self.give = 1e-6 * (abs(self.a) @ np.abs(self.truth) + np.abs(self.rhs) + 1.0)

    def around(self, j: int, limit: int) -> IntArray:
        """Movable unknowns linked to ``j`` through sums, layer by layer, up to ``limit``.

        The layer that would pass the limit is cut to its unknowns sharing the most sums
        with those already in: on a hierarchical table those close the small cubes of
        cells that proofs of protection run through.
        """
        inside = np.zeros(self.a.shape[1], dtype=bool)
        inside[j] = True
        touched = np.zeros(self.a.shape[0])  # sums holding an unknown already in
        count = 1
        frontier = np.array([j], dtype=np.int64)
        while frontier.size and count < limit:
            rows = np.unique(self.cell_rows[frontier].indices)
            touched[rows] = 1.0
            cand = np.unique(self.row_cells[rows].indices)
            new = cand[self.movable[cand] & ~inside[cand]]
            if new.size == 0:
                break
            if count + new.size > limit:
                links = self.cell_rows[new] @ touched
                new = new[np.argsort(-links, kind="stable")[: limit - count]]
            inside[new] = True
            count += new.size
            frontier = new
        return np.flatnonzero(inside).astype(np.int64)

    def interval(
        self, j: int, *, known: BoolArray | None = None, limit: int | None = None
    ) -> tuple[float, float]:
        """min and max of unknown ``j`` with everything outside its neighbourhood, and the
        ``known`` unknowns inside it (other than ``j``), fixed at their true values."""
        cells = self.around(j, NEIGHBOURHOOD if limit is None else limit)
        rows = np.unique(self.cell_rows[cells].indices)
        a = self.a[rows]
        outside = np.ones(self.a.shape[1], dtype=bool)
        outside[cells] = False
        rhs = self.rhs[rows] - a @ np.where(outside, self.truth, 0.0)
        lower = np.asarray(self.lower[cells], dtype=np.float64).copy()
        upper = np.asarray(self.upper[cells], dtype=np.float64).copy()
        if known is not None:
            fix = known[cells] & (cells != j)
            lower[fix] = self.truth[cells][fix]
            upper[fix] = self.truth[cells][fix]
        attack = LinearAttack(
            a[:, cells], rhs, lower, upper, tolerance=self.give[rows], truth=self.truth[cells]
        )
        lo, hi = attack.interval({int(np.searchsorted(cells, j)): 1.0})
        return lo.value, hi.value
