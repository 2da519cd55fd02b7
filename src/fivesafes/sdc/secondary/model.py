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

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fivesafes.errors import InfeasibleProtectionError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# A protection requirement counts as met when the attacker's reach is within this
# relative tolerance of it (LP solutions carry rounding error of about 1e-9).
REL_TOL = 1e-7
ABS_TOL = 1e-7
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
    # inside(q, p): every unit of cell q is also in cell p (q is p or below it in every
    # dimension); p's own protection level already allows for its contributors' knowledge
    inside: Callable[[int, int], bool] = field(default=lambda q, p: q == p)

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
        contained = self.inside
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
            inside=lambda q, p: contained(int(cells[q]), int(cells[p])),
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


def met(reach: float, req: float) -> bool:
    """True when an attacker's reach covers a requirement, up to LP tolerance."""
    return reach >= req - (REL_TOL * abs(req) + ABS_TOL)


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
    a = problem.relations
    starts, ends = a.indptr[rows], a.indptr[np.asarray(rows) + 1]
    lens = ends - starts
    # positions of every nonzero of the chosen rows, without building a sliced matrix
    offsets = np.cumsum(lens) - lens
    pos = np.repeat(starts - offsets, lens) + np.arange(int(lens.sum()))
    d_full = np.zeros(problem.n)
    np.add.at(d_full, a.indices[pos], -a.data[pos] * np.repeat(pi, lens))
    d_full[p] += direction
    if pin >= 0:
        d_full[pin] = 0.0
    cells = np.flatnonzero(np.abs(d_full) > 1e-9)
    dv = d_full[cells]
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


def _gather(indptr: IntArray, indices: IntArray, items: IntArray) -> IntArray:
    """The concatenated index lists of ``items`` in a compressed sparse structure."""
    starts, ends = indptr[items], indptr[items + 1]
    lens = ends - starts
    if lens.sum() == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(lens) - lens
    pos = np.repeat(starts - offsets, lens) + np.arange(int(lens.sum()))
    return np.asarray(indices[pos], dtype=np.int64)


def _lp(problem: Problem, cells: IntArray, y: FloatArray) -> tuple[highspy.Highs, IntArray]:
    csc = problem.csc
    starts = csc.indptr[cells]
    lens = csc.indptr[cells + 1] - starts
    offsets = np.cumsum(lens) - lens
    pos = np.repeat(starts - offsets, lens) + np.arange(int(lens.sum()))
    rows, local = np.unique(csc.indices[pos], return_inverse=True)
    col_start = np.concatenate(([0], np.cumsum(lens))).astype(np.int32)
    lp = highspy.HighsLp()
    lp.num_col_ = int(cells.size)
    lp.num_row_ = int(rows.size)
    lp.col_cost_ = np.zeros(cells.size)
    inf = highspy.kHighsInf
    lo = -problem.down[cells] * y[cells]
    hi = problem.up[cells] * y[cells]
    lp.col_lower_ = np.where(np.isinf(lo), -inf, lo)
    lp.col_upper_ = np.where(np.isinf(hi), inf, hi)
    lp.row_lower_ = np.zeros(rows.size)
    lp.row_upper_ = np.zeros(rows.size)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = col_start
    lp.a_matrix_.index_ = local.astype(np.int32)
    lp.a_matrix_.value_ = csc.data[pos].astype(np.float64)
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("presolve", "off")  # warm-started re-solves are faster without it
    h.passModel(lp)
    return h, rows


_DECIDED = (
    highspy.HighsModelStatus.kOptimal,
    highspy.HighsModelStatus.kUnbounded,
    highspy.HighsModelStatus.kUnboundedOrInfeasible,  # z = 0 is feasible: unbounded
)


