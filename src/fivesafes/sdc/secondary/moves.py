"""Attacker moves kept across the patterns of one method run, to prove demands without LPs.

An attacker LP's optimal move ``z`` on a pattern (cells, change per cell) keeps every
relation additive and each cell within its own room (bounds that do not depend on
the pattern), with zero on every published cell. It is therefore a feasible move on
any pattern that hides every cell it changes: it proves there each demand it meets
(``z_c`` beyond ``c``'s requirement in that direction), and it proves it against
every insider whose cell it leaves unchanged. Patterns of one run (the MIP's, the
repaired ones, the shrink's) share most of their cells, so most demands are proved
by a move an earlier LP found: only the rest need an LP (:func:`repair.repair`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from fivesafes.sdc.secondary.model import DOWN, UP, BoolArray, FloatArray, IntArray, Problem, met

# A change this small is solver noise: the cell counts as unchanged (as in repair._still)
MOVED = 1e-9
# Moves kept per demand (the newest): enough to clear most insiders on later patterns
PER_DEMAND = 16


class MoveLibrary:
    """Moves indexed by the demands they meet; see the module's docstring."""

    def __init__(self, problem: Problem) -> None:
        self.req_of = {(p, dr): rq for p, dr, rq in problem.targets()}
        self._cells: list[IntArray] = []
        self._z: list[FloatArray] = []
        self._of: dict[tuple[int, int], list[int]] = {}
        self._keys: set[bytes] = set()

    def __len__(self) -> int:
        return len(self._cells)

    def add(self, cells: IntArray, z: FloatArray) -> None:
        """Keep an LP's move (``z`` over ``cells``; no move when sizes differ: unbounded)."""
        if z.size != cells.size:
            return
        keep = np.abs(z) > MOVED
        cells, z = cells[keep].astype(np.int64), z[keep].astype(np.float64)
        if cells.size == 0:
            return
        key = cells.tobytes() + np.round(z, 6).tobytes()
        if key in self._keys:
            return
        met_by: list[tuple[int, int]] = []
        for c, zc in zip(cells.tolist(), z.tolist(), strict=True):
            for dr in (UP, DOWN):
                rq = self.req_of.get((c, dr))
                if rq is not None and met(zc * dr, rq):
                    met_by.append((c, dr))
        if not met_by:
            return
        self._keys.add(key)
        m = len(self._cells)
        self._cells.append(cells)
        self._z.append(z)
        for d in met_by:
            ids = self._of.setdefault(d, [])
            ids.append(m)
            if len(ids) > PER_DEMAND:
                del ids[0]

    def proving(self, p: int, direction: int, hidden: BoolArray) -> Iterator[int]:
        """Ids of kept moves that prove (p, direction) on ``hidden`` (newest first)."""
        for m in reversed(self._of.get((p, direction), ())):
            if hidden[self._cells[m]].all():
                yield m

    def move(self, m: int) -> tuple[IntArray, FloatArray]:
        return self._cells[m], self._z[m]

    def valid_on(self, hidden: BoolArray) -> BoolArray:
        """Per kept move, whether ``hidden`` hides every cell it changes (one pass)."""
        if not self._cells:
            return np.zeros(0, dtype=bool)
        sizes = np.fromiter((c.size for c in self._cells), dtype=np.int64, count=len(self))
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        return np.logical_and.reduceat(hidden[np.concatenate(self._cells)], starts)

    def demands(self) -> Iterator[tuple[tuple[int, int], list[int]]]:
        """(demand, its move ids) for every demand some kept move meets."""
        return iter(self._of.items())
