"""The outcome of secondary suppression, for the pipeline and for report.json."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fivesafes.sdc.cells import STATUS, VALUE, Status


def information_loss(cells: pd.DataFrame, cost: float | None = None) -> dict[str, Any]:
    """Cells and total absolute value hidden, per status and in all."""
    status = cells[STATUS].astype(str)
    value = np.abs(pd.to_numeric(cells[VALUE], errors="coerce").fillna(0.0).to_numpy(float))
    out: dict[str, Any] = {}
    hidden_cells, hidden_value = 0, 0.0
    for s in (Status.PRIMARY, Status.SECONDARY):
        mask = (status == s.value).to_numpy()
        k, v = int(mask.sum()), float(value[mask].sum())
        out[s.value] = {"cells": k, "value": v}
        hidden_cells += k
        hidden_value += v
    total_value = float(value.sum())
    out["hidden"] = {
        "cells": hidden_cells,
        "value": hidden_value,
        "share_of_cells": hidden_cells / max(len(cells), 1),
        "share_of_value": hidden_value / total_value if total_value else 0.0,
    }
    if cost is not None:
        out["secondary_cost"] = cost
    return out


@dataclass(frozen=True)
class SecondaryResult:
    """Cells with complementary suppressions marked, and how they were chosen."""

    cells: pd.DataFrame
    method: str  # the method actually used ("auto" never appears here)
    solver_status: str  # "optimal" | "time_limit" | "heuristic" | "nothing_to_protect"
    objective: float  # cost of the secondary cells under the spec's cost function
    bound: float | None  # proven lower bound on the optimal cost (optimal/modular only)
    gap: float | None  # (objective - bound) / objective, None for heuristics
    information_loss: dict[str, Any]
    timings: dict[str, float]
    notes: tuple[str, ...] = ()
    stats: dict[str, float] = field(default_factory=dict)
    # (cell row, direction) -> (cells, the attacker's move of each): a move proving that
    # demand on this pattern, which the audit may verify instead of solving its LPs
    witnesses: dict[tuple[int, int], tuple[Any, Any]] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (everything but the cells) for report.json."""
        return {
            "method": self.method,
            "solver_status": self.solver_status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "information_loss": self.information_loss,
            "timings": dict(self.timings),
            "notes": list(self.notes),
            "stats": dict(self.stats),
        }


@dataclass(frozen=True)
class LinkedSecondaryResult:
    """Linked tables protected together: one result per table, one shared pattern."""

    tables: tuple[SecondaryResult, ...]
    method: str
    solver_status: str
    objective: float
    gap: float | None
    timings: dict[str, float]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary of the joint protection and of each table."""
        return {
            "method": self.method,
            "solver_status": self.solver_status,
            "objective": self.objective,
            "gap": self.gap,
            "timings": dict(self.timings),
            "notes": list(self.notes),
            "tables": [t.to_dict() for t in self.tables],
        }