class Attacker:
    """Solves the attacker's LPs on a pattern, on neighbourhoods of hidden cells, warm-started.

    The LP for a primary uses the hidden cells connected to it through relations, up to
    ``limit`` of them (a breadth-first neighbourhood); hidden cells beyond are treated as
    published, which makes the attacker stronger, so a demand met there is met. LPs
    are cached by their cell set, so a boolean pattern may grow (:meth:`hide`) between
    calls without invalidating them.
    """

    def __init__(self, problem: Problem, pattern: BoolArray | FloatArray) -> None:
        self.problem = problem
        # a fractional pattern scales each cell's room (the LP relaxation of the MIP)
        self.y = np.clip(np.asarray(pattern, dtype=np.float64), 0.0, 1.0)
        self.hidden = self.y > 1e-9
        self._cache: dict[bytes, tuple[highspy.Highs, IntArray, dict[int, int]]] = {}
        self._visited: BoolArray | None = None
        # cell -> the cached LP (cell set) it was first checked in: its neighbours' checks
        # reuse that LP with another objective (a warm-started re-solve, no rebuild)
        self._cluster: dict[int, IntArray] = {}
        self.lp_count = 0

    def hide(self, cells: Iterable[int]) -> None:
        """Add cells to a boolean pattern."""
        for c in cells:
            self.y[c] = 1.0
            self.hidden[c] = True

    def cluster(self, p: int) -> IntArray | None:
        """A cached LP's cell set containing ``p`` (a valid, conservative check), if any."""
        cells = self._cluster.get(p)
        if cells is None or cells.tobytes() not in self._cache:
            return None
        return cells

    def neighbourhood(self, p: int, limit: int) -> tuple[IntArray, bool]:
        """Hidden cells linked to ``p``, layer by layer up to about ``limit``; and if complete."""
        adj = self.problem.adjacency
        if self._visited is None:
            self._visited = np.zeros(self.problem.n, dtype=bool)
        visited = self._visited
        frontier = np.array([p], dtype=np.int64)
        members = [frontier]
        visited[p] = True
        count = 1
        complete = True
        while frontier.size:
            cand = np.unique(_gather(adj.indptr, adj.indices, frontier))
            new = cand[self.hidden[cand] & ~visited[cand]]
            if new.size == 0:
                break
            if count + new.size > limit and count > 1:
                complete = False
                break
            visited[new] = True
            members.append(new)
            count += new.size
            frontier = new
        cells = np.sort(np.concatenate(members))
        visited[cells] = False
        return cells, complete

    def reach(
        self, p: int, direction: int, cells: IntArray, pin: int = -1
    ) -> tuple[float, FloatArray | None, IntArray, FloatArray]:
        """The attacker's largest move of ``p`` in ``direction``, with the dual and the LP solution.

        ``pin``: a cell the attacker knows exactly (-1: none). Returns (reach, pi on rows or
        None when unbounded, rows, primal z on the LP's cells).
        """
        key = cells.tobytes()
        if key not in self._cache:
            h, rows = _lp(self.problem, cells, self.y)
            self._cache[key] = (h, rows, {int(c): i for i, c in enumerate(cells)})
            if len(self._cache) > 256:
                self._cache.pop(next(iter(self._cache)))
            for c in cells.tolist():
                self._cluster.setdefault(c, cells)
        h, rows, pos = self._cache[key]
        j = pos[p]
        k = pos.get(pin, -1) if pin >= 0 else -1
        if k >= 0:
            h.changeColBounds(k, 0.0, 0.0)
        h.changeColCost(j, -float(direction))
        try:
            h.run()
            self.lp_count += 1
            status = h.getModelStatus()
            if status not in _DECIDED:
                # a warm start that went astray: solve again from scratch, then with presolve
                h.clearSolver()
                h.run()
                status = h.getModelStatus()
                if status not in _DECIDED:
                    h.setOptionValue("presolve", "on")
                    h.clearSolver()
                    h.run()
                    status = h.getModelStatus()
                    h.setOptionValue("presolve", "off")
            if status != highspy.HighsModelStatus.kOptimal:
                if status in _DECIDED:  # unbounded: the attacker learns nothing on this side
                    h.clearSolver()
                    return math.inf, None, rows, np.zeros(0)
                raise InfeasibleProtectionError(
                    f"the attacker's LP for {self.problem.describe(p)} ended with status "
                    f"{h.modelStatusToString(status)}",
                    hint="check the table's values and protection levels are finite and additive",
                )
            sol = h.getSolution()
            value = -float(h.getInfo().objective_function_value)
            pi = np.asarray(sol.row_dual, dtype=np.float64)
            z = np.asarray(sol.col_value, dtype=np.float64)
            return value, pi, rows, z
        finally:
            h.changeColCost(j, 0.0)
            if k >= 0:
                yk = float(self.y[pin])
                lo, hi = -self.problem.down[pin] * yk, self.problem.up[pin] * yk
                h.changeColBounds(
                    k,
                    -highspy.kHighsInf if math.isinf(lo) else lo,
                    highspy.kHighsInf if math.isinf(hi) else hi,
                )


