"""Random (unbiased) rounding to a base, key-consistent.

A value ``x = q b + r`` (0 <= r < b) is published as ``(q + 1) b`` when the cell's
key (its rounding stream, ``cellkey.derived_key``) is below ``r / b``, else as
``q b``: the expected published value is ``x``, a multiple of ``b`` is never
changed, and the same cell (the same records, hence the same key) rounds the same
way in every table. Totals are rounded on their own, so they need not equal the sum
of their rounded parts.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from fivesafes.errors import DataError, SpecError

FloatArray = npt.NDArray[np.float64]

SNAP = 1e-9  # a value within this share of a base of a multiple is that multiple


def rounding_input(values: npt.ArrayLike, base: float) -> FloatArray:
    """``values`` as floats, once ``base`` and every value are known to be roundable.

    A base of 0 made every cell NaN, a negative one failed an assertion; a NaN or an
    infinite cell has no adjacent multiple and would be published as it is.
    """
    if (
        isinstance(base, bool)
        or not isinstance(base, int | float | np.number)
        or not (math.isfinite(base) and base > 0)
    ):
        raise SpecError(
            f"the rounding base must be a finite number > 0, got {base!r}",
            hint="e.g. [rounding] base = 5",
            value_free=True,
        )
    x = np.asarray(values, dtype=np.float64)
    bad = int(np.count_nonzero(~np.isfinite(x)))
    if bad:
        raise DataError(
            f"{bad} cell(s) have no finite value (NaN or infinity): no rounding publishes them",
            hint="find the missing or infinite values of the response and correct the data",
            value_free=True,
        )
    return x


def floor_multiples(values: npt.ArrayLike, base: float) -> tuple[FloatArray, FloatArray]:
    """(q, r / b) per value: the multiple below and the remainder's share of the base,
    with values within SNAP of a multiple snapped onto it (remainder 0)."""
    q = np.asarray(values, dtype=np.float64) / base
    nearest = np.round(q)
    on = np.abs(q - nearest) <= SNAP
    floor = np.where(on, nearest, np.floor(q))
    share = np.where(on, 0.0, q - floor)
    return floor, share


def random_round(values: npt.ArrayLike, keys: npt.ArrayLike, base: float) -> FloatArray:
    """Each value rounded up with probability remainder/base, the draw being its cell key."""
    floor, share = floor_multiples(rounding_input(values, base), base)
    up = np.asarray(keys, dtype=np.float64) < share
    out: FloatArray = (floor + up) * base
    return out
