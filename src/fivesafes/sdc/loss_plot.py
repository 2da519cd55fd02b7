"""The comparison plot: how far each method moves cells, and how many it hides, by cell size."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from fivesafes.sdc.compare import Comparison

COLOURS = {
    "suppression": "#1b6ca8",
    "cellkey": "#d1495b",
    "random-rounding": "#edae49",
    "controlled-rounding": "#00798c",
}


def plot_comparison(comparison: Comparison, path: Path, *, fmt: str) -> None:
    """Two panels by cell size class: mean relative deviation of published cells, and the
    share of cells hidden; one line per method. Written without dates (same input, same file)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    data = comparison.by_size
    sizes: list[str] = list(dict.fromkeys(data["size"])) if len(data) else []
    x = np.arange(len(sizes))
    for method, part in data.groupby("method", sort=False) if len(data) else []:
        where = [sizes.index(s) for s in part["size"]]
        colour = COLOURS.get(str(method), "#555555")
        dev = part["mean_relative_deviation"].to_numpy(dtype=np.float64) * 100
        left.plot(np.asarray(where), dev, marker="o", color=colour, label=str(method))
        hidden = part["hidden"].to_numpy(dtype=np.float64) * 100
        right.plot(np.asarray(where), hidden, marker="o", color=colour, label=str(method))
    for ax, title in (
        (left, "mean relative deviation of published cells (%)"),
        (right, "cells hidden (%)"),
    ):
        ax.set_xticks(x, sizes, rotation=45, ha="right", fontsize=8)
        ax.set_xlabel("true cell value")
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
    right.legend(fontsize=8)
    fig.suptitle(f"{comparison.table}: information loss by cell size", fontsize=10)
    fig.tight_layout()
    # no creation date in the file: the same comparison gives the same bytes
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    fig.savefig(path, format=fmt, metadata=metadata)
