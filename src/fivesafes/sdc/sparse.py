"""A table far larger than its data: a dimension that is an identifier or a measure.

A careless spec that spans the enterprise id or the turnover column makes a table of
hundreds of thousands of cells from a thousand rows, nearly all of them empty; it takes
minutes to protect and tells nobody anything. The run goes on (the table may be meant),
but the tabulation stage and the report say so, naming the suspect dimensions.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from fivesafes.sdc.cells import RECORDS
from fivesafes.sdc.hierarchy import Hierarchy

SPARSE_CELLS = 10_000  # below this a table is quick whatever its shape
SPARSE_SHARE = 0.05  # at most this share of the cells holds any record


def sparse_note(cells: pd.DataFrame, hierarchies: Sequence[Hierarchy]) -> str | None:
    """A note when ``cells`` are many and nearly all empty, naming the dimensions to check."""
    n = len(cells)
    if n < SPARSE_CELLS or RECORDS not in cells.columns:
        return None
    occupied = int((cells[RECORDS] > 0).sum())
    if occupied >= SPARSE_SHARE * n:
        return None
    rows = int(cells[RECORDS].max())  # the grand total holds every row
    # a code for every other row or more: an identifier or a value rather than a grouping
    suspects = [
        f"'{h.name}' ({len(h.leaves):,} codes)" for h in hierarchies if 2 * len(h.leaves) > rows
    ]
    named = f" ({', '.join(suspects)})" if suspects else ""
    return (
        f"{n:,} cells from {rows:,} rows, only {occupied:,} ({occupied / n:.1%}) with any "
        f"record: a dimension with about as many codes as rows{named} is likely an identifier "
        "or a measure, not a classification; check the spec's [[dimension]] names"
    )
