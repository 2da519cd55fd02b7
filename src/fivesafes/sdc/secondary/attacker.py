"""The attacker's linear programs on a pattern: neighbourhoods, warm starts, separation.

See :mod:`model` for the capacity cuts these LPs produce.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import highspy
import numpy as np
import numpy.typing as npt
from scipy.sparse.csgraph import connected_components

from fivesafes.errors import InfeasibleProtectionError
from fivesafes.sdc.lp.highs import new_highs
from fivesafes.sdc.secondary.model import (
    DOWN,
    LOCAL_LIMIT,
    MOVED,
    UP,
    BoolArray,
    Cut,
    FloatArray,
    IntArray,
    Problem,
    Requirements,
    cut_from_prices,
    entries,
    met,
    row_prices,
)

Int32Array = npt.NDArray[np.int32]

# A cached LP is reused for a neighbour's check only when it is this small: re-solving a
# large LP with another objective costs more than building a small one afresh.
CLUSTER_REUSE_LIMIT = 250


def _gather(indptr: IntArray, indices: IntArray, items: IntArray) -> IntArray:
    """The concatenated index lists of ``items`` in a compressed sparse structure."""
    pos, _ = entries(indptr, items)
    return np.asarray(indices[pos], dtype=np.int64)


def moved_cells(cells: IntArray, z: FloatArray) -> set[int]:
    """The cells an LP's move ``z`` changes (all of ``cells`` when it gave no move: an
    unbounded side); cells outside the LP were held at their values, so never moved."""
    return set((cells[np.abs(z) > MOVED] if z.size == cells.size else cells).tolist())


Columns = tuple[IntArray, Int32Array, Int32Array, FloatArray]  # see relation_columns


def relation_columns(problem: Problem, cells: IntArray) -> Columns:
    """The relations through ``cells`` and the columns of ``cells`` on them, for an LP.

    Returns the relation (row) ids, then column-wise: each entry's position among those
    rows, each column's start (32-bit, as HiGHS takes them), each entry's value.
    """
    csc = problem.csc
    pos, lens = entries(csc.indptr, cells)
    rows, local = np.unique(csc.indices[pos], return_inverse=True)
    start = np.concatenate(([0], np.cumsum(lens))).astype(np.int32)
    return (
        np.asarray(rows, dtype=np.int64),
        local.astype(np.int32),
        start,
        csc.data[pos].astype(np.float64),
    )


def balance_lp(
    rows: int,
    start: Int32Array,
    index: Int32Array,
    value: FloatArray,
    cost: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
) -> highspy.HighsLp:
    """The LP ``A z = 0`` over ``rows`` relations, ``A`` column-wise, with bounds and costs.

    The arrays go in as lists: highspy copies a numpy array into the model element by
    element through numpy scalars, twice as slow as from a list (on a 500-column LP,
    0.5 ms against 0.27 ms; thousands of LPs are built per repair).
    """
    lp = highspy.HighsLp()
    lp.num_col_ = int(cost.size)
    lp.num_row_ = rows
    lp.col_cost_ = cost.tolist()
    lp.col_lower_ = lower.tolist()
    lp.col_upper_ = upper.tolist()
    lp.row_lower_ = [0.0] * rows
    lp.row_upper_ = [0.0] * rows
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start.tolist()
    lp.a_matrix_.index_ = index.tolist()
    lp.a_matrix_.value_ = value.tolist()
    return lp


def neighbourhood_lp(
    problem: Problem, cells: IntArray, y: FloatArray, columns: Columns | None = None
) -> tuple[highspy.Highs, IntArray]:
    """The attacker's LP on the hidden ``cells`` (others held at ``y``) and its row ids.

    ``columns``: the cells' :func:`relation_columns`, when the caller has them already.
    """
    rows, local, col_start, values = columns or relation_columns(problem, cells)
    inf = highspy.kHighsInf
    lo = -problem.down[cells] * y[cells]
    hi = problem.up[cells] * y[cells]
    lower = np.where(np.isinf(lo), -inf, lo)
    upper = np.where(np.isinf(hi), inf, hi)
    lp = balance_lp(int(rows.size), col_start, local, values, np.zeros(cells.size), lower, upper)
    h = new_highs()
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
        # per LP (its cell set): the solver, its rows, each cell's column, its columns
        self._cache: dict[bytes, tuple[highspy.Highs, IntArray, dict[int, int], Columns]] = {}
        self._visited: BoolArray | None = None
        self._slot: IntArray = np.zeros(0, dtype=np.int64)  # scratch for _search, as _visited
        self._components: tuple[int, IntArray, IntArray] | None = None  # see _pattern
        # (p, limit) -> neighbourhood, for the pattern with this many hidden cells: a
        # pattern only grows, so the count tells whether it changed (as for components)
        self._near: tuple[int, dict[tuple[int, int], tuple[IntArray, bool]]] = (-1, {})
        # cell -> the cached LP (cell set) it was first checked in: its neighbours' checks
        # reuse that LP with another objective (a warm-started re-solve, no rebuild)
        self._cluster: dict[int, IntArray] = {}
        self._last: dict[bytes, tuple[int, int]] = {}  # per cached LP: its last objective
        self.lp_count = 0
        self.batch_lps = 0  # batch rounds (:mod:`batch`) run on this pattern by a caller

    def components(self) -> IntArray:
        """Per cell, its component of hidden cells linked by relations (-1: published)."""
        return self._pattern()[1]

    def hidden_pinned(self) -> IntArray:
        """The hidden single-contributor cells, sorted (a fraction of all cells to scan)."""
        return self._pattern()[2]

    def _pattern(self) -> tuple[int, IntArray, IntArray]:
        """(hidden count, components, hidden pinned cells), made again when the pattern grew."""
        count = self._hidden_count()
        if self._components is None or self._components[0] != count:
            cells = np.flatnonzero(self.hidden)
            sub = self.problem.adjacency[cells][:, cells]
            _, labels = connected_components(sub, directed=False)
            out = np.full(self.problem.n, -1, dtype=np.int64)
            out[cells] = labels
            pinned = np.flatnonzero(self.hidden & self.problem.pinned).astype(np.int64)
            self._components = (count, out, pinned)
        return self._components

    def _hidden_count(self) -> int:
        """How many cells are hidden: a pattern only grows, so this tells if it changed."""
        return int(np.count_nonzero(self.hidden))  # (a bool sum() costs ten times more)

    def hide(self, cells: Iterable[int]) -> None:
        """Add cells to a boolean pattern."""
        for c in cells:
            self.y[c] = 1.0
            self.hidden[c] = True

    def columns(self, cells: IntArray) -> Columns:
        """The :func:`relation_columns` of ``cells``: those of their LP when it is kept."""
        kept = self._cache.get(cells.tobytes())
        return kept[3] if kept is not None else relation_columns(self.problem, cells)

    def cluster(self, p: int) -> IntArray | None:
        """A cached LP's cell set containing ``p`` (a valid, conservative check), if any."""
        cells = self._cluster.get(p)
        if cells is None or cells.tobytes() not in self._cache:
            return None
        return cells

    def neighbourhood(self, p: int, limit: int) -> tuple[IntArray, bool]:
        """Hidden cells linked to ``p``, layer by layer up to about ``limit``; and if complete.

        Kept until the pattern changes: a demand's checks (each direction, each insider,
        the group of insiders) ask for the same neighbourhood again and again.
        """
        count = self._hidden_count()
        if self._near[0] != count:
            self._near = (count, {})
        known = self._near[1]
        found = known.get((p, limit))
        if found is None:
            found = known[(p, limit)] = self._search(p, limit)
        return found

    def _search(self, p: int, limit: int) -> tuple[IntArray, bool]:
        """The breadth-first search behind :meth:`neighbourhood`."""
        adj = self.problem.adjacency
        if self._visited is None:
            self._visited = np.zeros(self.problem.n, dtype=bool)
            self._slot = np.zeros(self.problem.n, dtype=np.int64)
        visited, slot = self._visited, self._slot
        frontier = np.array([p], dtype=np.int64)
        members = [frontier]
        visited[p] = True
        count = 1
        complete = True
        while frontier.size:
            cand = _gather(adj.indptr, adj.indices, frontier)
            # filter before deduplicating: most neighbours are published (on a 16,000-cell
            # 3-D repair the sort of every neighbour took a sixth of the time)
            fresh = cand[self.hidden[cand] & ~visited[cand]]
            # one of each cell without sorting (the result is sorted once, at the end): of
            # the writes of a repeated cell one wins, and it alone reads back its position
            at = np.arange(fresh.size)
            slot[fresh] = at
            new = fresh[slot[fresh] == at]
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
        self,
        p: int,
        direction: int,
        cells: IntArray,
        pin: int = -1,
        *,
        known: IntArray | None = None,
        req: float | None = None,
    ) -> tuple[float, FloatArray | None, IntArray, FloatArray]:
        """The attacker's largest move of ``p`` in ``direction``, with the dual and the LP solution.

        ``pin``: a cell the attacker knows exactly (-1: none); ``known``: more such cells
        (a coalition of insiders, for a check that proves every one of them at once).
        ``req``: the demand's requirement, when the caller uses the dual only for a reach
        short of it: a reach that meets it comes with an empty pi (reading the dual of
        a large LP costs as much as a warm re-solve's bookkeeping).
        Returns (reach, pi on rows or None when unbounded, rows, primal z on the LP's cells).
        """
        key = cells.tobytes()
        if key not in self._cache:
            columns = relation_columns(self.problem, cells)
            h, rows = neighbourhood_lp(self.problem, cells, self.y, columns)
            self._cache[key] = (h, rows, {int(c): i for i, c in enumerate(cells)}, columns)
            if len(self._cache) > 256:
                self._cache.pop(next(iter(self._cache)))
            if cells.size <= CLUSTER_REUSE_LIMIT:
                for c in cells.tolist():
                    self._cluster.setdefault(c, cells)
        h, rows, pos, _ = self._cache[key]
        j = pos[p]
        # the same objective as this LP's last solve, other cells known: only bounds
        # change, which keeps the basis dual feasible (the dual simplex restarts from it)
        same = self._last.get(key) == (j, direction)
        self._last[key] = (j, direction)
        if same:
            h.setOptionValue("simplex_strategy", 1)
        pins = [pin] if pin >= 0 else []
        if known is not None:
            pins += [int(q) for q in known.tolist() if q != p]
        held = [(pos[q], q) for q in pins if q in pos]
        for k, _ in held:
            h.changeColBounds(k, 0.0, 0.0)
        h.changeColCost(j, -float(direction))
        try:
            h.run()
            # later checks re-solve this LP with another objective: the primal simplex
            # keeps the feasible basis across that change (the dual simplex does not, and
            # measured 7-13x slower on 6,000-cell LPs); a first solve is faster dual
            h.setOptionValue("simplex_strategy", 4)
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
            value = -float(h.getObjectiveValue())
            z = np.asarray(sol.col_value, dtype=np.float64)
            if req is not None and met(value, req):
                return value, np.zeros(0), rows, z
            pi = np.asarray(sol.row_dual, dtype=np.float64)
            return value, pi, rows, z
        finally:
            h.changeColCost(j, 0.0)
            for k, q in held:
                yk = float(self.y[q])
                lo, hi = -self.problem.down[q] * yk, self.problem.up[q] * yk
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
    # either sign, so take the one that is tight at the current pattern. Both signs share
    # one A^T pi (exactly: see row_prices).
    cells, prices = row_prices(problem, rows, pi)
    a = cut_from_prices(problem, p, direction, cells, -prices, req, pin)
    b = cut_from_prices(problem, p, direction, cells, prices, req, pin)
    return a if a.lhs(hidden) <= b.lhs(hidden) else b


