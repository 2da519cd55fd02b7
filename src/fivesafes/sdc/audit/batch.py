"""Batch points for the audit's "check" mode: a few LPs that reach many requirements at once.

In "check" mode a cell's min (max) LP is skipped once some feasible point of the
attacker's system already takes it to its required lower (upper) end. On a large
component most of those points can come from a handful of LPs: each pushes every
primary cell still unproved towards one of its required ends at once, with random
weights, and with each cell's own bound tightened to that end so that no cell takes
all the room. Tightening bounds only shrinks the feasible set, so every point found
is a feasible point of the attacker's system, and the skip stays exact. What the
rounds do not reach goes to the per-cell LPs as before.

Written for the audit alone (it shares no code with the suppression methods, which
it checks): the model is a copy of the component's, solved by interior point with
crossover above IPM_ABOVE unknowns (simplex rounds on 58,000 unknowns took minutes).
"""

from __future__ import annotations

import highspy
import numpy as np
import numpy.typing as npt

from fivesafes.sdc.lp.attack import ComponentModel, highs_bounds
from fivesafes.sdc.lp.highs import new_highs

FloatArray = npt.NDArray[np.float64]

MIN_CELLS = 2_000  # smaller components go straight to the per-cell LPs
MAX_ROUNDS = 8
MIN_PROGRESS = 0.02  # stop when a round proves less than this share of what is left
IPM_ABOVE = 5_000


def batch_points(
    model: ComponentModel,
    values: FloatArray,
    target_lo: FloatArray,
    target_hi: FloatArray,
    seen_lo: FloatArray,
    seen_hi: FloatArray,
    *,
    seed: int = 0,
    lower: FloatArray | None = None,
    upper: FloatArray | None = None,
) -> int:
    """Widen ``seen_lo``/``seen_hi`` in place with batch points; returns the LPs solved.

    ``target_lo``/``target_hi``: the end each cell must reach (NaN or infinite: none).
    ``lower``/``upper``: the attacker's bounds when they are tighter than the model's
    (e.g. cells whose contributors know them fixed at their values): the points found
    are then points of that smaller system.
    """
    k = model.n
    base_lo = model.lower if lower is None else lower
    base_hi = model.upper if upper is None else upper
    want_lo = np.isfinite(target_lo) & (target_lo < values)
    want_hi = np.isfinite(target_hi) & (target_hi > values)
    if k < MIN_CELLS or not (want_lo | want_hi).any():
        return 0
    h = new_highs()
    h.passModel(model.highs.getLp())
    # the model may have served a max LP last: its sense travels with it
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    h.setOptionValue("presolve", "choose")
    if k > IPM_ABOVE:
        h.setOptionValue("solver", "ipm")
    rng = np.random.default_rng(seed)
    lps = 0
    idx = np.arange(k, dtype=np.int32)
    stalls = 0
    for _ in range(MAX_ROUNDS):
        open_lo = want_lo & (seen_lo > target_lo)
        open_hi = want_hi & (seen_hi < target_hi)
        todo = open_lo | open_hi
        if not todo.any():
            break
        # one direction per cell per round (a cell cannot be pushed both ways at once)
        up = open_hi & (~open_lo | (rng.random(k) < 0.5))
        down = todo & ~up
        lo_b = np.where(down, np.maximum(base_lo, target_lo), base_lo)
        hi_b = np.where(up, np.minimum(base_hi, target_hi), base_hi)
        weight = 0.5 + rng.random(k)
        cost = np.zeros(k)
        with np.errstate(divide="ignore", invalid="ignore"):
            cost[up] = -weight[up] / (target_hi[up] - values[up])
            cost[down] = weight[down] / (values[down] - target_lo[down])
        h.changeColsCost(k, idx, cost)
        h.changeColsBounds(k, idx, highs_bounds(lo_b), highs_bounds(hi_b))
        h.run()
        lps += 1
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        x = np.asarray(h.getSolution().col_value, dtype=np.float64)
        before = int(todo.sum())
        np.minimum(seen_lo, x, out=seen_lo)
        np.maximum(seen_hi, x, out=seen_hi)
        after = int((want_lo & (seen_lo > target_lo) | want_hi & (seen_hi < target_hi)).sum())
        stalls = stalls + 1 if before - after < MIN_PROGRESS * before else 0
        if stalls == 2:
            break
    return lps
