"""Builders of small additive cells tables for the structure and audit tests.

Written independently of the tabulation code: values come from leaf values summed with
an explicit leaves-under matrix per dimension, so every subtotal is additive by construction.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.synthetic import aggregate
from fivesafes.sdc.synthetic import balanced_tree as tree  # noqa: F401 (used by the tests)


def flat(name: str, n: int, total: str = "T") -> Hierarchy:
    """A one-level hierarchy with codes name1..nameN under ``total``."""
    return Hierarchy.from_pairs(
        name, [(total, None)] + [(f"{name}{i}", total) for i in range(1, n + 1)]
    )


def make_cells(
    hierarchies: Sequence[Hierarchy],
    leaf_values: np.ndarray,
    *,
    primary: Mapping[tuple[str, ...], tuple[float, float]] | None = None,
    secondary: Sequence[tuple[str, ...]] = (),
    contributors: Mapping[tuple[str, ...], int] | None = None,
) -> pd.DataFrame:
    """A full cells table; ``primary`` maps a cell's codes to its (lower, upper) protection."""
    values = aggregate(leaf_values, hierarchies)
    grid = list(itertools.product(*[h.order for h in hierarchies]))
    cells = pd.DataFrame(grid, columns=[h.name for h in hierarchies], dtype=object)
    cells["records"] = 5
    cells["contributors"] = 5
    cells["value"] = values.ravel()
    cells["status"] = "safe"
    cells["rule"] = ""
    cells["lower_protection"] = 0.0
    cells["upper_protection"] = 0.0
    index = {k: i for i, k in enumerate(grid)}
    for key, (lo, up) in (primary or {}).items():
        i = index[key]
        cells.loc[i, ["status", "rule", "lower_protection", "upper_protection"]] = [
            "primary",
            "test",
            lo,
            up,
        ]
    for key in secondary:
        cells.loc[index[key], "status"] = "secondary"
    for key, n in (contributors or {}).items():
        cells.loc[index[key], ["contributors", "records"]] = [n, n]
    return cells