def check_demand(
    att: Attacker,
    p: int,
    direction: int,
    req: float,
    pin: int,
) -> tuple[Cut | None, IntArray, FloatArray]:
    """A violated cut for one demand (None when met) and the LP's move (cells, z).

    The LP starts on a neighbourhood of ``p``; hidden cells outside it are held at their
    published value, which only helps the attacker. When it fails, its dual prices the
    cells outside: if the capacity cut is still violated with every hidden cell counted,
    the demand is unmet in the whole table; otherwise the neighbourhood grows fourfold.
    (Growing by only the cells the cut counts, column generation, was tried: it needed
    many more, equally cold, LPs on the benchmark tables.)
    """
    problem = att.problem
    near = att.cluster(p)
    if near is not None and 1 < near.size <= CLUSTER_REUSE_LIMIT:
        reach, pi, _, z = att.reach(p, direction, near, pin, req=req)
        if pi is None or met(reach, req):
            return None, near, z
    limit = LOCAL_LIMIT
    cells, complete = att.neighbourhood(p, limit)
    while True:
        reach, pi, rows, z = att.reach(p, direction, cells, pin, req=req)
        if pi is None or met(reach, req):
            return None, cells, z
        cut = _best_cut(problem, p, direction, rows, pi, req, att.y, pin)
        if not met(cut.lhs(att.y), req) or complete:
            # (complete and not violated: the LP and its dual disagree beyond tolerance;
            # the cut is still valid and cover() acts on it)
            return cut, cells, z
        limit *= 4  # hidden cells outside the neighbourhood matter: look wider
        cells, complete = att.neighbourhood(p, limit)


