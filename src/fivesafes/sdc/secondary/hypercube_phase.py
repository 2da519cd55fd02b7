"""The hypercube phase of `fast`: proving moves for every primary, then pruning.

For each primary, largest requirement first, :class:`Builder` hides the corners of
the cheapest verified move with room for both of its requirements, or, when moves
that add up cost less (a dominant cell among small neighbours has no single move with
room enough), of several moves per direction whose rooms add up to the requirement.
Each demand keeps its moves as its proof.

Then :meth:`Builder.prune` publishes again the costliest secondary cells whose
demands can all be proved again from the other hidden cells alone: a cell hidden
early for one primary is sometimes not needed once later primaries have hidden theirs
(with a budget of searches: it finds little, most of it among the costliest cells).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from fivesafes.sdc.lp.structure import TableStructure
from fivesafes.sdc.secondary.hypercube import SLACK, Grid, Search, verified
from fivesafes.sdc.secondary.model import DOWN, UP, BoolArray, FloatArray, IntArray, Problem

MAX_PARTS = 64  # moves added up for one demand when no single move has room enough
MIN_PART_SHARE = 0.005  # ... each giving at least this share of the requirement
PRUNE_SHARE = 0.5  # the costliest half of the secondary cells are tried in the pruning
# ... for at most this share of the searches the moves took: on an 18,720-cell 4-D table
# pruning it all took 5x the moves' time for 6% less value suppressed, and as long as
# the moves 3% less; on 150,000 cells, as long as the moves 0.5% fewer cells. Counted
# in searches, not seconds, so that the pattern does not depend on the machine's load
# (a time box gave 4,829-4,869 secondary cells on the mid-size bench table).
PRUNE_WORK_SHARE = 0.25
MAX_HOLDING = 9  # searches for moves around a demand's open insiders (see Builder.holding)

Demand = tuple[int, int]  # (primary cell, direction)
Move = tuple[IntArray, IntArray]  # corners (cells) and their signs, the primary's +1
Part = tuple[IntArray, IntArray, float]  # a move and how far it goes (its share of a proof)
Witness = tuple[IntArray, FloatArray]  # cells and the attacker's move of each


@dataclass
class Certificates:
    """What the phase proved: demands, and those proved against insiders too."""

    proved: set[Demand] = field(default_factory=set)
    insider_proof: set[Demand] = field(default_factory=set)
    moves: int = 0
    rejected: int = 0  # moves that failed verification against the relations
    pruned: int = 0  # secondary cells published again by the pruning
    seconds: dict[str, float] = field(default_factory=dict)
    # per proved demand, the attacker's move that proves it (for the audit to verify)
    witnesses: dict[Demand, Witness] = field(default_factory=dict)
    # moves of a demand that leave given insiders' cells unmoved (Builder.holding)
    holding: Callable[[int, int, list[int]], list[Witness]] | None = None


class Builder:
    """Chooses the moves of each primary, hides their corners, and prunes."""

    def __init__(self, problem: Problem, structure: TableStructure, hidden: BoolArray) -> None:
        self.problem = problem
        self.grid = Grid(structure)
        self.hidden = hidden
        self.rng = np.random.default_rng(0)
        self.insiders = bool(problem.pinned.any())
        self.used = (np.zeros(problem.n), np.zeros(problem.n))
        self.out = Certificates()
        self.req: dict[Demand, float] = {}
        self.proofs: dict[Demand, list[Part]] = {}
        self.users: dict[int, set[Demand]] = {}  # cell -> demands whose proof uses it
        self.newly: list[IntArray] = []  # cells the parts of the current primary hid
        self.searches = 0  # moves searched for so far (the pruning's budget is counted in them)

    def _search(self, p: int, avoid: tuple[bool, ...], **kw: object) -> Move | None:
        for avoid_pinned in avoid:
            self.searches += 1
            found = Search(
                self.problem,
                self.grid,
                self.hidden,
                p,
                avoid_pinned=avoid_pinned,
                **kw,  # type: ignore[arg-type]
            ).run(self.rng)
            if found is not None:
                if not verified(self.problem, *found):
                    self.out.rejected += 1
                    return None
                return found
        return None

    def _avoid(self, insider_proof: bool | None = None) -> tuple[bool, ...]:
        """Searches to try: first avoiding single-contributor cells (where that matters)."""
        if insider_proof is not None:
            return (True,) if insider_proof else (False,)
        return (True, False) if self.insiders else (False,)

    def _parts(
        self,
        p: int,
        direction: int,
        req: float,
        avoid: tuple[bool, ...],
        free_only: bool = False,
        held: BoolArray | None = None,
    ) -> list[Part] | None:
        """Moves in one direction whose rooms add up to ``req`` (corners hidden as chosen)."""
        up_used, down_used = self.used
        moves: list[Part] = []
        remaining = req
        try:
            while remaining > req * SLACK and len(moves) < MAX_PARTS:
                found = self._search(
                    p,
                    avoid,
                    partial=(direction, remaining, req * MIN_PART_SHARE),
                    used=self.used,
                    free_only=free_only,
                    held=held,
                )
                if found is None:
                    return None
                cells, signs = found
                moving_up = (signs > 0) if direction == UP else (signs < 0)
                room = np.where(
                    moving_up,
                    self.problem.up[cells] - up_used[cells],
                    self.problem.down[cells] - down_used[cells],
                )
                gain = float(min(room.min(), remaining))
                up_used[cells[moving_up]] += gain
                down_used[cells[~moving_up]] += gain
                remaining -= gain
                moves.append((cells, signs, gain))
                self.newly.append(cells[~self.hidden[cells]])
                self.hidden[cells] = True  # later parts reuse these corners for free
            return moves if remaining <= req * SLACK else None
        finally:
            for cells, _, _ in moves:
                up_used[cells] = 0.0
                down_used[cells] = 0.0

    def _cost(self, moves: list[Move]) -> float:
        cells = np.unique(np.concatenate([m[0] for m in moves]))
        return float(self.problem.cost[cells[~self.hidden[cells]]].sum())

    def protect(self, p: int, r_up: float, r_down: float) -> None:
        """Find and hide the cheapest moves proving both demands of ``p`` (those it can)."""
        self.req.update({(p, d): r for d, r in ((UP, r_up), (DOWN, r_down)) if r > 0})
        avoid = self._avoid()
        full = self._search(p, avoid, full=(r_up, r_down))
        if full is not None and self._cost([full]) == 0.0:
            self._keep(p, {UP: [(*full, r_up)], DOWN: [(*full, r_down)]})
            return
        self.newly = []
        parts = {
            d: self._parts(p, d, r, avoid) if r > 0 else [] for d, r in ((UP, r_up), (DOWN, r_down))
        }
        if full is not None:
            added = np.concatenate([np.zeros(0, dtype=np.int64), *self.newly])
            split_cost = float(self.problem.cost[added].sum())
            if any(v is None for v in parts.values()) or self._cost([full]) <= split_cost:
                self.hidden[added] = False
                parts = {UP: [(*full, r_up)], DOWN: [(*full, r_down)]}
        self._keep(p, parts)

    def _keep(self, p: int, parts: dict[int, list[Part] | None]) -> None:
        pinned = self.problem.pinned
        for direction in (UP, DOWN):
            moves = parts.get(direction)
            if (p, direction) not in self.req or not moves:
                continue
            for cells, _, _ in moves:
                self.hidden[cells] = True
            self.out.moves += len(moves)
            self.out.proved.add((p, direction))
            if not any((pinned[cells] & (cells != p)).any() for cells, _, _ in moves):
                self.out.insider_proof.add((p, direction))
            self._record((p, direction), moves)

    def _record(self, demand: Demand, moves: list[Part]) -> None:
        for cells, _, _ in self.proofs.get(demand, []):
            for c in cells.tolist():
                self.users.get(c, set()).discard(demand)
        self.proofs[demand] = moves
        for cells, _, _ in moves:
            for c in cells.tolist():
                self.users.setdefault(c, set()).add(demand)

    def _reprove(self, demand: Demand) -> list[Part] | None:
        """Moves proving ``demand`` from hidden cells only (as strongly as before)."""
        p, direction = demand
        req = self.req[demand]
        avoid = self._avoid(demand in self.out.insider_proof)
        one = self._search(
            p, avoid, full=(req, 0.0) if direction == UP else (0.0, req), free_only=True
        )
        if one is not None:
            return [(*one, req)]
        return self._parts(p, direction, req, avoid, free_only=True)

    def prune(self, searches: int) -> None:
        """Publish again the costliest secondary cells that no proof needs any more.

        Costliest first, until ``searches`` more moves have been searched for (most of
        the value is in the first few); a cell is tried whole or not at all.
        """
        pr = self.problem
        secondary = np.flatnonzero(self.hidden & ~pr.forced)
        order = secondary[np.argsort(-pr.cost[secondary], kind="stable")]
        stop = self.searches + searches
        for c in order[: int(np.ceil(PRUNE_SHARE * order.size))].tolist():
            if self.searches >= stop:
                break
            self.hidden[c] = False
            new: dict[Demand, list[Part]] = {}
            for demand in sorted(self.users.get(c, ())):
                moves = self._reprove(demand)
                if moves is None:
                    self.hidden[c] = True
                    break
                new[demand] = moves
            if self.hidden[c]:
                continue
            for demand, moves in new.items():
                self._record(demand, moves)
            self.out.pruned += 1

    def _holding(self, demand: Demand, held: BoolArray) -> list[Part] | None:
        """Moves proving ``demand`` from hidden cells only, none of ``held`` a corner."""
        p, direction = demand
        req = self.req[demand]
        one = self._search(
            p,
            (False,),
            full=(req, 0.0) if direction == UP else (0.0, req),
            free_only=True,
            held=held,
        )
        if one is not None:
            return [(*one, req)]
        return self._parts(p, direction, req, (False,), free_only=True, held=held)

    def holding(self, p: int, direction: int, insiders: list[int]) -> list[Witness]:
        """Moves proving ``(p, direction)`` from hidden cells only that leave ``insiders``
        where they are (each such move proves the demand against them).

        First one move avoiding all of them, else one per insider (at most
        :data:`MAX_HOLDING` searches). Moves use only cells this phase hid, which stay
        hidden, so they hold on any pattern the repair grows from it.
        """
        demand = (p, direction)
        if demand not in self.req or not insiders:
            return []
        held = np.zeros(self.problem.n, dtype=bool)
        groups = [insiders] + ([[q] for q in insiders] if len(insiders) > 1 else [])
        out: list[Witness] = []
        for group in groups[:MAX_HOLDING]:
            if out and len(group) > 1:
                break
            held[group] = True
            parts = self._holding(demand, held)
            held[group] = False
            if parts is not None:
                out.append(_summed(direction, parts))
                if len(group) > 1:
                    break  # one move for all of them
        return out

    def witnesses(self) -> dict[Demand, Witness]:
        """Per proved demand, the sum of its parts: one attacker move reaching it."""
        return {demand: _summed(demand[1], parts) for demand, parts in self.proofs.items()}


def _summed(direction: int, parts: list[Part]) -> Witness:
    """The sum of a demand's parts: one attacker move (cells, move of each)."""
    cells = np.concatenate([c for c, _, _ in parts])
    move = np.concatenate([direction * gain * s for _, s, gain in parts])
    uniq, inverse = np.unique(cells, return_inverse=True)
    return uniq.astype(np.int64), np.bincount(inverse, weights=move).astype(np.float64)


def hypercube_phase(
    problem: Problem, structure: TableStructure, hidden: BoolArray, *, prune: bool = True
) -> tuple[BoolArray, Certificates]:
    """Hide the corners of verified moves for every demand they can prove; (pattern, proofs)."""
    t = time.perf_counter()
    builder = Builder(problem, structure, hidden | problem.forced)
    req: dict[int, dict[int, float]] = {}
    for p, direction, r in problem.targets():  # largest requirement first
        req.setdefault(p, {})[direction] = r
    for p, by_dir in req.items():
        builder.protect(p, by_dir.get(UP, 0.0), by_dir.get(DOWN, 0.0))
    builder.out.seconds["moves"] = time.perf_counter() - t
    if prune:
        t = time.perf_counter()
        builder.prune(int(PRUNE_WORK_SHARE * builder.searches))
        builder.out.seconds["prune"] = time.perf_counter() - t
    builder.out.witnesses = builder.witnesses()
    builder.out.holding = builder.holding
    return builder.hidden, builder.out
