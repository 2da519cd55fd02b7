"""``table protect --compare``: every protection method on the same table, the same loss measures.

Each method runs through the same pipeline as ``table protect --method``; a method
that cannot run (no key material, an unsafe result) is listed with its reason, never
left out silently. The comparison is written as comparison.json and comparison.csv,
with a small plot of deviation by cell size (comparison.svg and comparison.png).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from fivesafes.errors import FivesafesError
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.loss import deviation_by_size, size_edges
from fivesafes.sdc.pipeline import TableResult, tables
from fivesafes.sdc.spec import TableSpec
from fivesafes.sdc.spec_methods import PROTECTION_METHODS
from fivesafes.sdc.tabulate import Tabulator

LOSS_COLUMNS = (
    "changed_or_hidden",
    "hidden",
    "changed",
    "mean_absolute_deviation",
    "mean_relative_deviation",
    "max_absolute_deviation",
    "hellinger",
)


@dataclass(frozen=True, eq=False)
class Comparison:
    """One row of loss measures per method, and deviation by cell size for the plot."""

    table: str
    frequency: bool
    rows: tuple[dict[str, Any], ...]
    by_size: pd.DataFrame  # method, size, cells, hidden, mean_absolute/relative_deviation

    def frame(self) -> pd.DataFrame:
        """The side-by-side table (one row per method)."""
        return pd.DataFrame(list(self.rows))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for comparison.json."""
        return {
            "table": self.table,
            "kind": "frequency" if self.frequency else "magnitude",
            "methods": list(self.rows),
            "by_size": self.by_size.astype(object)
            .where(pd.notna(self.by_size), None)
            .to_dict("records"),
        }


def compare_methods(
    spec: TableSpec,
    data: Any,
    *,
    keys: Any = None,
    methods: Sequence[str] = PROTECTION_METHODS,
    secondary: str | None = None,
    hierarchies: Sequence[Hierarchy] | None = None,
    tabulator: Tabulator | None = None,
) -> tuple[Comparison, dict[str, TableResult]]:
    """Protect ``data`` by each method and measure the loss of each, side by side.

    ``tabulator``: the engine that makes the cells (default: DuckDB in this process).
    """
    rows: list[dict[str, Any]] = []
    results: dict[str, TableResult] = {}
    parts: list[pd.DataFrame] = []
    edges: tuple[float, ...] | None = None
    for method in methods:
        start = time.perf_counter()
        try:
            result = tables(
                spec,
                data,
                method=method,
                keys=keys,
                secondary=secondary if method == "suppression" else None,
                hierarchies=hierarchies,
                tabulator=tabulator,
            )
        except FivesafesError as exc:
            rows.append({"method": method, "ran": False, "reason": str(exc)})
            continue
        results[method] = result
        if edges is None:
            edges = size_edges(result.cells["value"], frequency=spec.is_frequency)
        loss = result.report["loss"]
        rows.append(
            {
                "method": method,
                "ran": True,
                "reason": "",
                "seconds": round(time.perf_counter() - start, 3),
                **{k: loss.get(k) for k in LOSS_COLUMNS},
            }
        )
        by = deviation_by_size(result.cells, edges, whole=spec.is_frequency)
        parts.append(by.assign(method=method))
    by_size = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    comparison = Comparison(spec.name, spec.is_frequency, tuple(rows), by_size)
    return comparison, results


def write_comparison(comparison: Comparison, out_dir: Path) -> dict[str, Path]:
    """comparison.json, comparison.csv and the plot (SVG and PNG), all or nothing."""
    from fivesafes.sdc.loss_plot import plot_comparison
    from fivesafes.sdc.outputs.writers import write_all, write_json

    return write_all(
        out_dir,
        {
            "comparison.json": lambda p: write_json(comparison.to_dict(), p),
            "comparison.csv": lambda p: comparison.frame().to_csv(p, index=False),
            "comparison.svg": lambda p: plot_comparison(comparison, p, fmt="svg"),
            "comparison.png": lambda p: plot_comparison(comparison, p, fmt="png"),
        },
    )
