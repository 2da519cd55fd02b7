"""Both views of one table from one pass over its cells (the review page shows both).

The published view follows from the checker's row by row: a hidden cell shows no value; any
other shows its published value where the table has one (rounded or perturbed), else its
true value, exactly as :func:`build_view` decides for ``checker=False``. Building it from the
checker's rows halves the work for a large table; the tests check the two are equal.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from fivesafes.sdc.cells import PUBLISHED
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.view.model import TableView, build_view
from fivesafes.sdc.view.rows import ViewRow


def build_views(
    name: str,
    cells: pd.DataFrame,
    hierarchies: Sequence[Hierarchy],
    *,
    unit: str | None = None,
    notes: Sequence[str] = (),
    intervals: pd.DataFrame | None = None,
) -> tuple[TableView, TableView]:
    """(published view, checker view) of the table, equal to two :func:`build_view` calls
    (``intervals``: the audit's, for the checker view's required and achieved intervals)."""
    checker = build_view(
        name, cells, hierarchies, checker=True, intervals=intervals, unit=unit, notes=notes
    )
    has_published = PUBLISHED in cells.columns
    rows = tuple(
        ViewRow(
            row.codes,
            row.labels,
            row.levels,
            None if row.hidden else (row.published_value if has_published else row.value),
            row.hidden,
            row.missing,
            leaf=row.leaf,
        )
        for row in checker.rows
    )
    published = TableView(
        name=name,
        dimensions=checker.dimensions,
        checker=False,
        rows=rows,
        unit=unit,
        notes=tuple(notes),
    )
    return published, checker
