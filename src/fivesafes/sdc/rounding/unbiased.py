"""Random (unbiased) rounding to a base, key-consistent.

A value ``x = q b + r`` (0 <= r < b) is published as ``(q + 1) b`` when the cell's
key is below ``r / b``, else as ``q b``: the expected published value is ``x``, a
multiple of ``b`` is never changed, and the same cell (the same records, hence the
same key) rounds the same way in every table. Totals are rounded on their own, so
they need not equal the sum of their rounded parts.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

SNAP = 1e-9  # a value within this share of a base of a multiple is that multiple


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
    if base <= 0:
        raise ValueError("the rounding base must be > 0")
    floor, share = floor_multiples(values, base)
    up = np.asarray(keys, dtype=np.float64) < share
    out: FloatArray = (floor + up) * base
    return out