def _best_cut(
    problem: Problem,
    p: int,
    direction: int,
    rows: IntArray,
    pi: FloatArray,
    req: float,
    hidden: BoolArray | FloatArray,
    pin: int,
) -> Cut:
    # HiGHS's sign convention for row duals is that of a minimisation; the cut is valid for
    # either sign, so take the one that is tight at the current pattern.
    a = make_cut(problem, p, direction, rows, pi, req, pin)
    b = make_cut(problem, p, direction, rows, -pi, req, pin)
    return a if a.lhs(hidden) <= b.lhs(hidden) else b


def _check(
    att: Attacker,
    p: int,
    direction: int,
    req: float,
    pin: int,
) -> tuple[Cut | None, IntArray, FloatArray]:
    """A violated cut for one demand (None when met) and the LP's move (cells, z)."""
    problem = att.problem
    near = att.cluster(p)
    if near is not None and near.size > 1:
        reach, pi, _, z = att.reach(p, direction, near, pin)
        if pi is None or met(reach, req):
            return None, near, z
    limit = LOCAL_LIMIT
    while True:
        cells, complete = att.neighbourhood(p, limit)
        reach, pi, rows, z = att.reach(p, direction, cells, pin)
        if pi is None or met(reach, req):
            return None, cells, z
        cut = _best_cut(problem, p, direction, rows, pi, req, att.y, pin)
        if not met(cut.lhs(att.y), req) or complete:
            # (complete and not violated: the LP and its dual disagree beyond tolerance;
            # the cut is still valid and cover() acts on it)
            return cut, cells, z
        limit *= 4  # hidden cells outside the neighbourhood matter: look wider


def _pins(att: Attacker, p: int) -> list[int]:
    """Hidden single-contributor cells that could matter to ``p`` (other than ``p``).

    Those in ``p``'s attacker neighbourhood (its whole connected set of hidden cells when
    that is small) and those sharing a relation with it. A cell outside the neighbourhood
    is already treated as known by the neighbourhood LPs.
    """
    problem = att.problem
    if not problem.pinned.any():
        return []
    cells, _ = att.neighbourhood(p, LOCAL_LIMIT)
    out = {int(c) for c in cells[problem.pinned[cells]].tolist()}
    a, csc = problem.relations, problem.csc
    for r in csc.indices[csc.indptr[p] : csc.indptr[p + 1]]:
        for q in a.indices[a.indptr[r] : a.indptr[r + 1]]:
            if att.hidden[q] and problem.pinned[q]:
                out.add(int(q))
    return sorted(q for q in out if not problem.inside(q, p))


def _certify(
    cells: IntArray,
    z: FloatArray,
    req_of: dict[tuple[int, int], float],
    certified: set[tuple[int, int]],
) -> None:
    """An LP's optimal move is feasible for every other cell's LP: it meets their demands too."""
    for c, zc in zip(cells.tolist(), z.tolist(), strict=False):
        for dr in (UP, DOWN):
            rq = req_of.get((c, dr))
            if rq is not None and met(zc * dr, rq):
                certified.add((c, dr))


def separate(
    problem: Problem,
    hidden: BoolArray | FloatArray,
    targets: Iterable[tuple[int, int, float]] | None = None,
    *,
    attacker: Attacker | None = None,
) -> tuple[list[Cut], int]:
    """Cuts violated by ``hidden`` (one per unprotected demand and attacker) and LPs solved.

    Attackers: an outsider, and (``problem.pinned``) the single contributor of each hidden
    single-contributor cell in a relation of the primary, who knows that cell exactly.
    """
    att = attacker or Attacker(problem, hidden)
    cuts: list[Cut] = []
    certified: set[tuple[int, int]] = set()
    todo = list(targets) if targets is not None else problem.targets()
    req_of = {(p, dr): rq for p, dr, rq in todo}
    for p, direction, req in todo:
        if (p, direction) not in certified:
            cut, cells, z = _check(att, p, direction, req, -1)
            if cut is not None:
                cuts.append(cut)
                continue
            _certify(cells, z, req_of, certified)
        for pin in _pins(att, p):
            cut, _, _ = _check(att, p, direction, req, pin)
            if cut is not None:
                cuts.append(cut)
                break
    return cuts, att.lp_count


