"""`modular`: protect a hierarchical table one non-hierarchical sub-table at a time (HITAS-style).

A sub-table picks, in every dimension, one parent code and its children; its cells
are the product of those code sets and its relations are the ones lying wholly
inside it (a cell of level k appears as a child in one sub-table and as a parent in
others). Sub-tables are protected top-down (by the depth of their parent codes,
as tau-Argus's modular method and sdcTable's HITAS do), each with the exact model of
:mod:`optimal` restricted to it. A cell hidden in an earlier sub-table is forced
hidden in every later one and becomes a primary there (its requirement is what it
was hidden for, capped by its own room), so that a later sub-table cannot give it
away. When a sub-table hides a cell that an already-protected sub-table contains,
that sub-table is queued again (backtracking); the hidden set only grows, so this
ends. Finally the whole table is checked with the full attacker LPs and repaired
where the sub-tables' local view missed something, so the result is safe for the
table as a whole.
"""

from __future__ import annotations

import itertools
import time
from collections import deque

import numpy as np

from fivesafes.errors import InfeasibleProtectionError
from fivesafes.sdc.lp.structure import TableStructure
from fivesafes.sdc.secondary.attacker import separate
from fivesafes.sdc.secondary.fast import protect_fast
from fivesafes.sdc.secondary.model import BoolArray, FloatArray, IntArray, Problem
from fivesafes.sdc.secondary.optimal import protect_optimal
from fivesafes.sdc.secondary.repair import repair
from fivesafes.sdc.spec import SuppressionSpec

# Share of its own room a cell hidden in an earlier sub-table must keep in later ones.
INHERITED_SHARE = 0.5
# Each sub-table gets at most this many seconds of MIP time (and a share of the total).
SUBTABLE_SECONDS = 5.0


def subtables(structure: TableStructure) -> list[tuple[tuple[int, ...], IntArray]]:
    """Every sub-table as (parent code id per dimension, its cells), top-down."""
    hs = structure.hierarchies
    ids = structure.code_ids.astype(np.int64)
    n, n_dims = ids.shape
    parent_id: list[np.ndarray] = []
    nonleaf: list[np.ndarray] = []
    depth: list[np.ndarray] = []
    for h in hs:
        pos = {c: i for i, c in enumerate(h.order)}
        parent_id.append(
            np.array(
                [
                    pos.get(h.parent[c] or "", -1) if h.parent[c] is not None else -1
                    for c in h.order
                ],
                dtype=np.int64,
            )
        )
        nonleaf.append(np.array([bool(h.children[c]) for c in h.order]))
        depth.append(np.array([h.depth[c] for c in h.order], dtype=np.int64))
    sizes = np.array([len(h.order) for h in hs], dtype=np.int64)
    groups: dict[int, list[IntArray]] = {}
    cells = np.arange(n, dtype=np.int64)
    for roles in itertools.product((0, 1), repeat=n_dims):  # 0: as parent, 1: as child
        ok = np.ones(n, dtype=bool)
        key = np.zeros(n, dtype=np.int64)
        for d, role in enumerate(roles):
            code = ids[:, d]
            if role == 0:
                # a dimension with a single code is its own "parent" in every sub-table
                ok &= nonleaf[d][code] | (sizes[d] == 1)
                p = code
            else:
                p = parent_id[d][code]
                ok &= p >= 0
            key = key * sizes[d] + np.where(ok, p, 0)
        for k, c in _group(key[ok], cells[ok]):
            groups.setdefault(k, []).append(c)
    out: list[tuple[tuple[int, ...], IntArray]] = []
    for k, parts in groups.items():
        codes = []
        rest = k
        for d in range(n_dims - 1, -1, -1):
            codes.append(int(rest % sizes[d]))
            rest //= sizes[d]
        out.append((tuple(reversed(codes)), np.unique(np.concatenate(parts))))
    out.sort(key=lambda t: (sum(int(depth[d][c]) for d, c in enumerate(t[0])), t[0]))
    return out


