"""Batch certification: one attacker LP over all hidden cells proves many demands at once.

Checking demands one LP each costs tens of thousands of LPs on a large table. Any
feasible attacker move ``z`` (``A z = 0`` within the rooms of the hidden cells) proves
every demand it reaches: if ``z_p >= upper_protection_p`` the attacker cannot rule out
``p``'s value plus its protection, whatever else he tries. So one LP whose objective
pushes every uncertified primary towards its requirement (each capped at the
requirement, so that no primary takes all the room) certifies most demands of a
sensible pattern in a few solves; random weights vary the solutions between rounds.

The same move proves a demand against an insider who knows hidden cell ``q`` exactly
when it leaves ``q`` where it is (``z_q = 0``): rounds with every single-contributor
cell held at zero certify demands against all insiders together. Whatever a round
cannot prove goes to the per-demand LPs of :mod:`attacker`, which find the cuts.
"""

from __future__ import annotations

import time

import highspy
import numpy as np

from fivesafes.sdc.secondary.attacker import neighbourhood_lp
from fivesafes.sdc.secondary.model import MOVED, UP, BoolArray, FloatArray, IntArray, Problem, met
from fivesafes.sdc.secondary.pairs import PairSet

Demand = tuple[int, int]  # (primary cell, direction)

# Stop a kind of round when one certifies less than this share of what is left.
MIN_PROGRESS = 0.02
MAX_ROUNDS = 8
IPM_ABOVE = 5_000  # hidden cells
MIN_DEMANDS = 50  # open demands below which no batch round is worth its LP
MAX_PASSES = 2  # passes over the classes of single-contributor primaries (see _insider_rounds)
MAX_CLASSES = 6  # ... at most this many classes (two rounds each) per pass


class BatchCertifier:
    """The attacker LP over every hidden cell of a (boolean) pattern, re-solved in rounds."""

    def __init__(self, problem: Problem, hidden: BoolArray, deadline: float | None = None) -> None:
        self.problem = problem
        self.deadline = deadline  # past it, rounds solve nothing (the caller's LPs stop too)
        self.cells: IntArray = np.flatnonzero(hidden).astype(np.int64)
        self.pos = np.full(problem.n, -1, dtype=np.int64)
        self.pos[self.cells] = np.arange(self.cells.size)
        self.lps = 0
        inf = highspy.kHighsInf
        lo = -problem.down[self.cells]
        hi = problem.up[self.cells]
        self.lower: FloatArray = np.where(np.isinf(lo), -inf, lo)
        self.upper: FloatArray = np.where(np.isinf(hi), inf, hi)
        self.h = self._build()

    def _build(self) -> highspy.Highs:
        h, _ = neighbourhood_lp(self.problem, self.cells, np.ones(self.problem.n))
        h.setOptionValue("presolve", "choose")  # every round is a fresh solve, in effect
        h.setOptionValue("simplex_strategy", 1)
        if self.cells.size > IPM_ABOVE:
            # each round changes many costs and bounds at once, so a warm simplex start
            # buys little; on 58,000 hidden cells one round took 10-160 s by dual simplex
            # and 4.6 s by interior point (with crossover, so the move is a vertex)
            h.setOptionValue("solver", "ipm")
        return h

    def solve(
        self, demands: list[tuple[int, int, float]], hold: IntArray, seed: int
    ) -> FloatArray | None:
        """One round: a move pushing every demand towards its requirement, ``hold`` kept at 0.

        Returns the move on :attr:`cells`, or None when the solver gave no optimal point
        (or the deadline has passed).
        """
        if self.deadline is not None and time.monotonic() > self.deadline:
            return None
        n = self.cells.size
        rng = np.random.default_rng(seed)
        cost = np.zeros(n)
        lo, hi = self.lower.copy(), self.upper.copy()
        held = self.pos[hold]
        held = held[held >= 0]
        lo[held] = 0.0
        hi[held] = 0.0
        for (p, direction, req), w in zip(demands, 0.5 + rng.random(len(demands)), strict=True):
            j = int(self.pos[p])
            cost[j] -= direction * w / req
            if direction == UP:
                hi[j] = min(hi[j], req)
            else:
                lo[j] = max(lo[j], -req)
        idx = np.arange(n, dtype=np.int32)
        self.h.changeColsCost(n, idx, cost)
        self.h.changeColsBounds(n, idx, lo, hi)
        self.h.run()
        self.lps += 1
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            self.h.clearSolver()
            return None
        return np.asarray(self.h.getSolution().col_value, dtype=np.float64)


