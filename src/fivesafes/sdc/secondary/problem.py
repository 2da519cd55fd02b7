"""From a cells table to a suppression :class:`Problem` (bounds, costs, requirements)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from fivesafes.errors import DataError
from fivesafes.sdc.cells import LOWER, RECORDS, STATUS, UPPER, VALUE, Status
from fivesafes.sdc.contributors import InsiderRule
from fivesafes.sdc.lp.structure import TableStructure
from fivesafes.sdc.secondary.costs import cell_costs
from fivesafes.sdc.secondary.model import FloatArray, Problem
from fivesafes.sdc.secondary.singleton import single_contributor
from fivesafes.sdc.spec import SuppressionSpec

# A primary cell whose rule asked for no protection still must not be pinned: counts
# get one unit, magnitudes this share of their value (documented in docs/secondary.md).
MIN_MAGNITUDE_SHARE = 0.01


def _column(cells: pd.DataFrame, name: str, default: float) -> FloatArray:
    if name not in cells.columns:
        return np.full(len(cells), default)
    out = pd.to_numeric(cells[name], errors="coerce").to_numpy(float)
    return np.asarray(np.where(np.isnan(out), default, out), dtype=np.float64)


def build_problem(
    cells: pd.DataFrame, structure: TableStructure, spec: SuppressionSpec, *, frequency: bool
) -> Problem:
    """The suppression problem of a cells table under a suppression spec."""
    for col in (VALUE, STATUS):
        if col not in cells.columns:
            raise DataError(
                f"the cells table has no '{col}' column",
                hint="secondary suppression runs on the cells of a tabulated table with "
                "primary statuses",
            )
    value = pd.to_numeric(cells[VALUE], errors="coerce").to_numpy(float)
    if np.isnan(value).any():
        i = int(np.flatnonzero(np.isnan(value))[0])
        raise DataError(
            f"cell {structure.describe_cell(i)} has no value",
            hint="every cell needs a numeric value (0 for an empty cell)",
        )
    status = cells[STATUS].astype(str).to_numpy()
    unknown = sorted(set(map(str, status)) - {s.value for s in Status})
    if unknown:
        raise DataError(
            f"unknown status(es) {unknown} in the cells table",
            hint="statuses are safe, primary or secondary",
        )
    primary = status == Status.PRIMARY.value
    earlier = status == Status.SECONDARY.value
    lower = np.abs(_column(cells, LOWER, 0.0))
    upper = np.abs(_column(cells, UPPER, 0.0))
    lower[~primary] = 0.0
    upper[~primary] = 0.0
    unset = primary & (lower <= 0) & (upper <= 0)
    if frequency:
        upper[unset] = 1.0
    else:
        upper[unset] = np.maximum(MIN_MAGNITUDE_SHARE * np.abs(value[unset]), 1e-6)
    nonneg = bool((value >= 0).all())
    down = value.copy() if nonneg else np.full(value.size, math.inf)
    up = np.full(value.size, math.inf)
    if spec.a_priori_percent is not None:
        room = spec.a_priori_percent / 100.0 * np.abs(value)
        down = np.minimum(down, room)
        up = room
    pinned = single_contributor(cells) if spec.singleton else np.zeros(value.size, dtype=bool)
    fixed = np.zeros(value.size, dtype=bool)
    if RECORDS in cells.columns:
        # structural zeros: known to be empty, so hiding them protects nothing
        fixed = (_column(cells, RECORDS, 1.0) == 0) & ~primary & ~earlier
    return Problem(
        relations=structure.relations,
        value=value,
        down=down,
        up=up,
        pinned=pinned,
        cost=cell_costs(cells, structure, spec),
        primary=primary,
        lower_req=lower,
        upper_req=upper,
        fixed=fixed,
        forced=primary | earlier,
        describe=lambda i: "cell " + structure.describe_cell(i),
        outsiders=InsiderRule.of(structure, _records(cells)).outside,
        coarser=_coarser(structure),
    )


def _coarser(structure: TableStructure) -> Callable[[int], tuple[str, ...]]:
    """For a cell: each of its codes merged into its parent (a coarser table to suggest)."""

    def coarser(i: int) -> tuple[str, ...]:
        out = []
        for d, h in enumerate(structure.hierarchies):
            code = h.order[int(structure.code_ids[i, d])]
            parent = h.parent.get(code)
            if parent is not None:
                out.append(f"'{structure.dimensions[d]}' {code} merged into {parent}")
        return tuple(out)

    return coarser


def _records(cells: pd.DataFrame) -> FloatArray | None:
    """Records per cell (NaN where unknown), or None without a records column."""
    if RECORDS not in cells.columns:
        return None
    return np.asarray(pd.to_numeric(cells[RECORDS], errors="coerce").to_numpy(float))
