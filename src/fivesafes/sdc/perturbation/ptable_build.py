"""Generate a count ptable from D, V and js by maximum entropy (Giessing 2016; the ptable package).

For every original count ``i`` the row's outcomes are the counts ``j`` within ``D``
of ``i``, never negative and never in ``(0, js)``. Among the distributions on them
with mean deviation 0 (unbiased) and variance ``V``, the row is the one of maximum
entropy: the least informative noise that meets the constraints. Its solution is
``p(d) ~ exp(a d + c d^2)``; (a, c) minimise the convex dual, solved with scipy.

A row that cannot reach variance ``V`` (a small count that must jump to 0 or to
``js``, or few outcomes near zero) gets the reachable variance nearest to ``V``: its
unique two-point distribution. :func:`fivesafes.sdc.perturbation.ptable_check.check_ptable`
reports which rows these are.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import logsumexp

from fivesafes.errors import SpecError
from fivesafes.sdc.perturbation.ptable import PTable, make_ptable

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MOMENT_TOLERANCE = 1e-10  # mean and variance of a generated row, absolute


def last_row(max_deviation: int, js: int) -> int:
    """The first count whose outcomes are all allowed: its row serves every larger count."""
    return max_deviation + (js if js > 1 else 0)


def row_outcomes(i: int, max_deviation: int, js: int) -> IntArray:
    """The published counts row ``i`` may move to: within D, >= 0, not in (0, js)."""
    if i == 0:
        return np.zeros(1, dtype=np.int64)  # an empty cell stays empty
    j = np.arange(max(0, i - max_deviation), i + max_deviation + 1, dtype=np.int64)
    out: IntArray = j[(j == 0) | (j >= max(js, 1))]
    return out


def reachable_variance(deviations: IntArray) -> tuple[float, float]:
    """The least and largest variance of a mean-zero distribution on ``deviations``."""
    d = np.asarray(deviations, dtype=np.int64)
    neg, pos = d[d < 0], d[d > 0]
    if not neg.size or not pos.size:
        return 0.0, 0.0
    low = 0.0 if (d == 0).any() else float(-neg.max() * pos.min())
    return low, float(-d.min() * d.max())


def max_entropy_row(deviations: IntArray, variance: float) -> tuple[FloatArray, float]:
    """The maximum-entropy mean-zero distribution on ``deviations`` with the variance nearest
    ``variance`` that is reachable; returns (probabilities, that variance)."""
    d = np.asarray(deviations, dtype=np.float64)
    low, high = reachable_variance(np.asarray(deviations, dtype=np.int64))
    if high == 0.0:
        if not (d == 0).any():
            raise SpecError("a ptable row has no unbiased outcome", hint="raise D")
        return (d == 0).astype(np.float64), 0.0
    if variance <= low or variance >= high:
        target = low if variance <= low else high
        # the boundary is reached by exactly one distribution: two points around zero
        a = d[d < 0].max() if variance <= low else d.min()
        b = d[d > 0].min() if variance <= low else d.max()
        p = np.zeros(d.size)
        p[d == a] = b / (b - a)
        p[d == b] = -a / (b - a)
        return p, target
    return _dual_solution(d, variance), variance


def _dual_solution(d: FloatArray, variance: float) -> FloatArray:
    features = np.stack([d, d * d - variance], axis=1)

    def dual(theta: FloatArray) -> tuple[float, FloatArray]:
        z = features @ theta
        log_norm = float(logsumexp(z))
        p = np.exp(z - log_norm)
        return log_norm, features.T @ p

    def hessian(theta: FloatArray) -> FloatArray:
        z = features @ theta
        p = np.exp(z - logsumexp(z))
        mean = features.T @ p
        out: FloatArray = (features * p[:, None]).T @ features - np.outer(mean, mean)
        return out

    found = minimize(
        dual, np.zeros(2), jac=True, hess=hessian, method="trust-exact", options={"gtol": 1e-13}
    )
    theta = np.asarray(found.x, dtype=np.float64)
    for _ in range(20):  # Newton steps from scipy's optimum: the last digits of the moments
        _, gradient = dual(theta)
        if np.abs(gradient).max() <= MOMENT_TOLERANCE / 100:
            break
        theta = theta - np.linalg.solve(hessian(theta), gradient)
    z = features @ theta
    p: FloatArray = np.exp(z - logsumexp(z))
    p /= p.sum()
    mean, var = float(p @ d), float(p @ (d * d))
    if abs(mean) > MOMENT_TOLERANCE or abs(var - variance) > MOMENT_TOLERANCE * max(1.0, variance):
        raise SpecError(
            f"the maximum-entropy row for V = {variance:g} did not converge "
            f"(mean {mean:.3g}, variance {var:.12g})",
            hint="V is too close to the least or largest variance the row can have; move it",
        )
    return p


def generate_ptable(max_deviation: int, variance: float, js: int = 0) -> PTable:
    """The count ptable for D = ``max_deviation``, V = ``variance`` and threshold ``js``."""
    if max_deviation < 1:
        raise SpecError(f"D must be >= 1, got {max_deviation}")
    if js > 1 and max_deviation < js - 1:
        raise SpecError(f"D = {max_deviation} is too small for js = {js}", hint="use D >= js - 1")
    if not 0 < variance < max_deviation**2:
        raise SpecError(
            f"V = {variance:g} is out of reach for D = {max_deviation}: large counts need "
            f"0 < V < D^2 = {max_deviation**2}",
            hint="lower V or raise D",
        )
    entries: list[tuple[int, int, float]] = []
    for i in range(last_row(max_deviation, js) + 1):
        j = row_outcomes(i, max_deviation, js)
        p, _ = max_entropy_row(j - i, variance)
        entries.extend((i, int(jj), float(pp)) for jj, pp in zip(j, p, strict=True))
    return make_ptable(entries)
