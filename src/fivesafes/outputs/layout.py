"""From the cube to what pandas would show: the table of a crosstab or pivot table, and its outcome.

The shape is pandas' (``dropna=False``, as ACRO forces): rows are every combination
of the index codes, columns every combination of the column codes, each with an
``All`` margin when asked; several statistics put the statistic's name on top of the
columns. The outcome frame has the same shape and says per cell ``ok`` or the checks
that flagged it (ACRO's format, e.g. ``"MinimumThresholdCheck; NKCheck; "``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fivesafes.outputs.checks import CellChecks
from fivesafes.outputs.tabulate import Axis

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Layout:
    """Which cube cells a table shows, row by row and column by column."""

    axes: tuple[Axis, ...]
    n_index: int
    margins: bool
    margins_name: str
    statistics: tuple[str, ...]
    stat_level: bool  # several statistics (or a list was given): their names head the columns
    values_name: str | None  # pivot_table without columns: the values column's name

    @property
    def rows(self) -> IntArray:
        """Cube positions of the index axes, one row per table row."""
        return _positions(self.axes[: self.n_index], self.margins)

    @property
    def columns(self) -> IntArray:
        """Cube positions of the column axes, one row per table column."""
        return _positions(self.axes[self.n_index :], self.margins)

    @property
    def shown(self) -> BoolArray:
        """Mask over the cube: the cells this table shows."""
        mask = np.zeros(tuple(a.size + 1 for a in self.axes), dtype=bool)
        mask[self.select()] = True
        return mask

    def select(self) -> tuple[IntArray, ...]:
        """Fancy index into a cube array giving the (rows x columns) grid of the table."""
        rows, cols = self.rows, self.columns
        r = tuple(rows[:, i][:, None] for i in range(rows.shape[1]))
        c = tuple(cols[:, j][None, :] for j in range(cols.shape[1]))
        return r + c

    def index(self) -> pd.Index:
        """The table's row index (a MultiIndex for several index dimensions)."""
        return _labels(self.axes[: self.n_index], self.rows, self.margins_name)

    def column_index(self) -> pd.Index:
        """The table's column index, the statistics' names on top when there are several."""
        cols = self.axes[self.n_index :]
        if not cols:
            inner = pd.Index([self.values_name or "value"])
            if not self.stat_level:
                return inner
            return pd.MultiIndex.from_tuples(
                [(s, self.values_name or "value") for s in self.statistics], names=[None, None]
            )
        inner = _labels(cols, self.columns, self.margins_name)
        if not self.stat_level:
            return inner
        tuples = [
            (s, *(c if isinstance(c, tuple) else (c,))) for s in self.statistics for c in inner
        ]
        return pd.MultiIndex.from_tuples(tuples, names=[None, *inner.names])


def table_frame(layout: Layout, grids: Mapping[str, npt.NDArray[Any]]) -> pd.DataFrame:
    """The table: one block of columns per statistic, in the layout's order."""
    blocks = [grids[s] for s in layout.statistics]
    data = np.concatenate(blocks, axis=1) if blocks else np.empty((len(layout.rows), 0))
    frame = pd.DataFrame(data, index=layout.index(), columns=layout.column_index())
    return frame


def outcome_frame(layout: Layout, checks: Sequence[CellChecks]) -> pd.DataFrame:
    """ACRO's outcome table: per shown cell ``ok`` or the checks that flagged it."""
    where = layout.select()
    blocks = []
    for c in checks:
        text = np.full(layout.shown[where].shape, "", dtype=object)
        for name, mask in c.masks.items():
            text = np.where(mask[where], text + f"{name}; ", text)
        blocks.append(np.where(text == "", "ok", text))
    data = np.concatenate(blocks, axis=1)
    return pd.DataFrame(data, index=layout.index(), columns=layout.column_index())


def _positions(axes: Sequence[Axis], margins: bool) -> IntArray:
    if not axes:
        return np.zeros((1, 0), dtype=np.int64)
    combos = list(itertools.product(*(range(a.size) for a in axes)))
    if margins:
        combos.append(tuple(a.size for a in axes))
    return np.array(combos, dtype=np.int64).reshape(len(combos), len(axes))


def _labels(axes: Sequence[Axis], positions: IntArray, margins_name: str) -> pd.Index:
    if not axes:
        return pd.Index([0])
    names = [a.name for a in axes]
    if len(axes) == 1:
        a = axes[0]
        labels = [a.codes[p] if p < a.size else margins_name for p in positions[:, 0]]
        return pd.Index(labels, name=names[0])
    tuples = []
    for row in positions:
        if all(p == a.size for p, a in zip(row, axes, strict=True)):
            tuples.append((margins_name, *([""] * (len(axes) - 1))))
        else:
            tuples.append(tuple(a.codes[p] for p, a in zip(row, axes, strict=True)))
    return pd.MultiIndex.from_tuples(tuples, names=names)
