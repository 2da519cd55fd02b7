"""Unit identifiers as text: one form for every file format and column type.

A unit read as the number 12 from one file and as the text "12" from another is one
unit. Every comparison of units (a family's membership patterns) and every key drawn
from a unit (vault/unit_keys.py) goes through :func:`unit_text`, so they agree.
"""

from __future__ import annotations

import pyarrow as pa

from fivesafes.errors import DataError


def unit_text(units: pa.Array | pa.ChunkedArray, column: str) -> pa.Array | pa.ChunkedArray:
    """The unit ids as Arrow writes them as text (12, 12.0 and "12" are all "12"; a date
    is 2026-01-31; a decimal keeps its scale, "12.00"); nulls stay null."""
    try:
        return units.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        raise DataError(
            f"the unit column {column!r} ({units.type}) cannot be read as text",
            hint="a unit identifier must be a code, a number or text (UTF-8)",
        ) from None