def singleton_pins(att: Attacker, p: int) -> list[int]:
    """Hidden single-contributor cells of outside insiders that could matter to ``p``.

    Every such cell connected to ``p`` through hidden cells (its component: a cell in
    another component cannot move with ``p``), whose contributor is not one of ``p``'s
    own (:mod:`fivesafes.sdc.contributors`). All of them, not only those near ``p``: a
    demand proved by a move from elsewhere (a batch LP, another cell's LP, a hypercube
    move) is proved against an insider only when that move leaves its cell unmoved,
    and such a move can reach far (seen on a 3-D survey table, where an insider two
    relations away broke a dominance cell the methods had passed).
    """
    problem = att.problem
    if not problem.pinned.any():
        return []
    comp = att.components()
    pinned = att.hidden_pinned()
    found = pinned[comp[pinned] == comp[p]]
    found = found[found != p]
    return found[problem.outsiders(p, found)].tolist() if found.size else []


def certify_move(
    cells: IntArray,
    z: FloatArray,
    reqs: Requirements,
    certified: set[tuple[int, int]],
) -> None:
    """An LP's optimal move is feasible for every other cell's LP: it meets their demands too."""
    k = min(cells.size, z.size)  # no move (an unbounded side): nothing
    up, down = reqs.met_by(cells[:k], z[:k])
    certified.update((c, UP) for c in cells[:k][up].tolist())
    certified.update((c, DOWN) for c in cells[:k][down].tolist())


