"""The full cells frame from the cells that have rows: every code combination, display order.

An engine that computes only the non-empty cells (a distributed one: the grid is
built where the cells arrive, on the driver) hands them here with each dimension's
cell as its code's display position; the result is the frame DuckDB's tabulation
returns, zero cells included, first dimension varying slowest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fivesafes.sdc import CONTRIBUTORS, NEGATIVES, RECORDS, RULE_TOTAL, VALUE, Hierarchy, top_column

# the statistics after the dimensions; the top columns sit between these and NEGATIVES
_COUNTS = (RECORDS, CONTRIBUTORS)
_SUMS = (VALUE, RULE_TOTAL)


def cell_positions(
    hierarchies: Sequence[Hierarchy], ids: Sequence[npt.NDArray[np.int64]]
) -> npt.NDArray[np.int64]:
    """Each cell's row in the full grid, from its per-dimension display positions."""
    sizes = [len(h.order) for h in hierarchies]
    pos = np.zeros(len(ids[0]) if ids else 0, dtype=np.int64)
    for size, column in zip(sizes, ids, strict=True):
        column = np.asarray(column, dtype=np.int64)
        if len(column) and (column.min() < 0 or column.max() >= size):
            raise ValueError("a cell id lies outside its hierarchy")
        pos = pos * size + column
    if len(np.unique(pos)) != len(pos):
        raise ValueError("a cell arrived twice")
    return pos


def full_grid(
    names: Sequence[str],
    hierarchies: Sequence[Hierarchy],
    ids: Sequence[npt.NDArray[np.int64]],
    stats: Mapping[str, npt.NDArray[Any]],
    top: Sequence[npt.NDArray[np.float64]],
) -> pd.DataFrame:
    """The cells frame: ``stats`` (records, contributors, value, rule_total, negatives) and
    ``top`` (the K largest contributor totals, NaN where a cell has fewer) of the non-empty
    cells at ``ids``, zeros elsewhere, in hierarchy display order."""
    sizes = [len(h.order) for h in hierarchies]
    total = int(np.prod(sizes, dtype=np.int64))
    pos = cell_positions(hierarchies, ids)
    frame: dict[str, object] = {}
    inner = total
    for name, h, size in zip(names, hierarchies, sizes, strict=True):
        # code of dimension i at grid row r: order[(r // (product of the later sizes)) % size]
        inner //= size
        codes = np.asarray(h.order, dtype=object)
        frame[name] = np.tile(np.repeat(codes, inner), total // (size * inner))
    for col in _COUNTS:
        frame[col] = _scatter(total, pos, stats[col], np.int64, 0)
    for col in _SUMS:
        frame[col] = _scatter(total, pos, stats[col], np.float64, 0.0)
    for j, values in enumerate(top, start=1):
        # a cell with fewer than K contributors has no j-th largest: 0, as DuckDB's gives
        present = np.asarray(values, dtype=np.float64)
        present = np.where(np.isnan(present), 0.0, present)
        frame[top_column(j)] = _scatter(total, pos, present, np.float64, 0.0)
    frame[NEGATIVES] = _scatter(total, pos, stats[NEGATIVES], np.int64, 0)
    out = pd.DataFrame(frame)
    for name in names:
        out[name] = out[name].astype(str)
    return out


def _scatter(
    total: int, pos: npt.NDArray[np.int64], values: npt.NDArray[Any], dtype: type, empty: float
) -> npt.NDArray[Any]:
    out: npt.NDArray[Any] = np.full(total, empty, dtype=dtype)
    out[pos] = values
    return out