def _group(keys: IntArray, cells: IntArray) -> list[tuple[int, IntArray]]:
    if keys.size == 0:
        return []
    order = np.argsort(keys, kind="stable")
    k, c = keys[order], cells[order]
    cuts = np.flatnonzero(np.diff(k)) + 1
    return [(int(g[0]), cc) for g, cc in zip(np.split(k, cuts), np.split(c, cuts), strict=True)]


def _subproblem(
    problem: Problem,
    cells: IntArray,
    hidden: BoolArray,
    inherited_lower: FloatArray,
    inherited_upper: FloatArray,
    with_inherited: bool,
) -> Problem:
    forced = hidden[cells] | problem.forced[cells]
    primary = problem.primary[cells].copy()
    lower = problem.lower_req[cells].copy()
    upper = problem.upper_req[cells].copy()
    if with_inherited:
        extra = (
            hidden[cells] & ~primary & ((inherited_lower[cells] > 0) | (inherited_upper[cells] > 0))
        )
        primary |= extra
        lower[extra] = inherited_lower[cells][extra]
        upper[extra] = inherited_upper[cells][extra]
    return problem.restrict(cells, forced, primary, lower, upper)


def protect_modular(
    problem: Problem, structure: TableStructure, spec: SuppressionSpec
) -> tuple[BoolArray, dict[str, float]]:
    """A safe pattern built sub-table by sub-table; returns (hidden, statistics)."""
    t0 = time.monotonic()
    deadline = t0 + spec.time_limit
    parts = subtables(structure)
    member: dict[int, list[int]] = {}
    for s, (_, cells) in enumerate(parts):
        for c in cells.tolist():
            member.setdefault(c, []).append(s)
    hidden = problem.forced.copy()
    inherited_lower = np.zeros(problem.n)
    inherited_upper = np.zeros(problem.n)
    queue = deque(range(len(parts)))
    queued = set(queue)
    done: set[int] = set()
    solves = skipped = requeued = 0
    budget = 5 * len(parts)
    while queue and budget > 0:
        s = queue.popleft()
        queued.discard(s)
        budget -= 1
        cells = parts[s][1]
        sub = None
        for with_inherited in (True, False):
            sub = _subproblem(
                problem, cells, hidden, inherited_lower, inherited_upper, with_inherited
            )
            if not sub.primary.any():
                break
            local_hidden = hidden[cells] | sub.forced
            cuts, _ = separate(sub, local_hidden)
            if not cuts:
                sub = None  # already protected inside this sub-table
                skipped += 1
                break
            try:
                start, _, _ = protect_fast(sub)
                seconds = min(SUBTABLE_SECONDS, max(0.05, deadline - time.monotonic()))
                res = protect_optimal(sub, start, time_limit=seconds, gap=spec.gap)
            except InfeasibleProtectionError:
                continue  # drop inherited requirements, then leave it to the final repair
            solves += 1
            new = cells[res.hidden & ~hidden[cells]]
            if new.size:
                req_l = float(sub.lower_req[sub.primary].max(initial=0.0))
                req_u = float(sub.upper_req[sub.primary].max(initial=0.0))
                hidden[new] = True
                inherited_lower[new] = np.minimum(req_l, INHERITED_SHARE * problem.down[new])
                inherited_upper[new] = np.minimum(req_u, INHERITED_SHARE * problem.up[new])
                for c in new.tolist():
                    for other in member.get(c, ()):
                        if other != s and other in done and other not in queued:
                            queue.append(other)
                            queued.add(other)
                            requeued += 1
            break
        done.add(s)
    hidden, rounds, lps = repair(problem, hidden)
    stats = {
        "subtables": float(len(parts)),
        "subtable_solves": float(solves),
        "subtables_already_safe": float(skipped),
        "backtracks": float(requeued),
        "final_repair_rounds": float(rounds),
        "final_repair_lps": float(lps),
    }
    return hidden, stats
