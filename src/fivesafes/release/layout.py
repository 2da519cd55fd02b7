"""A published table laid out for people and for machines: wide (spreadsheets) and tidy (CSV).

Both layouts follow the Analysis Function guidance *Releasing statistics in
spreadsheets*: codes and their labels from the hierarchy file in separate
columns, the hierarchy's level in its own column (never leading spaces inside a
cell), units in the headers, one header row, no blank rows or cells, confidential
cells marked ``[c]`` (wide) or by the status column (tidy). Primary and secondary
suppressions look the same: which cells were primary is itself confidential.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from fivesafes.sdc import (
    CONFIDENTIAL_SYMBOL,
    NOT_AVAILABLE_SYMBOL,
    Cell,
    Hierarchy,
    Presentation,
    present,
)

Kind = Literal["text", "level", "value", "status"]
PUBLISHED = "published"
CONFIDENTIAL = "confidential"
NOT_AVAILABLE = "not available"
STATUS_COLUMN = "status"


@dataclass(frozen=True)
class Layout:
    """One table as a header row and data rows, with what each column holds."""

    header: tuple[str, ...]
    kinds: tuple[Kind, ...]
    rows: tuple[tuple[object, ...], ...]
    decimals: int  # decimal places of the value columns (0 or 2)


def measure_header(measure: str, unit: str | None) -> str:
    """A value column's header with its unit, e.g. ``turnover (GBP thousand)``."""
    return f"{measure} ({unit})" if unit else measure


def _dimension_columns(h: Hierarchy) -> list[tuple[str, Kind]]:
    cols: list[tuple[str, Kind]] = [(f"{h.name} code", "text")]
    if h.labels:
        cols.append((h.name, "text"))
    cols.append((f"{h.name} level", "level"))
    return cols


def _dimension_values(h: Hierarchy, code: str) -> list[object]:
    out: list[object] = [code]
    if h.labels:
        out.append(h.label(code))
    out.append(h.depth[code])
    return out


def _value(cell: Cell, decimals: int) -> object:
    if cell.symbol or cell.value is None:
        return cell.symbol or NOT_AVAILABLE_SYMBOL
    v = float(cell.value)
    return int(v) if decimals == 0 else round(v, decimals)


def _decimals(cells: Sequence[Cell]) -> int:
    shown = [c.value for c in cells if not c.symbol and c.value is not None]
    return 0 if all(float(v).is_integer() for v in shown) else 2


def _unique(headers: list[str]) -> list[str]:
    """Headers made unique (an Excel table needs that) without losing what they say."""
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        key = h.casefold()
        seen[key] = seen.get(key, 0) + 1
        out.append(h if seen[key] == 1 else f"{h} ({seen[key]})")
    return out


def _view_and_decimals(
    cells: pd.DataFrame,
    hierarchies: Sequence[Hierarchy],
    measure: str,
    view: Presentation | None,
) -> tuple[Presentation, int]:
    if view is None:
        view = present(measure, cells, [h.name for h in hierarchies], hierarchies)
    return view, _decimals([c for b in view.blocks for row in b.rows for c in row])


def _key_columns(hierarchies: Sequence[Hierarchy]) -> tuple[list[str], list[Kind]]:
    header: list[str] = []
    kinds: list[Kind] = []
    for h in hierarchies:
        for name, kind in _dimension_columns(h):
            header.append(name)
            kinds.append(kind)
    return header, kinds


def wide_layout(
    cells: pd.DataFrame,
    hierarchies: Sequence[Hierarchy],
    *,
    measure: str = "value",
    unit: str | None = None,
    view: Presentation | None = None,
) -> Layout:
    """Rows by the first dimension, columns by the second, further dimensions as row keys."""
    view, decimals = _view_and_decimals(cells, hierarchies, measure, view)
    row_h = hierarchies[0]
    col_h = hierarchies[1] if len(hierarchies) > 1 else None
    rest = list(hierarchies[2:])
    header, kinds = _key_columns([*rest, row_h])
    if col_h is None:
        value_headers = [measure_header(measure, unit)]
    else:
        value_headers = []
        for code in col_h.codes:
            text = (
                col_h.label(code) if col_h.label(code) == code else f"{col_h.label(code)} [{code}]"
            )
            value_headers.append(measure_header(f"{col_h.name} {text}", unit))
    header.extend(value_headers)
    kinds.extend(["value"] * len(value_headers))
    rows: list[tuple[object, ...]] = []
    # present() makes one block per combination of the further dimensions, in this order
    combos = itertools.product(*(h.codes for h in rest))
    for block, combo in zip(view.blocks, combos, strict=True):
        fixed: list[object] = []
        for h, code in zip(rest, combo, strict=True):
            fixed.extend(_dimension_values(h, code))
        for code, line in zip(block.row_codes, block.rows, strict=True):
            rows.append(
                (
                    *fixed,
                    *_dimension_values(row_h, code),
                    *(_value(c, decimals) for c in line),
                )
            )
    return Layout(tuple(_unique(header)), tuple(kinds), tuple(rows), decimals)


def tidy_layout(
    cells: pd.DataFrame,
    hierarchies: Sequence[Hierarchy],
    *,
    measure: str = "value",
    unit: str | None = None,
    view: Presentation | None = None,
) -> Layout:
    """One row per cell: each dimension's code, label and level, the value, and its status."""
    view, decimals = _view_and_decimals(cells, hierarchies, measure, view)
    header, kinds = _key_columns(hierarchies)
    header += [measure_header(measure, unit), STATUS_COLUMN]
    kinds += ["value", "status"]
    row_h = hierarchies[0]
    col_h = hierarchies[1] if len(hierarchies) > 1 else None
    rest = list(hierarchies[2:])
    rows: list[tuple[object, ...]] = []
    combos = itertools.product(*(h.codes for h in rest))
    for block, combo in zip(view.blocks, combos, strict=True):
        tail: list[object] = []
        for h, code in zip(rest, combo, strict=True):
            tail.extend(_dimension_values(h, code))
        for r, line in zip(block.row_codes, block.rows, strict=True):
            for j, cell in enumerate(line):
                keys = _dimension_values(row_h, r)
                if col_h is not None:
                    keys += _dimension_values(col_h, block.column_codes[j])
                rows.append((*keys, *tail, *_tidy_value(cell, decimals)))
    return Layout(tuple(_unique(header)), tuple(kinds), tuple(rows), decimals)


def _tidy_value(cell: Cell, decimals: int) -> tuple[object, str]:
    if cell.symbol == CONFIDENTIAL_SYMBOL:
        return None, CONFIDENTIAL
    if cell.symbol or cell.value is None:
        return None, NOT_AVAILABLE
    return _value(cell, decimals), PUBLISHED


def has_missing(layout: Layout) -> bool:
    """True when a cell of the table is not available (``[x]``)."""
    return any(
        v in (NOT_AVAILABLE_SYMBOL, NOT_AVAILABLE)
        for row in layout.rows
        for v, k in zip(row, layout.kinds, strict=True)
        if k in ("value", "status")
    )
