"""Differencing across row sets: two outputs over rows that differ by a few units.

The session's differencing check (``differencing``) compares outputs of the same rows.
The oldest attack on output checking uses other rows: the same table over every row,
then over every row but one (a filter that drops one unit, ``df.drop(...)``). Each
passes alone; their difference is the dropped unit's cell. Here each count or sum
output keeps its row labels and its published cells; a later output of the same
dimensions and measure over other rows is compared with it when the rows are nested
(one set inside the other: the difference of the tables is the table of the rows in
between) or differ by fewer rows than the threshold in all. A published cell of that
difference with fewer records than the threshold (nested), or any published cell
that differs (a few rows apart), makes the later output fail.

The rows are known by their labels (the frame's index): relabelled rows
(``reset_index``) compare as the labels say, which still catches a dropped row (the
labels 0..n-2 lie inside 0..n-1); rows given arbitrary new labels are not recognised,
and an output checker must look at outputs of overlapping subsets (docs/outputs.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from fivesafes.sdc import RECORDS, STATUS, VALUE, Status


@dataclass(frozen=True)
class RowsTable:
    """An output's published cells of one measure, with the labels of the rows behind them."""

    uid: str
    population: str
    rows: pd.Index
    measure: str  # "count" or "sum:<values column>"
    cells: pd.DataFrame  # dimension codes (text), records, value: published cells only

    @property
    def dims(self) -> frozenset[str]:
        """The dimensions' names."""
        return frozenset(c for c in self.cells.columns if c not in (RECORDS, VALUE))


def published(
    uid: str, population: str, rows: pd.Index, measure: str, cells: pd.DataFrame, dims: list[str]
) -> RowsTable:
    """The cells of ``cells`` (shown ones) that are published (neither hidden nor empty)."""
    keep = cells[cells[STATUS] == Status.SAFE.value]
    frame = keep[dims].astype(str)
    frame[RECORDS] = keep[RECORDS].to_numpy(dtype=np.int64)
    frame[VALUE] = keep[VALUE].to_numpy(dtype=float)
    return RowsTable(uid, population, rows, measure, frame.reset_index(drop=True))


class RowSets:
    """The session's count and sum outputs with their rows, for the check across row sets."""

    def __init__(self) -> None:
        self._tables: dict[str, list[RowsTable]] = {}

    def add(self, table: RowsTable) -> None:
        """Keep ``table`` under its output's name."""
        self._tables.setdefault(table.uid, []).append(table)

    def remove(self, uid: str) -> None:
        """Forget an output (``remove_output``)."""
        self._tables.pop(uid, None)

    def rename(self, old: str, new: str) -> None:
        """Follow ``rename_output``."""
        if old in self._tables:
            self._tables[new] = [replace(t, uid=new) for t in self._tables.pop(old)]

    def check(self, new: RowsTable, threshold: int) -> list[str]:
        """What ``new`` reveals with an earlier output over nearby rows (empty: nothing)."""
        found: list[str] = []
        for tables in self._tables.values():
            for old in tables:
                if (
                    old.population != new.population
                    and old.measure == new.measure
                    and old.dims == new.dims
                ):
                    found.extend(_compare(new, old, threshold))
        return found


def _compare(new: RowsTable, old: RowsTable, threshold: int) -> list[str]:
    only_new = int((~new.rows.isin(old.rows)).sum())
    only_old = int((~old.rows.isin(new.rows)).sum())
    nested = only_new == 0 or only_old == 0
    apart = only_new + only_old
    if not (nested or apart < threshold):
        return []
    dims = sorted(new.dims)
    both = new.cells.merge(old.cells, on=dims, suffixes=("_new", "_old"))
    records = both[f"{RECORDS}_new"] - both[f"{RECORDS}_old"]
    value = both[f"{VALUE}_new"] - both[f"{VALUE}_old"]
    if only_new == 0:  # the earlier rows hold the new ones: the difference is theirs
        records, value = -records, -value
    if nested:
        bad = (records > 0) & (records < threshold)
    else:  # a few rows on each side: any change is about those few units
        bad = (records != 0) | ~np.isclose(value, 0.0)
    out = []
    for i in np.flatnonzero(bad.to_numpy())[:5]:
        codes = ", ".join(f"{d}={both.iloc[i][d]}" for d in dims)
        out.append(
            f"the rows of {old.uid} and of this output differ by {apart} row(s): the "
            f"difference of their cell ({codes}) is {abs(int(records.iloc[i]))} record(s)"
            + (f" < {threshold}" if nested else "")
        )
    return out
