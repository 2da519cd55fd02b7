"""ACRO's per-cell checks, vectorised over a cube: which cells fail which check, per statistic.

Which checks a statistic gets follows ACRO 1.0.2's ontology ("statbarns"): counts
and the position statistics (median, min, max) get the threshold and, when zeros are
disclosive, the zero check; sums and means the threshold, the N-k rule and the
p-ratio; a standard deviation the degrees-of-freedom check (count - 1); a mode the
zero check and (unlike ACRO, whose mode has no threshold) the threshold. Dominance is
evaluated on absolute values, so negative values do not switch it off (ACRO returns
"review" for the whole table instead, its issue #19).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fivesafes.outputs import verdict as V
from fivesafes.outputs.rules import OutputRules
from fivesafes.outputs.tabulate import Cube

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

STAT_CHECKS: dict[str, tuple[str, ...]] = {
    "count": (V.ZERO, V.THRESHOLD),
    "sum": (V.NK, V.P_RATIO, V.THRESHOLD),
    "mean": (V.NK, V.P_RATIO, V.THRESHOLD),
    "median": (V.ZERO, V.THRESHOLD),
    "min": (V.ZERO, V.THRESHOLD),
    "max": (V.ZERO, V.THRESHOLD),
    "std": (V.DOF,),
    # ACRO gives a mode the zero check only; the mode of a cell of one record is that
    # record's value, so here it gets the threshold as well (docs/outputs.md)
    "mode": (V.ZERO, V.THRESHOLD),
}


@dataclass(frozen=True)
class CellChecks:
    """For one statistic: each check's mask over the cube (True: the cell is flagged)."""

    statistic: str
    masks: dict[str, BoolArray]

    def flagged(self, names: frozenset[str] = V.FAILING_CHECKS) -> BoolArray:
        """Cells flagged by any of ``names`` (by default the checks that fail a cell)."""
        out = np.zeros(next(iter(self.masks.values())).shape, dtype=bool)
        for name, mask in self.masks.items():
            if name in names:
                out |= mask
        return out


def checks_for(statistic: str, rules: OutputRules) -> tuple[str, ...]:
    """The checks a statistic gets under ``rules`` (zeros only when they are disclosive)."""
    names = STAT_CHECKS[statistic]
    if not rules.zeros_are_disclosive:
        names = tuple(n for n in names if n != V.ZERO)
    return names


def run_checks(cube: Cube, statistic: str, rules: OutputRules) -> CellChecks:
    """Evaluate every check of ``statistic`` on every cell of ``cube``."""
    masks: dict[str, BoolArray] = {}
    for name in checks_for(statistic, rules):
        masks[name] = _mask(cube, name, rules)
    if rules.check_missing_values and statistic != "count":
        masks[V.MISSING] = cube.count > cube.values
    if statistic in ("sum", "mean") and bool((cube.negatives > 0).any()):
        masks[V.NEGATIVE] = cube.negatives > 0
    return CellChecks(statistic, masks)


def _mask(cube: Cube, name: str, rules: OutputRules) -> BoolArray:
    if name == V.THRESHOLD:
        return np.asarray(cube.count < rules.safe_threshold)
    if name == V.ZERO:
        return np.asarray(cube.count == 0)
    if name == V.DOF:
        return np.asarray(cube.count - 1 < rules.safe_dof_threshold)
    if name == V.NK:
        out = np.zeros(cube.shape, dtype=bool)
        for n, k in rules.dominance:
            out |= nk_flags(cube.top_sum(n), cube.abs_sum, k)
        return out
    if name == V.P_RATIO:
        return p_ratio_flags(
            cube.tops[..., 0], cube.top_sum(2), cube.abs_sum, cube.values, rules.safe_pratio_p
        )
    raise ValueError(f"unknown check {name}")  # pragma: no cover - names come from STAT_CHECKS


def nk_flags(top_sum: FloatArray, total: FloatArray, k: float) -> BoolArray:
    """N-k rule: the top N contributors hold at least ``k`` of the total (empty cells pass)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total != 0, top_sum / np.where(total != 0, total, 1), np.nan)
    return np.asarray(share >= k)


def p_ratio_flags(
    top1: FloatArray, top2_sum: FloatArray, total: FloatArray, values: FloatArray, p: float
) -> BoolArray:
    """p-ratio: (total - top1 - top2) / top1 < p; with top1 = 0 the remainder itself (ACRO)."""
    remainder = total - top2_sum
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(top1 == 0, remainder, remainder / np.where(top1 == 0, 1, top1))
    return np.asarray((values > 0) & (ratio < p))


def protection_needs(
    cube: Cube, rules: OutputRules, flags: dict[str, BoolArray], *, frequency: bool
) -> FloatArray:
    """The protection each flagged cell needs, in the measure's units (count or sum).

    Per rule that flagged it (the tau-Argus requirements, see sdc/rules.py), the largest:
    threshold, ``threshold_protection_percent`` of the value (at least one unit for counts);
    N-k, (1/k) * topN - total; p-ratio, p * top1 - (total - top1 - top2); a zero count, one
    unit. A cell flagged only by another check gets the minimum ``sdc`` gives any primary.
    """
    tpp = rules.threshold_protection_percent / 100.0
    need = np.zeros(cube.shape, dtype=np.float64)
    none = np.zeros(cube.shape, dtype=bool)
    if frequency:
        need = np.where(flags.get(V.THRESHOLD, none), np.maximum(tpp * cube.count, 1.0), need)
        return np.where(flags.get(V.ZERO, none), np.maximum(need, 1.0), need)
    need = np.where(flags.get(V.THRESHOLD, none), tpp * np.abs(cube.sum), need)
    nk = np.zeros(cube.shape, dtype=np.float64)
    for n, k in rules.dominance:
        nk = np.maximum(nk, cube.top_sum(n) / k - cube.abs_sum)
    need = np.where(flags.get(V.NK, none), np.maximum(need, nk), need)
    remainder = rules.safe_pratio_p * cube.tops[..., 0] - (cube.abs_sum - cube.top_sum(2))
    need = np.where(flags.get(V.P_RATIO, none), np.maximum(need, remainder), need)
    return np.asarray(np.maximum(need, 0.0), dtype=np.float64)
