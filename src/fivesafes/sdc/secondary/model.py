"""The suppression problem and the attacker's side of it: bounds, cuts, separation, repair.

Notation (Fischetti & Salazar-González 1999/2001). A table has cells ``i`` with
published values ``a_i`` and relations ``A x = 0``. The attacker moves a hidden cell
within ``[a_i - down_i, a_i + up_i]`` (``down``/``up``: the room his a-priori bounds
leave, e.g. ``down_i = a_i`` for non-negative data, ``up_i = inf``); a published cell
cannot move. With ``y_i = 1`` for a hidden cell and ``z = x - a``, the largest upward
move of a primary ``p`` is the LP

    max z_p  s.t.  A z = 0,  -down_i y_i <= z_i <= up_i y_i.

For any row multipliers ``pi`` put ``d = e_p - A^T pi``, ``alpha = max(d, 0)``,
``beta = max(-d, 0)``; LP duality gives ``max z_p <= sum_i (alpha_i up_i + beta_i down_i)
y_i`` for every pattern ``y``. So protection needs the *capacity cut*

    sum_i (alpha_i up_i + beta_i down_i) y_i >= upper_protection_p,

valid for every pattern whatever ``pi`` is, and violated by the current pattern when
``pi`` is the LP's optimal dual and the LP says the protection is missing. The lower
direction is the same with ``-e_p``. Every method here only hides cells to satisfy
such cuts and checks the result with the LPs, so a pattern it returns is safe.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# A protection requirement counts as met when the attacker's reach is within this
# relative tolerance of it (LP solutions carry rounding error of about 1e-9).
REL_TOL = 1e-7
ABS_TOL = 1e-7
# A cell an attacker's move changes by no more than this counts as unchanged (solver noise)
MOVED = 1e-9
# Components of hidden cells larger than this are checked on a neighbourhood of the
# primary first (fixing the cells outside it makes the attacker stronger, so a pass
# there is a pass for the whole table); the neighbourhood grows until it decides.
LOCAL_LIMIT = 60
UP, DOWN = 1, -1


@dataclass(frozen=True, eq=False)
class Problem:
    """One suppression problem: relations, attacker rooms, costs and requirements per cell."""

    relations: sp.csr_matrix  # m x n, +1 total, -1 children
    value: FloatArray
    down: FloatArray  # how far the attacker may move a hidden cell down (may be inf)
    up: FloatArray  # ... and up
    pinned: BoolArray  # single-contributor cells: their contributor knows them exactly
    cost: FloatArray
    primary: BoolArray
    lower_req: FloatArray
    upper_req: FloatArray
    fixed: BoolArray  # never hidden (structural zeros)
    forced: BoolArray  # always hidden (primaries, and earlier suppressions in a sub-table)
    describe: Callable[[int], str] = field(default=lambda i: f"cell {i}")
    # outsiders(p, cells): which single-contributor cells' contributors are not among p's
    # own (p's protection level already allows for what those know), see sdc/contributors.py
    outsiders: Callable[[int, IntArray], BoolArray] = field(
        default=lambda p, cells: np.asarray(cells) != p
    )
    # coarser(i): ways to publish cell i's codes coarser ("'industry' D86 merged into Q")
    coarser: Callable[[int], tuple[str, ...]] = field(default=lambda i: ())

    @property
    def n(self) -> int:
        """Number of cells."""
        return int(self.value.size)

    @cached_property
    def csc(self) -> sp.csc_matrix:
        """Relations by column."""
        return sp.csc_matrix(self.relations)

    @cached_property
    def adjacency(self) -> sp.csr_matrix:
        """Cells sharing a relation (cell x cell pattern)."""
        pattern = sp.csr_matrix(
            (np.ones(self.relations.nnz), self.relations.indices, self.relations.indptr),
            shape=self.relations.shape,
        )
        return sp.csr_matrix(pattern.T @ pattern)

    def targets(self) -> list[tuple[int, int, float]]:
        """(cell, direction, requirement) for every protection demand, largest first."""
        out: list[tuple[int, int, float]] = []
        for p in np.flatnonzero(self.primary):
            if self.upper_req[p] > 0:
                out.append((int(p), UP, float(self.upper_req[p])))
            if self.lower_req[p] > 0:
                out.append((int(p), DOWN, float(self.lower_req[p])))
        out.sort(key=lambda t: -t[2])
        return out

    def pattern_cost(self, hidden: BoolArray) -> float:
        """Cost of the non-primary hidden cells (what secondary suppression loses)."""
        return float(self.cost[hidden & ~self.primary].sum())

    def free_cost(self, hidden: BoolArray) -> float:
        """Cost of the hidden cells a method chose (the forced ones are not its choice)."""
        return float(self.cost[hidden & ~self.forced].sum())

    def restrict(
        self,
        cells: IntArray,
        forced: BoolArray,
        primary: BoolArray,
        lower_req: FloatArray,
        upper_req: FloatArray,
    ) -> Problem:
        """The sub-problem on ``cells`` with only the relations lying wholly inside them."""
        mask = np.zeros(self.n, dtype=bool)
        mask[cells] = True
        touching = np.unique(self.csc[:, cells].indices)
        a = self.relations[touching]
        inside = (
            np.add.reduceat(mask[a.indices].astype(np.int64), a.indptr[:-1])
            if a.nnz
            else (np.zeros(touching.size, dtype=np.int64))
        )
        whole = inside == np.diff(a.indptr)
        sub = sp.csr_matrix(a[whole][:, cells])
        keep = np.diff(sub.indptr) > 0
        describe = self.describe
        outer = self.outsiders
        coarser = self.coarser
        return Problem(
            relations=sp.csr_matrix(sub[keep]),
            value=self.value[cells],
            down=self.down[cells],
            up=self.up[cells],
            pinned=self.pinned[cells],
            cost=self.cost[cells],
            primary=primary,
            lower_req=lower_req,
            upper_req=upper_req,
            fixed=self.fixed[cells],
            forced=forced,
            describe=lambda i: describe(int(cells[i])),
            outsiders=lambda p, c: outer(int(cells[p]), cells[np.asarray(c, dtype=np.int64)]),
            coarser=lambda i: coarser(int(cells[i])),
        )


@dataclass(frozen=True)
class Cut:
    """A capacity cut ``sum coef_i y_i >= rhs`` over ``cells`` for one (primary, direction)."""

    cells: IntArray
    coef: FloatArray
    rhs: float
    primary: int
    direction: int
    pin: int = -1  # the cell the attacker knows exactly (-1: an outside attacker)

    def lhs(self, hidden: BoolArray | FloatArray) -> float:
        """The cut's left-hand side for a pattern (or a fractional one)."""
        return float(self.coef @ hidden[self.cells].astype(np.float64))


