"""Check a ptable against the parameters it claims: the evidence that goes in the report.

Every row must sum to 1 with probabilities in [0, 1], have mean deviation 0
(unbiased), stay within D, never publish a negative count or one in (0, js), and
have variance V, except rows where V cannot be reached (listed, with the variance
they have, which must be the reachable one nearest V). Zeros stay zeros. The last
row serves every larger count, so it must be far enough from zero that no shift of
it reaches a forbidden count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from fivesafes.sdc.perturbation.ptable import PTable
from fivesafes.sdc.perturbation.ptable_build import reachable_variance, row_outcomes

TOLERANCE = 1e-9  # on sums, means and variances (a CSV round trip keeps ~1e-16)


@dataclass(frozen=True)
class RowCheck:
    """One row's moments and whether it keeps the constraints."""

    i: int
    total: float
    mean: float
    variance: float
    target_variance: float  # V, or the reachable variance nearest V
    problems: tuple[str, ...]


@dataclass(frozen=True)
class PTableCheck:
    """The outcome of every check of a ptable against (D, V, js)."""

    max_deviation: int
    variance: float
    js: int
    rows: tuple[RowCheck, ...]
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """True when every constraint holds."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """The check as plain JSON for report.json."""
        return {
            "passed": self.passed,
            "D": self.max_deviation,
            "V": self.variance,
            "js": self.js,
            "rows": [
                {
                    "i": r.i,
                    "sum": r.total,
                    "mean": r.mean,
                    "variance": r.variance,
                    "target_variance": r.target_variance,
                }
                for r in self.rows
            ],
            "rows_below_V": [r.i for r in self.rows if r.i and r.target_variance != self.variance],
            "problems": list(self.problems),
        }


def moment_problems(
    p: npt.NDArray[np.float64], total: float, mean: float, var: float, target: float
) -> list[str]:
    """What is wrong with a row's probabilities and moments (total 1, mean 0, variance)."""
    bad: list[str] = []
    if (p < 0).any() or (p > 1).any():
        bad.append("a probability outside [0, 1]")
    if abs(total - 1.0) > TOLERANCE:
        bad.append(f"probabilities sum to {total:.12g}, not 1")
    if abs(mean) > TOLERANCE:
        bad.append(f"mean deviation {mean:.3g}, not 0 (biased)")
    if abs(var - target) > TOLERANCE * max(1.0, target):
        bad.append(f"variance {var:.10g}, not {target:.10g}")
    return bad


def check_ptable(pt: PTable, *, max_deviation: int, variance: float, js: int) -> PTableCheck:
    """Check every constraint of ``pt`` for D = ``max_deviation``, V = ``variance``, ``js``."""
    rows: list[RowCheck] = []
    problems: list[str] = []
    small = js if js > 1 else 0
    if pt.imax - max_deviation < small:
        problems.append(
            f"the last row (i = {pt.imax}) serves every larger count but can move it below "
            f"{max(small, 1) if small else 0}: it must be at least D + js = {max_deviation + small}"
        )
    for i in range(pt.imax + 1):
        j, p = pt.row(i)
        d = (j - i).astype(np.float64)
        total = float(p.sum())
        mean = float(p @ d)
        var = float(p @ (d * d))
        allowed = row_outcomes(i, max_deviation, js)
        low, high = reachable_variance(allowed - i)
        target = min(max(variance, low), high) if i else 0.0
        bad = moment_problems(p, total, mean, var, target)
        outside = sorted(set(j.tolist()) - set(allowed.tolist()))
        if outside:
            bad.append(
                f"forbidden outcome(s) {outside[:5]} (negative, beyond D = {max_deviation}"
                + (f", or in (0, {js})" if js > 1 else "")
                + ")"
            )
        problems.extend(f"row i = {i}: {b}" for b in bad)
        rows.append(RowCheck(i, total, mean, var, target, tuple(bad)))
    return PTableCheck(max_deviation, float(variance), js, tuple(rows), tuple(problems))
