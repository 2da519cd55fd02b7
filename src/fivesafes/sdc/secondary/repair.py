"""Greedy covering of violated cuts and the repair loop that makes any pattern safe."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from fivesafes.errors import InfeasibleProtectionError
from fivesafes.sdc.progress import Progress, Stage, stage
from fivesafes.sdc.secondary.attacker import (
    Attacker,
    certify_move,
    check_demand,
    moved_cells,
    singleton_pins,
)
from fivesafes.sdc.secondary.batch import certify
from fivesafes.sdc.secondary.infeasible import cannot_protect
from fivesafes.sdc.secondary.model import (
    DOWN,
    LOCAL_LIMIT,
    UP,
    BoolArray,
    Cut,
    FloatArray,
    IntArray,
    Problem,
    Requirements,
    entries,
    met,
)
from fivesafes.sdc.secondary.moves import MoveLibrary, sparse_move
from fivesafes.sdc.secondary.pairs import PairSet

# Hidden cells around a primary in a group-of-insiders LP (see _coalition).
COALITION_LIMIT = 4 * LOCAL_LIMIT
# A witness leaves out moves smaller than this (solver noise): a cell published after
# the repair (a bridge, see bridgeless.py) moved by 1e-9 made the audit reject 13 of
# 5,821 witnesses on the mid-size bench table; what is left out is far within the
# audit's tolerance on the relations.
WITNESS_ZERO = 1e-7

# moves proving (p, direction) that leave the given insiders' cells unmoved (see repair)
Holding = Callable[[int, int, list[int]], list[tuple[IntArray, FloatArray]]]


class OutOfTime(Exception):
    """A repair with a deadline did not finish in time (its pattern is not safe yet)."""


def partner_costs(problem: Problem, cells: IntArray, hidden: BoolArray) -> FloatArray:
    """Per cell, what hiding it also asks for: the cheapest partner in each lonely relation.

    A cell hidden alone in a relation is read off it (a bridge, see :mod:`bridgeless`):
    it cannot move until another cell of that relation is hidden too. So each relation
    of the cell with no other hidden cell adds the cost of its cheapest cell that could
    be hidden (infinite when there is none: the cell could never move).
    """
    csc, csr = problem.csc, problem.relations
    # each (cell, relation) pair, cell after cell, then every cell of the pair's relation
    pos, lens = entries(csc.indptr, cells)
    rows = csc.indices[pos]
    at, width = entries(csr.indptr, rows)
    members = csr.indices[at]
    other = members != np.repeat(np.repeat(cells, lens), width)
    starts = np.cumsum(width) - width  # (a relation holds its own cell: never empty)
    partnered = np.logical_or.reduceat(hidden[members] & other, starts)
    price = np.where(other & ~problem.fixed[members], problem.cost[members], math.inf)
    cheapest = np.minimum.reduceat(price, starts)  # infinite: no cell could be hidden
    # (summed over each cell's relations in order, as one addition after another)
    extra = np.where(partnered, 0.0, cheapest)
    owner = np.repeat(np.arange(cells.size), lens)
    return np.bincount(owner, weights=extra, minlength=cells.size).astype(np.float64, copy=False)


def cover(problem: Problem, cut: Cut, hidden: BoolArray, *, partners: bool = False) -> list[int]:
    """Hide the cheapest cells that satisfy ``cut`` (greedy by cost per unit of capacity).

    ``partners``: a cell's cost counts the partners it would need (:func:`partner_costs`).
    The cut credits a cell with its room whatever its other relations, so the plain
    greedy often hides a cell that then cannot move, and the demand's next LP asks for
    more: on the 3-D 1,859-cell benchmark table the priced cover repaired three MIP
    patterns to 1,236,243-1,264,631 (bridges dropped) with 2,427-2,669 LPs each, the
    plain one to 1,253,330-1,377,020 with 2,850-3,349 (bench/RESULTS.md).
    """
    deficit = cut.rhs - cut.lhs(hidden)
    if met(-deficit, 0.0) and deficit <= 0:
        return []
    free = ~hidden[cut.cells] & ~problem.fixed[cut.cells]
    cand = cut.cells[free]
    coef = cut.coef[free]
    if coef.sum() < deficit and not met(float(coef.sum()), deficit):
        raise cannot_protect(problem, cut, float(coef.sum() + cut.lhs(hidden)))
    chosen: list[int] = []
    remaining = list(range(cand.size))
    while deficit > 0 and not met(-deficit, 0.0) and remaining:
        gain = np.minimum(coef[remaining], deficit)
        price = problem.cost[cand[remaining]]
        if partners:
            # (recomputed each pick: a cell just hidden is a partner for the rest)
            price = price + partner_costs(problem, cand[remaining], hidden)
        best = remaining[int(np.argmin(price / gain))]
        remaining.remove(best)
        chosen.append(int(cand[best]))
        hidden[chosen[-1]] = True
        deficit -= coef[best]
    return chosen


def repair(
    problem: Problem,
    hidden: BoolArray,
    *,
    seen: list[Cut] | None = None,
    proved: set[tuple[int, int]] | None = None,
    insider_proof: set[tuple[int, int]] | None = None,
    deadline: float | None = None,
    progress: Progress | None = None,
    moves: dict[tuple[int, int], tuple[IntArray, FloatArray]] | None = None,
    insider_moves: dict[tuple[int, int], tuple[IntArray, FloatArray]] | None = None,
    holding: Holding | None = None,
    library: MoveLibrary | None = None,
    partners: bool = False,
) -> tuple[BoolArray, int, int]:
    """Hide more cells until every demand is met (checked by LP); returns (pattern, sweeps, LPs).

    Each sweep first proves what it can in batch LPs (:mod:`batch`), then checks the
    rest one demand at a time, fixing each failure with a cut. Hiding more cells only
    widens an attacker's intervals, so a demand (or an insider pair) once proved stays
    proved; which insiders matter depends on the pattern, so sweeps repeat until one
    changes nothing, and the last one checks them on the final pattern.

    ``proved`` demands are already proved on ``hidden`` (by a move, see :mod:`hypercube`),
    those in ``insider_proof`` against every insider too: they need no LP here.
    ``moves``: the attacker move proving each of those (cells, move); it proves the
    demand against every insider whose cell it leaves unmoved too.
    ``insider_moves``: filled (when given) with the LP moves that proved a demand against
    insiders, as witnesses for the audit (see :func:`_still`).
    ``holding``: proposes, for a proved demand still open against some insiders, moves
    that leave those insiders' cells where they are (hypercube moves on cells hidden
    already): each is checked here like an LP's move (:func:`_still`), and only the
    insiders none of them avoids get LPs. Asked once per demand.
    ``deadline`` (a ``time.monotonic()`` value): raise :class:`OutOfTime` once it has
    passed (between two checks), for a caller that can do without this pattern.
    ``partners``: cover each cut pricing the partners a cell needs (see :func:`cover`):
    cheaper patterns from fewer LPs, but fewer cuts met on the way for a MIP to learn.
    """
    att = Attacker(problem, hidden | problem.forced)
    done = insider_proof or set()
    targets = [t for t in problem.targets() if (t[0], t[1]) not in done]
    reqs = Requirements.of(problem.n, targets)
    certified: set[tuple[int, int]] = set(proved or ())
    pair_ok = PairSet()
    if moves:
        pins_now = {p: singleton_pins(att, p) for p in {t[0] for t in targets}}
        closed: set[tuple[int, int]] = set()  # see _still_others
        wanted = {(t[0], t[1]) for t in targets}
        for (p, direction), (cells, z) in moves.items():
            if (p, direction) in wanted:
                _still(p, direction, pins_now.get(p, []), cells, z, pair_ok)
                _still_others(p, cells, z, reqs, pins_now, pair_ok, insider_moves, closed)
    asked: set[tuple[int, int]] = set()
    for sweep in range(1, 1000):
        name = f"secondary: checking demands (sweep {sweep})"
        with stage(progress, name, total=len(targets)) as tell:
            changed = _sweep(
                problem,
                att,
                targets,
                reqs,
                certified,
                pair_ok,
                seen,
                deadline,
                tell,
                insider_moves,
                holding,
                asked,
                library,
                partners=partners,
            )
            tell.outcome = f"{att.lp_count:,} attacker LPs so far"
        if not changed:
            return att.hidden.copy(), sweep, att.lp_count + att.batch_lps
    raise InfeasibleProtectionError(
        "secondary suppression did not converge",
        hint="report this table to the developers; use method = 'optimal' meanwhile",
    )


def _sweep(
    problem: Problem,
    att: Attacker,
    targets: list[tuple[int, int, float]],
    reqs: Requirements,
    certified: set[tuple[int, int]],
    pair_ok: PairSet,
    seen: list[Cut] | None,
    deadline: float | None,
    tell: Stage,
    sink: dict[tuple[int, int], tuple[IntArray, FloatArray]] | None = None,
    holding: Holding | None = None,
    asked: set[tuple[int, int]] | None = None,
    library: MoveLibrary | None = None,
    *,
    partners: bool = False,
) -> bool:
    """One pass over every demand; True when it hid a cell (see repair for the options)."""
    changed = False
    pins_of = {p: singleton_pins(att, p) for p in {t[0] for t in targets}}
    closed: set[tuple[int, int]] = set()  # see _still_others
    reach_of: dict[tuple[int, int], IntArray] = {}  # the cells each own LP needed
    if library is not None:
        for p, direction, _ in targets:
            _from_library(library, p, direction, att.hidden, pins_of[p], certified, pair_ok, sink)
    att.batch_lps += certify(
        problem, att.hidden, targets, pins_of, certified, pair_ok, sink, deadline
    )
    for p, direction, req in targets:
        tell.advance()
        if deadline is not None and time.monotonic() > deadline:
            raise OutOfTime
        if library is not None and changed:  # cells hidden since the pass above
            _from_library(library, p, direction, att.hidden, pins_of[p], certified, pair_ok, sink)
        if (
            holding is not None
            and asked is not None
            and (p, direction) in certified
            and (p, direction) not in asked
        ):
            asked.add((p, direction))
            opens = [q for q in pins_of[p] if (p, direction, q) not in pair_ok]
            for cells, z in holding(p, direction, opens) if opens else ():
                _still(p, direction, pins_of[p], cells, z, pair_ok, sink)
                _still_others(p, cells, z, reqs, pins_of, pair_ok, sink, closed)
        open_pins = not pair_ok.all_proved(p, direction, pins_of[p])
        if (p, direction) not in certified or open_pins:
            # (a demand proved by another move still gets its own LP when insiders are
            # open: its move, on p's neighbourhood, leaves most insiders' cells unmoved)
            while True:
                cut, cells, z = check_demand(att, p, direction, req, -1)
                if cut is None:
                    certify_move(cells, z, reqs, certified)
                    _still_others(p, cells, z, reqs, pins_of, pair_ok, sink, closed)
                    certified.add((p, direction))
                    # the move leaves every insider's cell it does not touch where it is:
                    # it proves the demand against those insiders too
                    _still(p, direction, pins_of[p], cells, z, pair_ok, sink)
                    if library is not None:
                        library.add(cells, z)
                        _sparse(
                            problem,
                            att,
                            p,
                            direction,
                            req,
                            cells,
                            pins_of[p],
                            pair_ok,
                            sink,
                            library,
                        )
                    reach_of[(p, direction)] = cells
                    break
                changed |= _fix(problem, att, cut, seen, partners)
        near = _coalition(
            att,
            p,
            direction,
            req,
            pins_of[p],
            pair_ok,
            reach_of.get((p, direction)),
            sink,
            library,
        )
        proved = pair_ok.proved(p, direction)  # live: grows as this loop proves pairs
        for pin in pins_of[p]:
            if pin in proved:
                continue
            if near is not None:  # the group's LP first: built and warm
                reach, pi, _, z = att.reach(p, direction, near, pin, req=req)
                if pi is None or met(reach, req):
                    if library is not None:
                        library.add(near, z)
                    _still(p, direction, pins_of[p], near, z, pair_ok, sink)
                    _still_others(p, near, z, reqs, pins_of, pair_ok, sink, closed)
                    pair_ok.add((p, direction, pin))
                    continue
            while True:
                cut, cells, z = check_demand(att, p, direction, req, pin)
                if cut is None:
                    if library is not None:
                        library.add(cells, z)
                    _still(p, direction, pins_of[p], cells, z, pair_ok, sink)
                    _still_others(p, cells, z, reqs, pins_of, pair_ok, sink, closed)
                    pair_ok.add((p, direction, pin))
                    break
                changed |= _fix(problem, att, cut, seen, partners)
    return changed


def _still_others(
    p: int,
    cells: IntArray,
    z: FloatArray,
    reqs: Requirements,
    pins_of: dict[int, list[int]],
    pair_ok: PairSet,
    sink: dict[tuple[int, int], tuple[IntArray, FloatArray]] | None,
    closed: set[tuple[int, int]] | None = None,
) -> None:
    """Insider pairs of the *other* demands an LP's move meets (the move of ``p``'s LP).

    A feasible move that takes cell ``c`` to its demand and leaves an insider's cell
    where it is proves ``c``'s demand against that insider, whichever LP found it (what
    :func:`certify_move` does for the outsider, here for the insiders): on the mid-size
    4-D table most outsider LPs of demands already proved ran only for their insiders.
    ``closed``: demands found proved against all of ``pins_of`` (filled here; valid as
    long as ``pins_of`` is, since proved pairs stay proved): their pins are not scanned
    again.
    """
    if z.size != cells.size:
        return  # no move (an unbounded side): nothing proved for other cells
    # the demands the move meets, found for all its cells at once (most meet none)
    up, down = reqs.met_by(cells, z)
    meets = (up | down) & (cells != p)
    if not meets.any():
        return
    moved = moved_cells(cells, z)  # once per move: thousands of cells' checks share it
    for c, c_up, c_down in zip(
        cells[meets].tolist(), up[meets].tolist(), down[meets].tolist(), strict=True
    ):
        if not pins_of.get(c):
            continue
        for dr, meets_dr in ((UP, c_up), (DOWN, c_down)):
            if not meets_dr or (closed and (c, dr) in closed):
                continue
            if _still(c, dr, pins_of[c], cells, z, pair_ok, sink, moved) and closed is not None:
                closed.add((c, dr))


def _still(
    p: int,
    direction: int,
    pins: list[int],
    cells: IntArray,
    z: FloatArray,
    pair_ok: PairSet,
    sink: dict[tuple[int, int], tuple[IntArray, FloatArray]] | None = None,
    moved: set[int] | frozenset[int] | None = None,
) -> bool:
    """Insider pairs proved by a move that leaves their cells unmoved; True when none is left open.

    Cells outside the LP's ``cells`` were held at their values in it, so they count as
    unmoved even when the LP gave no move (an unbounded side). ``moved``: the move's
    :func:`attacker.moved_cells`, when the caller has it already.

    ``sink``: a move that proves a new pair is kept there as a witness for the audit,
    which verifies it itself (sdc/audit/witness.py): key ``(p, direction * (k + 2))``
    for the k-th move of the demand (keys ``(p, ±1)`` are the hypercube moves').
    """
    if not pins:
        return True
    if moved is None:
        moved = moved_cells(cells, z)
    new, left = pair_ok.prove_unmoved(p, direction, pins, moved)
    if new and sink is not None and z.size == cells.size:
        keep = np.abs(z) > WITNESS_ZERO
        k = 0
        while (p, direction * (k + 2)) in sink:
            k += 1
        sink[(p, direction * (k + 2))] = (cells[keep].astype(np.int64), z[keep].astype(float))
    return not left


def _sparse(
    problem: Problem,
    att: Attacker,
    p: int,
    direction: int,
    req: float,
    cells: IntArray,
    pins: list[int],
    pair_ok: PairSet,
    sink: dict[tuple[int, int], tuple[IntArray, FloatArray]] | None,
    library: MoveLibrary,
) -> None:
    """The demand's smallest move on its LP's cells (:func:`moves.sparse_move`), kept.

    It clears the insiders the largest move changed but it leaves alone, and, changing
    few cells, stays valid on later patterns: on a 16,000-cell 3-D pattern the insider
    pairs left open after a demand's own LP fell from 24,820 to 3,574.
    """
    z = sparse_move(problem, cells, att.y, p, direction, req, att.columns(cells))
    if z is None:
        return
    _still(p, direction, pins, cells, z, pair_ok, sink)
    library.add(cells, z)


def _from_library(
    library: MoveLibrary,
    p: int,
    direction: int,
    hidden: BoolArray,
    pins: list[int],
    certified: set[tuple[int, int]],
    pair_ok: PairSet,
    sink: dict[tuple[int, int], tuple[IntArray, FloatArray]] | None = None,
) -> None:
    """Prove (p, direction), and its insiders left unchanged, by kept moves valid on ``hidden``."""
    if (p, direction) in certified and pair_ok.all_proved(p, direction, pins):
        return
    for m in library.proving(p, direction, hidden):
        certified.add((p, direction))
        cells, z = library.move(m)
        if _still(p, direction, pins, cells, z, pair_ok, sink, library.moved(m)):
            return


def _coalition(
    att: Attacker,
    p: int,
    direction: int,
    req: float,
    pins: list[int],
    pair_ok: PairSet,
    needed: IntArray | None = None,
    sink: dict[tuple[int, int], tuple[IntArray, FloatArray]] | None = None,
    library: MoveLibrary | None = None,
) -> IntArray | None:
    """Prove a demand against groups of insiders, the group known at once; returns the LP's cells.

    An attacker who knows every cell of a group is stronger than each of its insiders
    alone, so a demand the group cannot break holds against each member. A group that
    does break it is split (group testing): the insiders whose cells its LP's dual
    prices (the cells the primary's protection runs through: freeing them is what
    would widen the attacker's reach) apart from the rest, each part tried again on the
    same, warm, LP; when the dual prices all or none, in halves. The insiders left
    alone are for the checks one insider at a time, which find their cuts. Cells the
    group's move leaves where they are are proved too. ``needed``: the cells the
    outsider's own LP needed (the group's LP uses at least those). Nothing is concluded
    from a failing group (a group's cut would ask more than the guarantee, see
    :mod:`singleton`). Returns the cells of the group's LP (None when no group LP ran),
    for the checks one insider at a time to try first (it is built and warm).
    """
    proved = pair_ok.proved(p, direction)
    open_ = [q for q in pins if q not in proved]
    if len(open_) < 2:
        return None
    cells, _ = att.neighbourhood(p, COALITION_LIMIT)
    if needed is not None and needed.size > cells.size:
        cells = needed  # the outsider's own LP needed more cells: so does the group
    groups = [open_]
    while groups:
        group = [q for q in groups.pop() if q not in proved]
        if len(group) < 2:
            continue
        reach, pi, rows, z = att.reach(
            p, direction, cells, known=np.array(group, dtype=np.int64), req=req
        )
        if pi is None or met(reach, req):
            if library is not None:
                library.add(cells, z)
            _still(p, direction, open_, cells, z, pair_ok, sink)
            pair_ok.prove(p, direction, group)
            continue
        priced = _priced(att.problem, rows, pi, group)
        if 0 < len(priced) < len(group):  # the priced ones apart, the rest first
            groups += [[q for q in group if q in priced], [q for q in group if q not in priced]]
            continue
        half = len(group) // 2
        groups += [group[:half], group[half:]]
    return cells


def _priced(problem: Problem, rows: IntArray, pi: FloatArray, group: list[int]) -> set[int]:
    """The cells of ``group`` with a non-zero reduced cost (``A^T pi``) in the LP on ``rows``."""
    cells = np.array(group, dtype=np.int64)
    pos, lens = entries(problem.csc.indptr, cells)
    at = np.searchsorted(rows, problem.csc.indices[pos])
    at = np.minimum(at, rows.size - 1)
    inside = rows[at] == problem.csc.indices[pos]
    terms = np.where(inside, problem.csc.data[pos] * pi[at], 0.0)
    owner = np.repeat(np.arange(cells.size), lens)
    price = np.bincount(owner, weights=terms, minlength=cells.size)
    scale = 1e-9 * max(1.0, float(np.abs(pi).max(initial=0.0)))
    return {q for q, r in zip(group, price.tolist(), strict=True) if abs(r) > scale}


def _fix(problem: Problem, att: Attacker, cut: Cut, seen: list[Cut] | None, partners: bool) -> bool:
    if seen is not None:
        seen.append(cut)
    new = cover(problem, cut, att.hidden, partners=partners)
    if not new:
        raise InfeasibleProtectionError(
            f"{problem.describe(cut.primary)}: the attacker's LP and its dual disagree and no "
            "cell can be added",
            hint="check that the table is additive and its values are not extreme",
        )
    att.hide(new)
    return True
