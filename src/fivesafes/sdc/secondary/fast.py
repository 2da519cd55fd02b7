"""`fast`: a greedy heuristic for very large tables, made safe by LP repair.

Two phases. (1) No LPs, one of two starts:

* relation covering (tables below HYPERCUBE_MIN_CELLS): for every primary (largest
  requirement first) and every relation it lies in, the relation's capacity cut is
  covered with the cheapest cells (a primary alone in a relation is always exposed;
  this fixes most of them at once), and so are the other relations of the complements
  it brings in;
* hypercube moves (:mod:`hypercube_phase`, larger tables): for every primary, the
  corners of attacker moves built from the hierarchies are hidden; each move is
  itself a proof that the demand is met, so those demands need no LP at all.

(2) Repair: the attacker LPs (batch rounds over all hidden cells, then per demand on
neighbourhoods, warm-started) find every demand still unmet (or not yet proved); each
gives a capacity cut, covered greedily, until the LPs find nothing. Phase 2 is what
makes the result safe; phase 1 only saves LPs.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from fivesafes.sdc.lp.structure import TableStructure
from fivesafes.sdc.progress import Progress, stage
from fivesafes.sdc.secondary.hypercube_phase import Demand, Witness, hypercube_phase
from fivesafes.sdc.secondary.infeasible import check_feasible_alone
from fivesafes.sdc.secondary.model import BoolArray, Problem, met
from fivesafes.sdc.secondary.repair import repair

# Tables at least this large start from hypercube moves (see protect_fast); smaller ones
# from relation covering, which lost less on the benchmark tables (bench/RESULTS.md).
HYPERCUBE_MIN_CELLS = 50_000
# ... and so do tables of 4 or more dimensions from this size: on a 9,900-cell 4-D table
# with 19% primary cells relation covering left thousands of demands to LPs on
# neighbourhoods of thousands of cells (not done after 15 minutes); the moves took 12 s
# (bench/bench_midsize.py, bench/RESULTS.md)
HYPERCUBE_MIN_CELLS_4D = 5_000


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


def uses_hypercube(n_cells: int, structure: TableStructure | None) -> bool:
    """Whether `fast` starts from hypercube moves on a table of this size and shape."""
    if structure is None:
        return False
    if n_cells >= HYPERCUBE_MIN_CELLS:
        return True
    return len(structure.dimensions) >= 4 and n_cells >= HYPERCUBE_MIN_CELLS_4D


def protect_fast(
    problem: Problem,
    structure: TableStructure | None = None,
    *,
    hypercube: bool | None = None,
    progress: Progress | None = None,
) -> tuple[BoolArray, dict[str, float], dict[Demand, Witness]]:
    """A safe pattern by greedy covering and LP repair: (hidden, statistics, witnesses).

    ``witnesses``: for each demand the hypercube phase proved, the attacker move that
    proves it (still valid on the final pattern, which only hides more), for the audit
    to verify instead of solving that demand's LPs.

    With the table's ``structure`` and ``hypercube`` (by default: from
    :data:`HYPERCUBE_MIN_CELLS` cells, or :data:`HYPERCUBE_MIN_CELLS_4D` with 4 or more
    dimensions), the greedy phase builds proving moves per
    primary (:mod:`hypercube`) instead of covering relation cuts, so that the LPs only
    see what the moves could not prove.
    """
    check_feasible_alone(problem)
    stats: dict[str, float] = {}
    witnesses: dict[Demand, Witness] = {}
    if hypercube is None:
        hypercube = uses_hypercube(problem.n, structure)
    if structure is not None and hypercube:
        with stage(progress, "secondary: hypercube moves") as moves:
            hidden, proofs = hypercube_phase(problem, structure, problem.forced.copy())
            moves.outcome = f"{len(proofs.proved):,} demands proved by moves"
        stats.update(
            hypercube_moves=float(proofs.moves),
            hypercube_proved=float(len(proofs.proved)),
            hypercube_rejected=float(proofs.rejected),
            hypercube_pruned=float(proofs.pruned),
            hypercube_seconds=sum(proofs.seconds.values()),
        )
        insider_moves: dict[Demand, Witness] = {}
        hidden, rounds, lps = repair(
            problem,
            hidden,
            proved=proofs.proved,
            insider_proof=proofs.insider_proof,
            progress=progress,
            moves=proofs.witnesses,
            insider_moves=insider_moves,
            holding=proofs.holding,
        )
        # the repair's LP moves against insiders, keys (p, ±(k + 2)): see repair._still
        witnesses = {**proofs.witnesses, **insider_moves}
    else:
        with stage(progress, "secondary: covering relations"):
            hidden = relation_phase(problem, problem.forced.copy())
        hidden, rounds, lps = repair(problem, hidden, progress=progress)
    stats.update(repair_rounds=float(rounds), attacker_lps=float(lps))
    return hidden, stats, witnesses
