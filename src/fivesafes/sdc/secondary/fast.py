"""`fast`: a greedy heuristic for very large tables, made safe by LP repair.

Two phases. (1) No LPs: for every primary (largest requirement first) and every
relation it lies in, the relation's capacity cut is covered with the cheapest cells
(a primary alone in a relation is always exposed; this fixes most of them at once).
(2) Repair: the attacker LPs (per connected component of hidden cells, warm-started)
find every demand still unmet; each gives a capacity cut, covered greedily, until
the LPs find nothing. Phase 2 is what makes the result safe; phase 1 only saves LPs.
"""

from __future__ import annotations

import numpy as np

from fivesafes.sdc.secondary.model import BoolArray, Problem, check_feasible_alone, met, repair


def relation_phase(problem: Problem, hidden: BoolArray) -> BoolArray:
    """Cover every relation cut of every primary (no LP); returns the grown pattern."""
    hidden = hidden | problem.forced
    a = problem.relations
    indptr, indices, data = a.indptr, a.indices, a.data
    csc = problem.csc
    cost, fixed = problem.cost, problem.fixed
    up, down, pinned = problem.up, problem.down, problem.pinned
    for p, direction, req in problem.targets():
        for r in csc.indices[csc.indptr[p] : csc.indptr[p + 1]]:
            lo, hi = indptr[r], indptr[r + 1]
            cells = indices[lo:hi]
            coefs = data[lo:hi]
            s_p = coefs[cells == p][0]
            # moving p by `direction` forces same-signed cells of the row the other way
            same = np.sign(coefs) == np.sign(s_p * direction)
            cap = np.where(same, down[cells], up[cells])
            cap = np.minimum(cap, req)
            others = cells != p
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
                c = int(cells[cand[k]])
                hidden[c] = True
                deficit -= float(cap[cand[k]])
                cand = np.delete(cand, k)
            # a relation that cannot cover it alone may still be covered through others:
            # phase 2 decides (and raises when nothing can)
    return hidden


def protect_fast(problem: Problem) -> tuple[BoolArray, dict[str, float]]:
    """A safe pattern by greedy covering and LP repair; returns (hidden, statistics)."""
    check_feasible_alone(problem)
    hidden = relation_phase(problem, problem.forced.copy())
    hidden, rounds, lps = repair(problem, hidden)
    return hidden, {"repair_rounds": float(rounds), "attacker_lps": float(lps)}