@dataclass(frozen=True, eq=False)
class Requirements:
    """Each cell's requirement in each direction (infinite: no such demand).

    For the checks of a whole move at once: an LP's move spans thousands of cells,
    and a dictionary lookup and a :func:`met` per cell and direction were a large share
    of a repair's Python.
    """

    up: FloatArray
    down: FloatArray

    @classmethod
    def of(cls, n: int, demands: Iterable[tuple[int, int, float]]) -> Requirements:
        up, down = np.full(n, np.inf), np.full(n, np.inf)
        for p, direction, req in demands:
            (up if direction == UP else down)[p] = req
        return cls(up, down)

    def met_by(self, cells: IntArray, z: FloatArray) -> tuple[BoolArray, BoolArray]:
        """Which of ``cells`` the move ``z`` (on them) takes to their requirement: up, down."""
        return met_all(z, self.up[cells]), met_all(-z, self.down[cells])


def entries(indptr: IntArray, items: IntArray) -> tuple[IntArray, IntArray]:
    """Where the entries of ``items`` sit in a compressed sparse structure (CSR rows or CSC
    columns): their positions, item after item, and how many each item has."""
    starts = indptr[items]
    lens = indptr[items + 1] - starts
    offsets = np.cumsum(lens) - lens
    return np.repeat(starts - offsets, lens) + np.arange(int(lens.sum())), lens