def certify(
    problem: Problem,
    hidden: BoolArray,
    demands: list[tuple[int, int, float]],
    pins_of: dict[int, list[int]],
    outsider_ok: set[Demand],
    pair_ok: PairSet,
    sink: dict[Demand, tuple[IntArray, FloatArray]] | None = None,
    deadline: float | None = None,
) -> int:
    """Prove as many demands (and insider pairs) as batch rounds can; returns LPs solved.

    ``outsider_ok`` and ``pair_ok`` are extended in place. Demands on a pattern stay
    proved when more cells are hidden (the attacker's moves only grow), so the sets may
    be kept across repairs of the same table. ``sink``: the moves that proved insider
    pairs, kept as witnesses for the audit (keys as in :func:`repair._still`).
    """

    still = sum(
        (p, d) not in outsider_ok or not pair_ok.all_proved(p, d, pins_of.get(p, []))
        for p, d, _ in demands
    )
    if still < MIN_DEMANDS:
        return 0  # a few demands: their own LPs cost less than rounds over every hidden cell
    batch = BatchCertifier(problem, hidden, deadline)
    pinned = np.flatnonzero(hidden & problem.pinned).astype(np.int64)
    seed = 0
    if pinned.size:
        seed = _insider_rounds(batch, demands, pins_of, outsider_ok, pair_ok, pinned, sink)
    stalls = 0
    for _ in range(MAX_ROUNDS):
        todo = [t for t in demands if (t[0], t[1]) not in outsider_ok]
        if not todo:
            break
        todo = _one_direction_each(todo, seed)
        z = batch.solve(todo, np.zeros(0, dtype=np.int64), seed)
        seed += 1
        if z is None:
            break
        gained = _record(batch, z, todo, pins_of, outsider_ok, pair_ok, insiders=False)
        stalls = stalls + 1 if gained < MIN_PROGRESS * len(todo) else 0
        if stalls == 2:  # both directions had their turn
            break
    return batch.lps


def _insider_rounds(
    batch: BatchCertifier,
    demands: list[tuple[int, int, float]],
    pins_of: dict[int, list[int]],
    outsider_ok: set[Demand],
    pair_ok: PairSet,
    pinned: IntArray,
    sink: dict[Demand, tuple[IntArray, FloatArray]] | None = None,
) -> int:
    """Rounds with the single-contributor cells known: the coalition of all insiders.

    A round holds every hidden single-contributor cell at zero except those of the
    primaries it pushes (a pushed cell must move), so its move proves each pushed
    demand it reaches against every held insider at once. A pushed single-contributor
    primary ``q`` is not held, so the demands of the other primaries whose insider it
    is stay open when ``q`` moved: the first rounds push every open demand, the next
    ones one *class* of single-contributor primaries at a time (a greedy colouring of
    the open pairs among them: two primaries open against each other are never pushed
    together), with the primaries that are no insider's cell pushed every time. Every
    pair between two classes is then held on one side in some round. Returns the next
    seed.
    """
    problem = batch.problem
    is_pinned = np.zeros(problem.n, dtype=bool)
    is_pinned[pinned] = True

    closed: set[Demand] = set()  # proved on every side: stays so (proofs only accrue)

    def is_open(t: tuple[int, int, float]) -> bool:
        d = (t[0], t[1])
        if d in closed:
            return False
        if d not in outsider_ok or not pair_ok.all_proved(t[0], t[1], pins_of.get(t[0], [])):
            return True
        closed.add(d)
        return False

    def open_demands() -> list[tuple[int, int, float]]:
        return [t for t in demands if is_open(t)]

    def still(todo: list[tuple[int, int, float]]) -> int:
        return sum(
            ((p, d) not in outsider_ok) + len(pair_ok.open(p, d, pins_of.get(p, [])))
            for p, d, _ in todo
        )

    seed = 0
    classes = [{t[0] for t in open_demands() if is_pinned[t[0]]}]  # first: all pushed at once
    for _ in range(MAX_PASSES):
        before = still(open_demands())
        for members in classes:
            for _ in range(2):  # each primary's two directions in turn
                todo = [t for t in open_demands() if not is_pinned[t[0]] or t[0] in members]
                if not todo:
                    break
                hold = pinned[~np.isin(pinned, list(members))]
                todo = _one_direction_each(todo, seed)
                z = batch.solve(todo, hold, seed)
                seed += 1
                if z is not None:
                    _record(batch, z, todo, pins_of, outsider_ok, pair_ok, insiders=True, sink=sink)
        todo = open_demands()
        after = still(todo)
        if not todo or before - after < MIN_PROGRESS * before:
            break
        classes = _classes(todo, pins_of, pair_ok, is_pinned)
    return seed


