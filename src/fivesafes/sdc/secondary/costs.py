"""What it costs to suppress a cell: the information a user loses when it is hidden.

``value`` (default) is the cell's absolute value, ``unit`` counts cells, ``contributors``
counts the units behind the cell, ``log`` is ``log(1 + |value|)`` (a compromise: large
cells cost more, but not in proportion). A total or subtotal (a non-leaf code in any
dimension) is multiplied by ``total_cost_factor`` because users read margins most.
A tiny tie-break (1e-6 of the mean cost) keeps zero-cost cells from being hidden for
nothing when an equally cheap pattern exists without them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from fivesafes.errors import SpecError
from fivesafes.sdc.cells import CONTRIBUTORS, VALUE
from fivesafes.sdc.lp.structure import TableStructure
from fivesafes.sdc.spec import SuppressionSpec

FloatArray = npt.NDArray[np.float64]


def is_total(structure: TableStructure) -> npt.NDArray[np.bool_]:
    """True for every cell whose code is not a leaf in at least one dimension."""
    out = np.zeros(structure.n_cells, dtype=bool)
    for d, h in enumerate(structure.hierarchies):
        nonleaf = np.array([not h.is_leaf(c) for c in h.order], dtype=bool)
        out |= nonleaf[structure.code_ids[:, d]]
    return out


def cell_costs(cells: pd.DataFrame, structure: TableStructure, spec: SuppressionSpec) -> FloatArray:
    """The cost of hiding each cell under ``spec.cost`` and ``spec.total_cost_factor``."""
    value = np.abs(pd.to_numeric(cells[VALUE], errors="coerce").fillna(0.0).to_numpy(float))
    if spec.cost == "value":
        base = value
    elif spec.cost == "unit":
        base = np.ones(value.size)
    elif spec.cost == "log":
        base = np.log1p(value)
    elif spec.cost == "contributors":
        if CONTRIBUTORS not in cells.columns:
            raise SpecError(
                "cost = 'contributors' needs a 'contributors' column in the cells table",
                hint="use cost = 'value', 'unit' or 'log', or tabulate with contributors",
            )
        base = pd.to_numeric(cells[CONTRIBUTORS], errors="coerce").fillna(0.0).to_numpy(float)
    else:  # pragma: no cover - parse_spec validates the name
        raise SpecError(f"unknown cost function {spec.cost!r}")
    base = base * np.where(is_total(structure), spec.total_cost_factor, 1.0)
    mean = float(base.mean()) if base.size else 0.0
    return np.asarray(base + 1e-6 * max(mean, 1e-9), dtype=np.float64)
