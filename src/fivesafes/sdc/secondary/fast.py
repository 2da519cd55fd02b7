"""`fast`: a greedy heuristic for very large tables, made safe by LP repair.

Two phases. (1) No LPs: for every primary (largest requirement first) and every
relation it lies in, the relation's capacity cut is covered with the cheapest cells
(a primary alone in a relation is always exposed; this fixes most of them at once),
and so are the other relations of the complements it brings in.
(2) Repair: the attacker LPs (per connected component of hidden cells, warm-started)
find every demand still unmet; each gives a capacity cut, covered greedily, until
the LPs find nothing. Phase 2 is what makes the result safe; phase 1 only saves LPs.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from fivesafes.sdc.secondary.model import BoolArray, Problem, check_feasible_alone, met
from fivesafes.sdc.secondary.repair import repair


def relation_phase(problem: Problem, hidden: BoolArray) -> BoolArray:
    """Cover relation cuts of every primary and of the complements they bring (no LP).

    A complement hidden so that ``p`` can move must itself move, so its other relations
    need room too: those derived demands are queued (up to a few per primary), which
    tends to close rectangles / hypercubes and lets most LP checks pass first time.
    """
    hidden = hidden | problem.forced
    a = problem.relations
    indptr, indices, data = a.indptr, a.indices, a.data
    csc = problem.csc
    cost, fixed = problem.cost, problem.fixed
    up, down, pinned = problem.up, problem.down, problem.pinned
    targets = problem.targets()
    queue = deque((p, direction, req, -1) for p, direction, req in targets)
    budget = 4 * len(targets)
    while queue:
        c, direction, req, via = queue.popleft()
        for r in csc.indices[csc.indptr[c] : csc.indptr[c + 1]]:
            if r == via:
                continue
            lo, hi = indptr[r], indptr[r + 1]
            cells = indices[lo:hi]
            coefs = data[lo:hi]
            s_c = coefs[cells == c][0]
            # moving c by `direction` forces same-signed cells of the row the other way
            same = np.sign(coefs) == np.sign(s_c)
            cap = np.minimum(np.where(same == (direction > 0), down[cells], up[cells]), req)
            others = cells != c
            helping = others & hidden[cells]
            have = float(cap[helping].sum())
            known = helping & pinned[cells]
            if known.any():  # the strongest single contributor's own cell gives no room
                have -= float(cap[known].max())
            deficit = req - have
            if met(-deficit, 0.0) or deficit <= 0:
                continue
            cand = np.flatnonzero(others & ~hidden[cells] & ~fixed[cells] & (cap > 0))
            while deficit > 0 and not met(-deficit, 0.0) and cand.size:
                ratios = cost[cells[cand]] / np.minimum(cap[cand], deficit)
                k = int(np.argmin(ratios))
                q = int(cells[cand[k]])
                hidden[q] = True
                moved = float(min(cap[cand[k]], deficit))
                deficit -= float(cap[cand[k]])
                if budget > 0:
                    budget -= 1
                    dir_q = -direction if np.sign(coefs[cand[k]]) == np.sign(s_c) else direction
                    queue.append((q, dir_q, moved, int(r)))
                cand = np.delete(cand, k)
            # a relation that cannot cover it alone may still be covered through others:
            # the LP repair decides (and raises when nothing can)
    return hidden


def protect_fast(problem: Problem) -> tuple[BoolArray, dict[str, float]]:
    """A safe pattern by greedy covering and LP repair; returns (hidden, statistics)."""
    check_feasible_alone(problem)
    hidden = relation_phase(problem, problem.forced.copy())
    hidden, rounds, lps = repair(problem, hidden)
    return hidden, {"repair_rounds": float(rounds), "attacker_lps": float(lps)}