def met(reach: float, req: float) -> bool:
    """True when an attacker's reach covers a requirement, up to LP tolerance."""
    return reach >= req - (REL_TOL * abs(req) + ABS_TOL)


def met_all(reach: FloatArray, req: FloatArray) -> BoolArray:
    """:func:`met` cell by cell; an infinite requirement (no demand) is never met."""
    finite = np.isfinite(req)
    safe_req = np.where(finite, req, 0.0)
    return finite & (reach >= safe_req - (REL_TOL * np.abs(safe_req) + ABS_TOL))


def make_cut(
    problem: Problem,
    p: int,
    direction: int,
    rows: IntArray,
    pi: FloatArray,
    req: float,
    pin: int = -1,
) -> Cut:
    """The capacity cut of (p, direction) from row multipliers ``pi`` on ``rows``.

    With ``pin`` >= 0 the cut is for the attacker who also knows cell ``pin`` exactly
    (its single contributor): that cell gives no room whatever its status.
    """
    cells, prices = row_prices(problem, rows, pi)
    return cut_from_prices(problem, p, direction, cells, -prices, req, pin)


def row_prices(problem: Problem, rows: IntArray, pi: FloatArray) -> tuple[IntArray, FloatArray]:
    """The cells on ``rows`` (sorted) and ``A^T pi`` on them, for multipliers ``pi`` on ``rows``.

    Its negation is exactly that of ``-pi`` (each term's sign flips, the sums' order is
    the same), so one sum serves both signs of a dual (see :func:`attacker._best_cut`).
    Only the cells on ``rows`` can have a coefficient: working on them alone, not on
    every cell of the table, made a cut several times cheaper.
    """
    a = problem.relations
    pos, lens = entries(a.indptr, np.asarray(rows))
    cells, at = np.unique(a.indices[pos], return_inverse=True)
    # (bincount adds each cell's terms in order, as np.add.at did, and is many times faster)
    terms = a.data[pos] * np.repeat(pi, lens)
    prices = np.bincount(at, weights=terms, minlength=cells.size).astype(np.float64, copy=False)
    return cells.astype(np.int64), prices


def cut_from_prices(
    problem: Problem,
    p: int,
    direction: int,
    cells: IntArray,
    minus_prices: FloatArray,
    req: float,
    pin: int = -1,
) -> Cut:
    """The capacity cut of (p, direction) from ``-A^T pi`` on ``cells`` (:func:`row_prices`)."""
    j = int(np.searchsorted(cells, p))
    if j == cells.size or cells[j] != p:  # p on none of the rows
        cells, minus_prices = np.insert(cells, j, p), np.insert(minus_prices, j, 0.0)
    d = minus_prices.copy()
    d[j] += direction
    if pin >= 0:
        k = int(np.searchsorted(cells, pin))
        if k < cells.size and cells[k] == pin:
            d[k] = 0.0
    nonzero = np.abs(d) > 1e-9
    cells, dv = cells[nonzero], d[nonzero]
    with np.errstate(invalid="ignore"):
        coef = np.where(dv > 0, dv * problem.up[cells], -dv * problem.down[cells])
    coef = np.nan_to_num(coef, nan=0.0, posinf=math.inf)
    coef = np.minimum(coef, req)  # a binary y: a coefficient above the rhs acts as the rhs
    keep = coef > 1e-12 * max(req, 1.0)
    return Cut(cells[keep], coef[keep], req, p, direction, pin)


def relation_cuts(problem: Problem) -> list[Cut]:
    """The simplest cuts: along each relation of a primary, something else must move."""
    cuts: list[Cut] = []
    csc = problem.csc
    for p, direction, req in problem.targets():
        for r in csc.indices[csc.indptr[p] : csc.indptr[p + 1]]:
            coef_p = problem.relations[r, p]
            # choose pi on row r so that d_p = 0: the primary must be balanced inside row r
            pi = np.array([direction / coef_p])
            cut = make_cut(problem, p, direction, np.array([r]), pi, req)
            cuts.append(cut)
    return cuts