def _classes(
    todo: list[tuple[int, int, float]],
    pins_of: dict[int, list[int]],
    pair_ok: PairSet,
    is_pinned: BoolArray,
) -> list[set[int]]:
    """Single-contributor primaries of ``todo`` in classes with no open pair inside one.

    A greedy colouring, at most :data:`MAX_CLASSES` colours (a round costs an LP over
    every hidden cell): past that a primary joins the class it clashes least with, and
    those pairs wait for the per-demand LPs.
    """
    pushed = {p for p, _, _ in todo if is_pinned[p]}
    links: dict[int, set[int]] = {p: set() for p in pushed}
    for p, d, _ in todo:
        if p not in pushed:
            continue
        for q in pair_ok.open(p, d, pins_of.get(p, [])) & pushed:
            links[p].add(q)
            links.setdefault(q, set()).add(p)
    colour: dict[int, int] = {}
    for p in sorted(links, key=lambda c: (-len(links[c]), c)):
        clashes = np.bincount([colour[q] for q in links[p] if q in colour], minlength=MAX_CLASSES)
        colour[p] = int(np.argmin(clashes[:MAX_CLASSES]))  # the first free, else fewest
    out: list[set[int]] = [set() for _ in range(max(colour.values(), default=-1) + 1)]
    for p, k in colour.items():
        out[k].add(p)
    return out


def _one_direction_each(
    todo: list[tuple[int, int, float]], seed: int
) -> list[tuple[int, int, float]]:
    """At most one demand per primary (a cell cannot be pushed both ways in one move)."""
    chosen: dict[int, tuple[int, int, float]] = {}
    for t in todo:
        p = t[0]
        if p not in chosen or (p + seed) % 2 == (t[1] == UP):
            chosen[p] = t
    return list(chosen.values())


def _record(
    batch: BatchCertifier,
    z: FloatArray,
    todo: list[tuple[int, int, float]],
    pins_of: dict[int, list[int]],
    outsider_ok: set[Demand],
    pair_ok: PairSet,
    *,
    insiders: bool,
    sink: dict[Demand, tuple[IntArray, FloatArray]] | None = None,
) -> int:
    """Mark what the move ``z`` proves; returns how many of ``todo`` it proved.

    With ``insiders``, a demand counts only when proved against every insider too.
    ``sink``: gets ``z`` (its moved cells, shared by every demand) for each demand it
    proves a new insider pair of.
    """
    gained = 0
    moved = set(batch.cells[np.abs(z) > MOVED].tolist())  # one move for every demand
    pos = batch.pos
    keep = np.abs(z) > 1e-7  # repair.WITNESS_ZERO: solver noise left out of the witness
    witness = (batch.cells[keep], z[keep])
    for p, d, req in todo:
        if not met(d * float(z[pos[p]]), req):
            continue
        new = (p, d) not in outsider_ok
        outsider_ok.add((p, d))
        if not insiders:
            gained += new
        proved, still = pair_ok.prove_unmoved(p, d, pins_of.get(p, []), moved)
        if proved and sink is not None:
            k = 0
            while (p, d * (k + 2)) in sink:
                k += 1
            sink[(p, d * (k + 2))] = witness
        if insiders:
            gained += not still
    return gained
