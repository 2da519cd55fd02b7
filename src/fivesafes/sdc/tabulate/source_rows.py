"""Which rows of the data a problem is in: row numbers for data errors.

Rows are counted from 1 in the order the data were given: the first row after a
CSV file's header is row 1 (file line 2), a DataFrame's first row (``iloc[0]``)
is row 1. The numbers are worked out only when there is an error to report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from fivesafes.sdc.tabulate.sources import Source

SHOW_ROWS = 5


def first_rows(
    con: duckdb.DuckDBPyConnection, source: Source, condition: str, *, limit: int = SHOW_ROWS
) -> list[int]:
    """The first ``limit`` row numbers (from 1) where ``condition`` (on d0.., u, x, w) holds."""
    sql = (
        f"SELECT rn FROM (SELECT row_number() OVER () AS rn, {source.select} "
        f"FROM {source.raw}) WHERE {condition} ORDER BY rn LIMIT {int(limit)}"
    )
    return [int(r[0]) for r in con.execute(sql).fetchall()]


def rows_text(rows: list[int], total: int | None = None) -> str:
    """``row 7`` / ``rows 3, 8 and 12`` / ``rows 3, 8, ... (first 5 of 40)``."""
    if not rows:
        return ""
    shown = [str(r) for r in rows]
    if total is not None and total > len(rows):
        return f"rows {', '.join(shown)}, ... (the first {len(rows)} of {total})"
    if len(shown) == 1:
        return f"row {shown[0]}"
    return f"rows {', '.join(shown[:-1])} and {shown[-1]}"
