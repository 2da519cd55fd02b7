"""Linked tables: tables from the same data that share cells, protected as one system.

Each table's relations are stacked over the union of their cells (a cell shared by
two tables, e.g. region x Total in region x industry and in region x size band, is
one variable, see :func:`fivesafes.sdc.lp.linked.build_linked_structure`). A cell
primary in one table is primary everywhere, with the largest requirement any table
gives it; the attacker sees every table at once, so nothing one table hides can be
recovered from another, and a shared cell gets one status in all tables.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from fivesafes.sdc.cells import LOWER, STATUS, UPPER, VALUE, Status
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.linked import build_linked_structure
from fivesafes.sdc.progress import Progress
from fivesafes.sdc.secondary.problem import build_problem
from fivesafes.sdc.secondary.protect import apply_pattern, choose_method, run_method
from fivesafes.sdc.secondary.result import (
    LinkedSecondaryResult,
    SecondaryResult,
    information_loss,
)
from fivesafes.sdc.spec import SuppressionSpec

_HIDDEN_RANK = {Status.SAFE.value: 0, Status.SECONDARY.value: 1, Status.PRIMARY.value: 2}


def _joint_cells(
    tables: Sequence[tuple[pd.DataFrame, Sequence[Hierarchy]]],
    members: Sequence[np.ndarray],
    n: int,
) -> pd.DataFrame:
    """One row per linked variable: the first table's figures, the strictest status."""
    frames = []
    for (cells, _), m in zip(tables, members, strict=True):
        f = cells.copy()
        f["_var"] = m
        frames.append(f)
    allc = pd.concat(frames, ignore_index=True, sort=False)
    rank = allc[STATUS].astype(str).map(_HIDDEN_RANK).fillna(0).astype(int)
    allc["_rank"] = rank
    joint = allc.groupby("_var", sort=True).first()
    joint[STATUS] = allc.groupby("_var")["_rank"].max().map({v: k for k, v in _HIDDEN_RANK.items()})
    for col in (LOWER, UPPER):
        if col in allc.columns:
            req = pd.to_numeric(allc[col], errors="coerce").fillna(0.0).abs()
            req[allc["_rank"] < 2] = 0.0
            joint[col] = req.groupby(allc["_var"]).max()
    joint = joint.reindex(range(n))
    joint[VALUE] = pd.to_numeric(joint[VALUE], errors="coerce")
    return joint.drop(columns=["_rank"]).reset_index(drop=True)


def protect_linked(
    tables: Sequence[tuple[pd.DataFrame, Sequence[Hierarchy]]],
    spec: SuppressionSpec,
    *,
    frequency: bool = False,
    progress: Progress | None = None,
) -> LinkedSecondaryResult:
    """Protect several tables that share cells together, one status per shared cell.

    ``progress`` hears of the method's rounds, as with :func:`protect_secondary`.
    """
    t0 = time.monotonic()
    structure = build_linked_structure(tables)
    joint = _joint_cells(tables, structure.members, structure.n_cells)
    problem = build_problem(joint, structure, spec, frequency=frequency)
    method: str = spec.method
    why = ""
    if method == "auto":
        method, why = choose_method(problem.n, int(problem.primary.sum()), structure)
        why = f"auto chose {method} for the {len(tables)} linked tables: {why}"
    if method == "none" or not problem.primary.any():
        hidden = problem.forced.copy()
        info: dict[str, object] = {
            "status": "nothing_to_protect",
            "objective": 0.0,
            "gap": None,
            "notes": [why] if why else [],
            "timings": {},
        }
        method = "none"
    else:
        hidden, info = run_method(problem, structure, spec, method, why, progress)
    timings = {**info["timings"], "total": time.monotonic() - t0}  # type: ignore[dict-item]
    results = []
    for (cells, _), m in zip(tables, structure.members, strict=True):
        out = cells.copy()
        var_status = apply_pattern(joint, problem, hidden)[STATUS].to_numpy(dtype=object)
        out[STATUS] = var_status[m]
        results.append(
            SecondaryResult(
                cells=out,
                method=method,
                solver_status=str(info["status"]),
                objective=float(problem.cost[m][(hidden & ~problem.primary)[m]].sum()),
                bound=None,
                gap=None,
                information_loss=information_loss(out),
                timings=timings,
                notes=("protected jointly with the other linked tables",),
            )
        )
    gap = info.get("gap")
    return LinkedSecondaryResult(
        tables=tuple(results),
        method=method,
        solver_status=str(info["status"]),
        objective=float(info["objective"]),  # type: ignore[arg-type]
        gap=float(gap) if isinstance(gap, float) else None,
        timings=timings,
        notes=tuple(info["notes"]),  # type: ignore[arg-type]
    )
