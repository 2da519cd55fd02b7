"""The magnitude noise distribution: the symmetric ptable row on a grid of 1 / step.

A count ptable's outcomes are whole deviations, so a magnitude's noise ``v = d / D``
took at most 2 D + 1 values per contribution: each cell had a handful of possible
published values, whose grid tells an intruder where the truth may sit. Like the
ptable package's numeric tables (``create_num_ptable(step = ...)``), the noise ptable
is made on deviations ``k / step`` (|k| <= D * step): the maximum-entropy distribution
on them with mean 0 and variance V, so 2 D step + 1 values with the documented moments
and bound. ``step = 1`` is the integer ptable's last row exactly. A cell key picks the
outcome whose cumulative interval holds it, as in a count ptable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from fivesafes.errors import SpecError
from fivesafes.sdc.perturbation.ptable import PTable
from fivesafes.sdc.perturbation.ptable_build import max_entropy_row
from fivesafes.sdc.perturbation.ptable_check import (
    TOLERANCE,
    PTableCheck,
    RowCheck,
    moment_problems,
)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class NoiseRow:
    """Noise values ``v = d / D`` in [-1, 1], ascending, and their probabilities."""

    values: FloatArray
    p: FloatArray
    max_deviation: int  # D
    step: int  # outcomes are multiples of 1 / step (in units of the count ptable)

    @cached_property
    def upper_bounds(self) -> FloatArray:
        """Each outcome's cumulative probability, 1 at the end (no key left without one)."""
        ub = np.cumsum(self.p)
        ub[-1] = 1.0
        out: FloatArray = ub
        return out

    def draw(self, keys: npt.ArrayLike) -> FloatArray:
        """The noise each key in [0, 1) draws: the first outcome whose upper bound exceeds it."""
        r = np.asarray(keys, dtype=np.float64)
        if r.size and (r.min() < 0 or r.max() >= 1):
            raise ValueError("keys must lie in [0, 1)")
        pick = np.searchsorted(self.upper_bounds, r, side="right")
        out: FloatArray = self.values[np.minimum(pick, self.values.size - 1)]
        return out


def noise_row_of(pt: PTable) -> NoiseRow:
    """The symmetric (last) row of a count ptable (a ptable file) as magnitude noise."""
    j, p = pt.row(pt.imax)
    d = (j - pt.imax).astype(np.float64)
    big_d = int(np.abs(d).max())
    return NoiseRow(d / big_d, p.astype(np.float64), big_d, 1)


def generate_noise_row(max_deviation: int, variance: float, step: int) -> NoiseRow:
    """The maximum-entropy noise on deviations k / step, |k| <= D step, mean 0, variance V."""
    if max_deviation < 1 or step < 1:
        raise SpecError(f"magnitude D and step must be >= 1, got {max_deviation} and {step}")
    if not 0 < variance < max_deviation**2:
        raise SpecError(
            f"magnitude V = {variance:g} is out of reach for magnitude D = {max_deviation}: "
            f"it needs 0 < V < D^2 = {max_deviation**2}",
            hint="lower magnitude_V or raise magnitude_D",
        )
    k = np.arange(-max_deviation * step, max_deviation * step + 1, dtype=np.int64)
    # solved in units of 1 / step (whole deviations, variance V step^2): for step 1 the
    # very row the count ptable generator makes, so step 1 reproduces it exactly
    p, _ = max_entropy_row(k, variance * step * step)
    keep = p > 0
    return NoiseRow(k[keep] / float(max_deviation * step), p[keep], max_deviation, step)


def check_noise_row(row: NoiseRow, *, max_deviation: int, variance: float) -> PTableCheck:
    """The noise row's moments against D and V (in the count ptable's units), as a check."""
    d = row.values * row.max_deviation
    total, mean = float(row.p.sum()), float(row.p @ d)
    var = float(row.p @ (d * d))
    bad = moment_problems(row.p, total, mean, var, variance)
    if row.max_deviation != max_deviation or np.abs(d).max() > max_deviation + TOLERANCE:
        bad.append(f"an outcome beyond D = {max_deviation}")
    check = RowCheck(max_deviation, total, mean, var, float(variance), tuple(bad))
    problems = tuple(f"noise row (step 1/{row.step}): {b}" for b in bad)
    return PTableCheck(max_deviation, float(variance), 0, (check,), problems)
