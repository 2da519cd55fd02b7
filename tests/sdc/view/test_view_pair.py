"""Both views from one pass equal the two separate builds, for any table (random tables with
hostile codes, every status, missing cells), with or without published values."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from test_view_model import tables

from fivesafes.sdc import Hierarchy, build_view, build_views


@settings(max_examples=60, deadline=None)
@given(tables(), st.booleans(), st.sampled_from([None, "£"]))
def test_both_views_equal_two_separate_builds(
    table: tuple[pd.DataFrame, tuple[Hierarchy, ...]], perturbed: bool, unit: str | None
) -> None:
    cells, hs = table
    if perturbed:  # a rounded table: some published values differ, one unknown
        cells = cells.assign(published=(cells["value"] // 5) * 5)
        if len(cells):
            cells.loc[0, "published"] = float("nan")
    published, checker = build_views("t", cells, hs, unit=unit, notes=("n",))
    assert checker == build_view("t", cells, hs, checker=True, unit=unit, notes=("n",))
    assert published == build_view("t", cells, hs, unit=unit, notes=("n",))


def test_the_published_view_never_carries_a_hidden_value() -> None:
    h = Hierarchy.from_pairs("region", [("T", None), ("N", "T"), ("S", "T")])
    cells = pd.DataFrame(
        {"region": ["T", "N", "S"], "value": [10.0, 3.0, 7.0], "status": ["safe", "primary", "x"]}
    )
    published, _ = build_views("t", cells, (h,))
    assert [r.value for r in published.rows] == [10.0, None, None]
    assert all(r.status is None and r.rules == () for r in published.rows)
