"""The table as people read it: rows by the first dimension (hierarchy indented),
columns by the second, hidden cells as ``[c]``.

A table with more than two dimensions is shown as one block per combination of
the codes of the remaining dimensions, stacked one under the other, each with a
title line naming that combination (the layout of GSS tables that split a cube
into sub-tables). A one-dimensional table has a single column.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fivesafes.sdc.cells import CONFIDENTIAL_SYMBOL, STATUS, VALUE, Status
from fivesafes.sdc.hierarchy import Hierarchy

NOT_AVAILABLE_SYMBOL = "[x]"  # GSS: not available (a cell missing from the cells table)
INDENT = "  "


@dataclass(frozen=True)
class Cell:
    """One displayed entry: a number, or a symbol when it is hidden or missing."""

    value: float | None
    symbol: str = ""  # CONFIDENTIAL_SYMBOL, NOT_AVAILABLE_SYMBOL or ""

    def text(self, decimals: int | None = None) -> str:
        """The entry as text: the symbol, or the number (``decimals`` places if given)."""
        if self.symbol or self.value is None:
            return self.symbol or NOT_AVAILABLE_SYMBOL
        return format_number(self.value, decimals)


@dataclass(frozen=True)
class Block:
    """A two-way sub-table: rows of one dimension, columns of another."""

    title: str  # "" unless the table has more than two dimensions
    row_dimension: str
    column_dimension: str  # "" for a one-dimensional table
    column_codes: tuple[str, ...]
    row_codes: tuple[str, ...]
    row_depths: tuple[int, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def row_label(self, i: int) -> str:
        """The i-th row's code, indented two spaces per level below the total."""
        return INDENT * self.row_depths[i] + self.row_codes[i]


@dataclass(frozen=True)
class Presentation:
    """The whole table for display: its blocks in order."""

    name: str
    blocks: tuple[Block, ...]


def present(
    name: str,
    cells: pd.DataFrame,
    dimensions: Sequence[str],
    hierarchies: Sequence[Hierarchy],
) -> Presentation:
    """Lay the cells out for people: hierarchy order, indentation, hidden cells as ``[c]``."""
    if len(dimensions) != len(hierarchies) or not dimensions:
        raise ValueError("need one hierarchy per dimension and at least one dimension")
    dims = list(dimensions)
    keyed = cells.assign(**{d: cells[d].astype(str) for d in dims}).set_index(dims)
    values = keyed[VALUE].astype("float64")
    # fail closed: any status other than "safe" (unknown ones included) is hidden
    hidden = keyed[STATUS].astype(str) != Status.SAFE.value
    lookup: dict[tuple[str, ...], Cell] = {}
    for key, v, h in zip(keyed.index, values.to_numpy(), hidden.to_numpy(), strict=True):
        k = key if isinstance(key, tuple) else (key,)
        lookup[tuple(str(x) for x in k)] = Cell(None, CONFIDENTIAL_SYMBOL) if h else Cell(_plain(v))
    row_h = hierarchies[0]
    col_h = hierarchies[1] if len(hierarchies) > 1 else None
    col_codes = col_h.codes if col_h else (VALUE,)
    rest = hierarchies[2:]
    blocks: list[Block] = []
    for combo in itertools.product(*(h.codes for h in rest)):
        title = "; ".join(f"{h.name} = {c}" for h, c in zip(rest, combo, strict=True))
        rows: list[tuple[Cell, ...]] = []
        for r in row_h.codes:
            line = []
            for c in col_codes:
                key = (r, c, *combo) if col_h else (r,)
                line.append(lookup.get(key, Cell(None, NOT_AVAILABLE_SYMBOL)))
            rows.append(tuple(line))
        blocks.append(
            Block(
                title=title,
                row_dimension=row_h.name,
                column_dimension=col_h.name if col_h else "",
                column_codes=tuple(col_codes),
                row_codes=row_h.codes,
                row_depths=tuple(row_h.depth[c] for c in row_h.codes),
                rows=tuple(rows),
            )
        )
    return Presentation(name=name, blocks=tuple(blocks))


def format_number(value: float, decimals: int | None = None) -> str:
    """A number as people read it: whole numbers without decimals, others to 2 places."""
    if decimals is not None:
        return f"{value:.{decimals}f}"
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.2f}"


def _plain(v: object) -> float | None:
    f = float(v)  # type: ignore[arg-type]
    return None if np.isnan(f) else f
