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

import threading
from collections.abc import Iterator

import highspy
import numpy as np

from fivesafes.sdc.lp.highs import new_highs
from fivesafes.sdc.secondary.attacker import Columns, balance_lp, relation_columns
from fivesafes.sdc.secondary.model import (
    DOWN,
    MOVED,
    UP,
    BoolArray,
    FloatArray,
    IntArray,
    Problem,
    Requirements,
    met,
)

# Moves kept per demand (the newest): enough to clear most insiders on later patterns
PER_DEMAND = 16


class MoveLibrary:
    """Moves indexed by the demands they meet; see the module's docstring."""

    def __init__(self, problem: Problem) -> None:
        self._reqs = Requirements.of(problem.n, problem.targets())
        self._cells: list[IntArray] = []
        self._z: list[FloatArray] = []
        self._of: dict[tuple[int, int], list[int]] = {}
        self._keys: set[int] = set()  # hashes: a collision only drops a move
        self._moved: dict[int, frozenset[int]] = {}  # made when first asked for

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
        key = hash(cells.tobytes() + np.round(z, 6).tobytes())
        if key in self._keys:
            return
        met_up, met_down = self._reqs.met_by(cells, z)
        met_by = [(c, UP) for c in cells[met_up].tolist()]
        met_by += [(c, DOWN) for c in cells[met_down].tolist()]
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

    def moved(self, m: int) -> frozenset[int]:
        """The cells move ``m`` changes (every cell it keeps), as a set for the repair."""
        found = self._moved.get(m)
        if found is None:
            found = self._moved[m] = frozenset(self._cells[m].tolist())
        return found


_local = threading.local()


def _solver() -> highspy.Highs:
    """This thread's instance for :func:`sparse_move` (a new one cost a fifth of its time)."""
    h: highspy.Highs | None = getattr(_local, "highs", None)
    if h is None:
        h = _local.highs = new_highs()
        h.setOptionValue("presolve", "off")
    return h


def sparse_move(
    problem: Problem,
    cells: IntArray,
    y: FloatArray,
    p: int,
    direction: int,
    req: float,
    columns: Columns | None = None,
) -> FloatArray | None:
    """The smallest move (least total change) of ``p`` by ``req`` on ``cells``; None if none.

    The attacker's LP maximises ``p``'s change and its optimal vertex moves most of its
    neighbourhood (a median of 100 cells on a 16,000-cell 3-D pattern), so it leaves
    few insiders' cells unchanged and fails on the next pattern as soon as one of them
    is published. This LP asks only for the requirement, at least total change (each
    cell's change split in a rise and a fall, both within the cell's room scaled by
    ``y``; every relation through ``cells`` kept additive): a median of 8 cells there,
    one box through the table, leaving unchanged 92% of the insiders the largest move
    changed. Returns the change per cell of ``cells`` (sorted), or None where no such
    move exists (the requirement is not met on these cells). ``columns``: the cells'
    :func:`attacker.relation_columns`, when the caller has them (the attacker's LP's).
    """
    rows, local, start, values = columns or relation_columns(problem, cells)
    k = int(cells.size)
    j = int(np.searchsorted(cells, p))
    if j >= k or cells[j] != p:
        return None
    inf = highspy.kHighsInf
    rise = problem.up[cells] * y[cells]
    fall = problem.down[cells] * y[cells]
    upper = np.concatenate(
        [np.where(np.isinf(rise), inf, rise), np.where(np.isinf(fall), inf, fall)]
    )
    lower = np.zeros(2 * k)
    # p moves the required way only (a rise and a fall of p together would cancel)
    way, against = (j, k + j) if direction == UP else (k + j, j)
    if upper[way] < req:
        return None  # p's own room is short of the requirement
    lower[way] = req
    upper[against] = 0.0
    nnz = int(start[-1])
    lp = balance_lp(
        int(rows.size),
        np.concatenate([start, start[1:] + nnz]).astype(np.int32),
        np.concatenate([local, local]).astype(np.int32),
        np.concatenate([values, -values]),
        np.ones(2 * k),
        lower,
        upper,
    )
    h = _solver()
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    z = x[:k] - x[k:]
    return z if met(float(z[j]) * direction, req) else None
