"""Hypercube moves: attacker moves built from the hierarchies, as proofs of protection.

An attacker move is any ``z`` with ``A z = 0`` inside the rooms of the hidden cells; if
one reaches ``z_p >= upper_protection_p`` the attacker cannot rule out ``p``'s value
plus its protection (see :mod:`batch`). On a table whose relations are "every
subtotal is the sum of its children" in each dimension, moves are easy to build as
tensor products of one-dimensional moves, one per dimension:

* along one hierarchy, a *line move* is a signed set of codes that keeps every
  subtotal equal to the sum of its children: the code with a chain of its ancestors
  up to some level, then across to a sibling there with the opposite sign (each side
  continued down a chain to a leaf), or up to the root, all with the same sign;
* the product of one line move per dimension keeps every relation of the table (each
  relation runs along one dimension, where the line move sums to zero), so its
  corners, hidden, form a move of ``p`` (the classical hypercube of tau-Argus's
  GHMITER, generalised to chains through the hierarchy levels).

:class:`Search` finds, by coordinate descent over the dimensions, the product whose
corners cost least to hide (cells already hidden are free) and have room enough;
:func:`verified` checks a move against the relation matrix itself (``A z = 0``), so a
table whose relations are not of this form only loses the shortcut. The phase that
uses them is :mod:`hypercube_phase`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import TableStructure, radix_strides
from fivesafes.sdc.secondary.model import UP, BoolArray, FloatArray, IntArray, Problem, entries

MAX_LINE_MOVES = 128  # line moves considered per code (shortest first)
PASSES = 3  # coordinate-descent sweeps over the dimensions
RESTARTS = 4  # random starting products tried when the first start finds nothing
DENSE_GRID_MAX = 20_000_000  # cells in the code grid below which lookups use a dense array
SLACK = 1e-9  # relative: room "equal" to a requirement counts as enough


@dataclass(frozen=True)
class LineMoves:
    """The line moves of one code, grouped by length for vectorised evaluation."""

    groups: tuple[tuple[IntArray, IntArray], ...]  # (codes K x L, signs K x L) per length L

    @cached_property
    def flat(self) -> list[tuple[IntArray, IntArray]]:
        """Every line move as (codes, signs), in group order (built once per code)."""
        return [(c[k], s[k]) for c, s in self.groups for k in range(c.shape[0])]


def _down_chains(h: Hierarchy, code: str, limit: int) -> list[tuple[str, ...]]:
    """Chains from ``code`` down to a leaf (``(code,)`` for a leaf), at most ``limit``."""
    out: list[tuple[str, ...]] = []
    stack: list[tuple[str, ...]] = [(code,)]
    while stack and len(out) < limit:
        chain = stack.pop()
        kids = h.children[chain[-1]]
        if not kids:
            out.append(chain)
        else:
            stack.extend((*chain, k) for k in reversed(kids))
    return out


def line_moves(h: Hierarchy, code: str) -> LineMoves:
    """The line moves through ``code`` (with sign +1 on it), shortest first, capped."""
    pos = {c: i for i, c in enumerate(h.order)}
    moves: list[tuple[tuple[str, ...], tuple[int, ...]]] = []
    mine = _down_chains(h, code, MAX_LINE_MOVES)
    chain = h.ancestors(code)  # code, its parent, ..., the root
    for d in mine:
        moves.append((d + chain[1:], (1,) * (len(d) + len(chain) - 1)))
    for level, top in enumerate(chain[:-1]):
        # up from code to `top`, across to a sibling of `top`, down to a leaf
        up = chain[1 : level + 1]
        for s in h.children[h.parent[top] or ""]:
            if s == top:
                continue
            theirs = _down_chains(h, s, MAX_LINE_MOVES)
            for d, e in itertools.islice(itertools.product(mine, theirs), MAX_LINE_MOVES):
                moves.append((d + up + e, (1,) * (len(d) + len(up)) + (-1,) * len(e)))
    moves.sort(key=lambda m: len(m[0]))
    moves = moves[:MAX_LINE_MOVES]
    by_len: dict[int, list[tuple[tuple[str, ...], tuple[int, ...]]]] = {}
    for m in moves:
        by_len.setdefault(len(m[0]), []).append(m)
    groups = tuple(
        (
            np.array([[pos[c] for c in codes] for codes, _ in ms], dtype=np.int64),
            np.array([signs for _, signs in ms], dtype=np.int64),
        )
        for _, ms in sorted(by_len.items())
    )
    return LineMoves(groups)


class Grid:
    """Cell lookup by code positions, and the per-code line moves of each dimension."""

    def __init__(self, structure: TableStructure) -> None:
        self.hierarchies = structure.hierarchies
        self.stride = radix_strides(structure.hierarchies)
        self.code_ids = structure.code_ids.astype(np.int64)
        size = int(np.prod([len(h.order) for h in structure.hierarchies], dtype=np.float64))
        keys = structure.flat_keys.astype(np.int64)
        self.dense: IntArray | None = None
        if size <= DENSE_GRID_MAX:
            self.dense = np.full(size, -1, dtype=np.int64)
            self.dense[keys] = np.arange(keys.size)
        else:
            order = np.argsort(keys, kind="stable")
            self.sorted_keys, self.order = keys[order], order.astype(np.int64)
        self._moves: dict[tuple[int, int], LineMoves] = {}

    def cell(self, keys: IntArray) -> IntArray:
        """The cell of each grid key (-1 where the table has no such cell)."""
        if self.dense is not None:
            return self.dense[keys]
        i = np.searchsorted(self.sorted_keys, keys)
        i = np.minimum(i, self.sorted_keys.size - 1)
        found = self.sorted_keys[i] == keys
        return np.where(found, self.order[i], -1)

    def moves(self, d: int, code_pos: int) -> LineMoves:
        key = (d, code_pos)
        if key not in self._moves:
            h = self.hierarchies[d]
            self._moves[key] = line_moves(h, h.order[code_pos])
        return self._moves[key]


class Search:
    """The cheapest product of line moves for one primary, by coordinate descent.

    Two kinds of search. ``full``: a move with room for both requirements at once,
    scored by the cost of its corners not yet hidden. ``partial``: a move in one
    direction scored by that cost per unit of room it gives towards what remains of
    the requirement (at least ``min_room``), for when no single move has room enough
    and several are added up; ``used`` holds the room earlier parts already took.
    ``free_only``: only cells already hidden may be corners; ``held``: cells that may
    not be corners (insiders' cells a move must leave where they are).
    """

    def __init__(
        self,
        problem: Problem,
        grid: Grid,
        hidden: BoolArray,
        p: int,
        *,
        avoid_pinned: bool,
        full: tuple[float, float] | None = None,
        partial: tuple[int, float, float] | None = None,
        used: tuple[FloatArray, FloatArray] | None = None,
        free_only: bool = False,
        held: BoolArray | None = None,
    ) -> None:
        self.problem, self.grid, self.hidden, self.p = problem, grid, hidden, p
        self.avoid_pinned = avoid_pinned
        self.free_only = free_only
        self.full, self.partial, self.used = full, partial, used
        self.options = [grid.moves(d, int(c)) for d, c in enumerate(grid.code_ids[p])]
        self.flat = [o.flat for o in self.options]
        # per cell, what _score looks up, with one more entry at the end for the grid keys
        # without a cell (cell -1): never usable, costing and giving nothing
        usable = ~problem.fixed
        if free_only:
            usable = usable & hidden
        if avoid_pinned:
            usable = usable & (~problem.pinned | (np.arange(problem.n) == p))
        if held is not None:
            usable = usable & ~held
        self.usable = np.append(usable, False)
        self.cost = np.append(np.where(hidden, 0.0, problem.cost), 0.0)
        if partial is not None and used is not None:
            self.room = (
                np.append(problem.up - used[0], 0.0),
                np.append(problem.down - used[1], 0.0),
            )
        else:
            self.room = (np.append(problem.up, 0.0), np.append(problem.down, 0.0))

    def _others(self, choice: list[int], skip: int) -> tuple[IntArray, IntArray]:
        """Keys and signs of the product of the chosen line moves of every dimension but one."""
        keys = np.zeros(1, dtype=np.int64)
        signs = np.ones(1, dtype=np.int64)
        for d, k in enumerate(choice):
            if d == skip:
                continue
            codes, sg = self.flat[d][k]
            keys = (keys[:, None] + codes[None, :] * self.grid.stride[d]).ravel()
            signs = (signs[:, None] * sg[None, :]).ravel()
        return keys, signs

    def _score(self, cells: IntArray, signs: IntArray) -> FloatArray:
        """Score of each candidate (axis 0): lower is better; inf when not usable."""
        c = cells  # -1 (no such cell) is the last entry of the padded arrays
        ok = self.usable[c]
        axes = tuple(range(1, cells.ndim))
        cost = self.cost[c].sum(axis=axes)
        plus = signs > 0
        room_up, room_down = self.room[0][c], self.room[1][c]
        if self.full is not None:
            r_up, r_down = self.full
            need_up = np.where(plus, r_up, r_down)  # room needed above the value
            need_down = np.where(plus, r_down, r_up)  # ... and below it
            ok &= room_up >= need_up * (1 - SLACK)
            ok &= room_down >= need_down * (1 - SLACK)
            return np.where(ok.all(axis=axes), cost, np.inf)
        assert self.partial is not None and self.used is not None
        direction, remaining, min_room = self.partial
        moving_up = plus if direction == UP else ~plus
        room = np.where(ok, np.where(moving_up, room_up, room_down), 0.0).min(axis=axes)
        gain = np.minimum(room, remaining)
        with np.errstate(divide="ignore", invalid="ignore"):
            # a tiny cost per corner prefers, among free moves, the one giving most room
            score = (cost + 1e-9 * (1.0 + cost.max(initial=0.0))) / gain
        return np.where(gain >= min_room * (1 - SLACK), score, np.inf)

    def _best_in(self, d: int, choice: list[int]) -> tuple[float, int]:
        keys, signs = self._others(choice, d)
        best, best_k, offset = np.inf, -1, 0
        for codes, sg in self.options[d].groups:
            full = codes[:, :, None] * self.grid.stride[d] + keys[None, None, :]
            cells = self.grid.cell(full)
            score = self._score(cells, sg[:, :, None] * signs[None, None, :])
            k = int(np.argmin(score))
            if score[k] < best:
                best, best_k = float(score[k]), offset + k
            offset += codes.shape[0]
        return best, best_k

    def run(self, rng: np.random.Generator) -> tuple[IntArray, IntArray] | None:
        """The corners (cells, signs) of the best move found, or None."""
        starts = [[0] * len(self.flat)]
        starts += [[int(rng.integers(len(f))) for f in self.flat] for _ in range(RESTARTS)]
        dims = len(self.flat)
        for choice in starts:
            score = np.inf
            unchanged = 0  # dimensions tried in a row without a better product
            for step in range(PASSES * dims):
                d = step % dims
                best, k = self._best_in(d, choice)
                if best < score:
                    score, choice[d], unchanged = best, k, 0
                else:
                    unchanged += 1
                if unchanged >= dims - 1 and step >= dims - 1:
                    break  # every other dimension tried since the last change: a local optimum
            if np.isfinite(score):
                keys, signs = self._others(choice, -1)
                return self.grid.cell(keys), signs
        return None


def verified(problem: Problem, cells: IntArray, signs: IntArray) -> bool:
    """True when the move keeps every relation of the table (``A z = 0``)."""
    if cells.min(initial=0) < 0:
        return False
    csc = problem.csc
    pos, lens = entries(csc.indptr, cells)
    rows, inverse = np.unique(csc.indices[pos], return_inverse=True)
    residual = np.bincount(
        inverse, weights=csc.data[pos] * np.repeat(signs, lens), minlength=rows.size
    )
    return bool(np.all(np.abs(residual) < 1e-9))
