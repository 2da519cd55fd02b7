"""A session's count or sum table computed again from the dataset, and compared cell by cell.

``release submit`` of a folder that ``Session.finalise`` wrote (with its source claim,
:mod:`fivesafes.release.session_source`) proves the source this way: the same
tabulation as the session's (every cell and every margin), over the dataset's
columns as the audited read path gives them, must give every value of the folder's
cells. A category the session knew but no record has (a categorical's unused level)
may appear in the folder only with zeros.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from fivesafes.outputs.protect import total_code
from fivesafes.outputs.tabulate import Request, tabulate
from fivesafes.sdc import VALUE

RTOL = 1e-9  # sums in another order, and written to CSV and read back


def table_cells(frame: pd.DataFrame, dimensions: Sequence[str], values: str | None) -> pd.DataFrame:
    """Every cell of the count table (``values`` None) or of the sum of ``values`` over
    ``dimensions`` of ``frame``, margins included: the codes as text, and ``value``."""
    data = {f"k{i}": frame[d] for i, d in enumerate(dimensions)}
    if values is not None:
        data["v"] = frame[values]
    stats = ("sum",) if values is not None else ("count",)
    request = Request(pd.DataFrame(data), tuple(dimensions), values is not None, stats, 1, ((),))
    cube = tabulate(request)
    value = cube.sum if values is not None else cube.count
    grids = np.meshgrid(*(np.arange(a.size + 1) for a in cube.axes), indexing="ij")
    out: dict[str, object] = {}
    for axis, grid in zip(cube.axes, grids, strict=True):
        labels = np.array([*axis.labels, total_code(axis.labels)], dtype=object)
        out[axis.name] = labels[grid.ravel()]
    out[VALUE] = value.ravel()
    return pd.DataFrame(out)


def differences(
    expected: pd.DataFrame, submitted: pd.DataFrame, dimensions: Sequence[str], *, limit: int = 5
) -> list[str]:
    """The cells where ``submitted`` is not ``expected`` (at most ``limit`` named)."""
    dims = list(dimensions)
    missing = [d for d in dims if d not in submitted.columns]
    if missing:
        return [f"the folder's cells have no column {d!r}" for d in missing]
    left = expected[[*dims, VALUE]].astype({d: str for d in dims})
    right = submitted[[*dims, VALUE]].astype({d: str for d in dims})
    both = left.merge(right, on=dims, how="outer", suffixes=("_data", "_folder"), indicator=True)
    data = both[f"{VALUE}_data"].to_numpy(dtype=np.float64)
    folder = both[f"{VALUE}_folder"].to_numpy(dtype=np.float64)
    only_folder = (both["_merge"] == "right_only").to_numpy()
    # a category no record has: in the folder only, with nothing in it
    data = np.where(only_folder, 0.0, data)
    scale = np.maximum(np.abs(data), 1.0)
    bad = ~(np.abs(np.nan_to_num(folder, nan=np.inf) - data) <= RTOL * scale)
    out = []
    for i in np.flatnonzero(bad)[:limit]:
        cell = ", ".join(f"{d}={both[d].iloc[i]}" for d in dims)
        side = both["_merge"].iloc[i]
        if side == "left_only":
            out.append(f"cell {cell} of the data is not in the folder")
        else:
            out.append(f"cell {cell}: the folder says {folder[i]:.10g}, the data {data[i]:.10g}")
    if bad.sum() > limit:
        out.append(f"... {int(bad.sum()) - limit} more")
    return out