def check_feasible_alone(problem: Problem) -> None:
    """Raise when a primary's own a-priori room is smaller than its requirement."""
    for p, direction, req in problem.targets():
        room = problem.up[p] if direction == UP else problem.down[p]
        if not met(room, req):
            word = "upper" if direction == UP else "lower"
            raise InfeasibleProtectionError(
                f"{problem.describe(p)} cannot be protected: it needs {word} protection "
                f"{req:.6g} but the attacker's bounds already confine it to within "
                f"{room:.6g} {'above' if direction == UP else 'below'} its value "
                f"{problem.value[p]:.6g}",
                hint="lower the required protection (rules), widen the a-priori bounds "
                "([suppression] a_priori_percent), or publish a coarser table",
            )


def cover(problem: Problem, cut: Cut, hidden: BoolArray) -> list[int]:
    """Hide the cheapest cells that satisfy ``cut`` (greedy by cost per unit of capacity)."""
    deficit = cut.rhs - cut.lhs(hidden)
    if met(-deficit, 0.0) and deficit <= 0:
        return []
    free = ~hidden[cut.cells] & ~problem.fixed[cut.cells]
    cand = cut.cells[free]
    coef = cut.coef[free]
    if coef.sum() < deficit and not met(float(coef.sum()), deficit):
        p = cut.primary
        word = "upper" if cut.direction == UP else "lower"
        raise InfeasibleProtectionError(
            f"{problem.describe(p)} cannot be protected: even hiding every cell that could "
            f"help, the attacker still pins its {word} side to within "
            f"{float(coef.sum() + cut.lhs(hidden)):.6g} of its value {problem.value[p]:.6g}, "
            f"less than the required {cut.rhs:.6g}",
            hint="the a-priori bounds, structural zeros or singleton/insider knowledge leave "
            "too little room; lower the protection, widen a_priori_percent, set "
            "singleton = false, or publish a coarser table",
        )
    chosen: list[int] = []
    remaining = list(range(cand.size))
    while deficit > 0 and not met(-deficit, 0.0) and remaining:
        gain = np.minimum(coef[remaining], deficit)
        best = remaining[int(np.argmin(problem.cost[cand[remaining]] / gain))]
        remaining.remove(best)
        chosen.append(int(cand[best]))
        deficit -= coef[best]
    for c in chosen:
        hidden[c] = True
    return chosen


def repair(
    problem: Problem,
    hidden: BoolArray,
    *,
    seen: list[Cut] | None = None,
) -> tuple[BoolArray, int, int]:
    """Hide more cells until every demand is met (checked by LP); returns (pattern, sweeps, LPs).

    Demands are fixed one at a time on the current pattern. Hiding more cells only
    widens the outside attacker's intervals, so a demand once met stays met; the
    single-contributor attackers depend on which cells are hidden, so sweeps repeat
    until one changes nothing.
    """
    att = Attacker(problem, hidden | problem.forced)
    targets = problem.targets()
    req_of = {(p, dr): rq for p, dr, rq in targets}
    certified: set[tuple[int, int]] = set()
    for sweep in range(1, 1000):
        changed = False
        for p, direction, req in targets:
            if (p, direction) not in certified:
                while True:
                    cut, cells, z = _check(att, p, direction, req, -1)
                    if cut is None:
                        _certify(cells, z, req_of, certified)
                        certified.add((p, direction))
                        break
                    changed |= _fix(problem, att, cut, seen)
            for pin in _pins(att, p):
                while True:
                    cut, _, _ = _check(att, p, direction, req, pin)
                    if cut is None:
                        break
                    changed |= _fix(problem, att, cut, seen)
        if not changed:
            return att.hidden.copy(), sweep, att.lp_count
    raise InfeasibleProtectionError(
        "secondary suppression did not converge",
        hint="report this table to the developers; use method = 'optimal' meanwhile",
    )


def _fix(problem: Problem, att: Attacker, cut: Cut, seen: list[Cut] | None) -> bool:
    if seen is not None:
        seen.append(cut)
    new = cover(problem, cut, att.hidden)
    if not new:
        raise InfeasibleProtectionError(
            f"{problem.describe(cut.primary)}: the attacker's LP and its dual disagree and no "
            "cell can be added",
            hint="check that the table is additive and its values are not extreme",
        )
    att.hide(new)
    return True
