"""Information loss of a protected table: the same measures for every method, side by side.

- ``changed_or_hidden``: share of cells whose published value differs from the true
  one or is not published at all (``hidden`` and ``changed`` separately);
- ``mean_absolute_deviation`` and ``mean_relative_deviation`` (|published - value| and
  that over |value|, cells with a value only) over the published cells;
- ``hellinger`` (frequency tables): the Hellinger distance between the true and the
  published distribution of the interior cells (every dimension at a leaf code),
  ``sqrt(1/2 * sum (sqrt(p_i) - sqrt(q_i))^2)`` with p, q the shares of the total:
  0 for identical tables, 1 for disjoint ones. Undefined when interior cells are
  hidden (there is no published distribution to compare).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fivesafes.sdc.cells import PUBLISHED, STATUS, VALUE, Status
from fivesafes.sdc.hierarchy import Hierarchy

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SIZE_EDGES = (0, 1, 5, 10, 20, 50, 100, 1_000, 10_000)  # cell size classes of the plot


def published_values(cells: pd.DataFrame) -> FloatArray:
    """The value each cell is published with; NaN where it is hidden."""
    hidden = cells[STATUS].astype(str).to_numpy() != Status.SAFE.value
    shown = (
        cells[PUBLISHED].to_numpy(dtype=np.float64)
        if PUBLISHED in cells.columns
        else cells[VALUE].to_numpy(dtype=np.float64)
    )
    out: FloatArray = np.where(hidden, np.nan, shown)
    return out


def interior_cells(
    cells: pd.DataFrame, hierarchies: Sequence[Hierarchy], dimensions: Sequence[str]
) -> BoolArray:
    """True for cells at a leaf code of every dimension (the table's inner cells)."""
    mask = np.ones(len(cells), dtype=bool)
    for dim, h in zip(dimensions, hierarchies, strict=True):
        mask &= cells[dim].astype(str).isin(set(h.leaves)).to_numpy()
    return mask


def loss_measures(
    cells: pd.DataFrame,
    hierarchies: Sequence[Hierarchy],
    dimensions: Sequence[str],
    *,
    frequency: bool,
) -> dict[str, Any]:
    """The loss measures of one protected table (plain JSON)."""
    value = cells[VALUE].to_numpy(dtype=np.float64)
    published = published_values(cells)
    hidden = np.isnan(published)
    shown = ~hidden
    dev = np.abs(published - value)
    changed = shown & (dev > 1e-9 * np.maximum(1.0, np.abs(value)))
    n = max(len(cells), 1)
    with_value = shown & (np.abs(value) > 0)
    out: dict[str, Any] = {
        "cells": len(cells),
        "changed_or_hidden": float((changed | hidden).sum() / n),
        "hidden": float(hidden.sum() / n),
        "changed": float(changed.sum() / n),
        "mean_absolute_deviation": float(dev[shown].mean()) if shown.any() else None,
        "max_absolute_deviation": float(dev[shown].max()) if shown.any() else None,
        "mean_relative_deviation": (
            float((dev[with_value] / np.abs(value[with_value])).mean())
            if with_value.any()
            else None
        ),
        "hellinger": None,
    }
    if frequency:
        inner = interior_cells(cells, hierarchies, dimensions)
        if hidden[inner].any():
            out["hellinger_note"] = "undefined: interior cells are hidden"
        else:
            out["hellinger"] = hellinger(value[inner], published[inner])
    return out


def hellinger(true: npt.ArrayLike, published: npt.ArrayLike) -> float:
    """Hellinger distance between two count vectors' distributions (shares of their totals)."""
    p = np.clip(np.asarray(true, dtype=np.float64), 0.0, None)
    q = np.clip(np.asarray(published, dtype=np.float64), 0.0, None)
    if p.sum() <= 0 or q.sum() <= 0:
        return 0.0 if p.sum() == q.sum() else 1.0
    p, q = p / p.sum(), q / q.sum()
    return float(np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)))


def size_edges(values: npt.ArrayLike, *, frequency: bool) -> tuple[float, ...]:
    """Cell size classes: fixed count classes, or decades for magnitudes."""
    if frequency:
        return tuple(float(e) for e in SIZE_EDGES)
    top = float(np.max(np.abs(np.asarray(values, dtype=np.float64)), initial=1.0))
    decades = int(np.ceil(np.log10(max(top, 10.0))))
    return (0.0, *(float(10**k) for k in range(decades + 1)))


def deviation_by_size(
    cells: pd.DataFrame, edges: Sequence[float], *, whole: bool = True
) -> pd.DataFrame:
    """Per class of true cell size: cells, share hidden, mean absolute and relative deviation.

    ``whole``: sizes are counts, and a class [a, b) is labelled a-(b-1)."""
    value = np.abs(cells[VALUE].to_numpy(dtype=np.float64))
    published = published_values(cells)
    bounds = np.array([*edges, np.inf])
    cls = np.searchsorted(bounds, value, side="right") - 1
    rows = []
    for k in range(len(bounds) - 1):
        take = cls == k
        if not take.any():
            continue
        shown = take & ~np.isnan(published)
        dev = np.abs(published[shown] - value[shown])
        nonzero = value[shown] > 0
        rows.append(
            {
                "size": _size_label(float(bounds[k]), float(bounds[k + 1]), whole=whole),
                "cells": int(take.sum()),
                "hidden": float((take & np.isnan(published)).sum() / take.sum()),
                "mean_absolute_deviation": float(dev.mean()) if dev.size else np.nan,
                "mean_relative_deviation": (
                    float((dev[nonzero] / value[shown][nonzero]).mean())
                    if nonzero.any()
                    else np.nan
                ),
            }
        )
    return pd.DataFrame(rows)


def _size_label(low: float, high: float, *, whole: bool) -> str:
    if not np.isfinite(high):
        return f"{low:g}+" if whole else f"{_compact(low)}+"
    if whole:
        return f"{low:g}" if high == low + 1 else f"{low:g}-{high - 1:g}"
    return f"{_compact(low)}-{_compact(high)}"


def _compact(x: float) -> str:
    """1000 -> 1k, 2500000 -> 2.5M: short labels for decades of magnitudes."""
    for size, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= size:
            return f"{x / size:g}{suffix}"
    return f"{x:g}"