def separate(
    problem: Problem,
    hidden: BoolArray | FloatArray,
    targets: Iterable[tuple[int, int, float]] | None = None,
    *,
    attacker: Attacker | None = None,
) -> tuple[list[Cut], int]:
    """Cuts violated by ``hidden`` (one per unprotected demand and attacker) and LPs solved.

    Attackers: an outsider, and (``problem.pinned``) the single contributor of each hidden
    single-contributor cell linked to the primary (see :func:`singleton_pins`), who
    knows that cell exactly.
    """
    att = attacker or Attacker(problem, hidden)
    cuts: list[Cut] = []
    certified: set[tuple[int, int]] = set()
    todo = list(targets) if targets is not None else problem.targets()
    reqs = Requirements.of(problem.n, todo)
    pins_of: dict[int, list[int]] = {}
    for p, direction, req in todo:
        moved: set[int] | None = None
        if p not in pins_of:
            pins_of[p] = singleton_pins(att, p)
        # with insiders to clear, p's own LP is worth its cost even when another move
        # proved the demand: its move (on p's neighbourhood) leaves most of them unmoved
        if (p, direction) not in certified or pins_of[p]:
            cut, cells, z = check_demand(att, p, direction, req, -1)
            if cut is not None:
                cuts.append(cut)
                continue
            certify_move(cells, z, reqs, certified)
            # cells outside the LP were held at their values: unmoved (even unbounded)
            moved = moved_cells(cells, z)
        # an insider whose cell the outsider's move leaves where it is cannot rule it out
        pins = [q for q in pins_of[p] if moved is None or q in moved]
        if len(pins) > 1 and _coalition_meets(att, p, direction, req, pins):
            continue  # the insiders together cannot break it: none of them alone can
        for pin in pins:
            cut, _, _ = check_demand(att, p, direction, req, pin)
            if cut is not None:
                cuts.append(cut)
                break
    return cuts, att.lp_count


def _coalition_meets(att: Attacker, p: int, direction: int, req: float, pins: list[int]) -> bool:
    """True when ``p`` keeps its demand with every cell of ``pins`` known at once."""
    cells, _ = att.neighbourhood(p, LOCAL_LIMIT)
    reach, pi, _, _ = att.reach(p, direction, cells, known=np.array(pins, dtype=np.int64), req=req)
    return pi is None or met(reach, req)
