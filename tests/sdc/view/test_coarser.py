"""Coarser tables: a level dropped keeps the table additive; each is protected and audited."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fivesafes.sdc import Hierarchy, Recorder, Status, tables, view_table
from fivesafes.sdc.view.coarser import candidates, drop_level, dropped_codes, restrict

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@st.composite
def trees(draw: st.DrawFn) -> Hierarchy:
    n = draw(st.integers(min_value=2, max_value=12))
    pairs: list[tuple[str, str | None]] = [("c0", None)]
    for i in range(1, n):
        pairs.append((f"c{i}", f"c{draw(st.integers(min_value=0, max_value=i - 1))}"))
    return Hierarchy.from_pairs("d", pairs)


@settings(max_examples=200, deadline=None)
@given(trees(), st.data())
def test_a_dropped_level_keeps_every_relation_additive(h: Hierarchy, data: st.DataObject) -> None:
    level = data.draw(st.integers(min_value=1, max_value=h.max_depth))
    coarse = drop_level(h, level)
    gone = set(dropped_codes(h, level))
    assert set(coarse.codes) == set(h.codes) - gone and coarse.root == h.root
    # values that add up in the original table add up in the coarser one
    leaf_values = {c: data.draw(st.integers(0, 100)) for c in h.leaves}
    value = {c: sum(leaf_values[x] for x in h.leaves_under(c)) for c in h.codes}
    for parent, children in coarse.relations():
        assert value[parent] == sum(value[c] for c in children)
    if level == h.max_depth:
        assert coarse.max_depth == h.max_depth - 1  # the most detailed level is gone
    else:
        assert set(coarse.leaves) == set(h.leaves)  # only subtotals went


def test_candidates_and_restrict() -> None:
    region = Hierarchy.from_pairs("region", [("T", None), ("N", "T"), ("n1", "N"), ("S", "T")])
    flat = Hierarchy.from_pairs("size", [("All", None), ("small", "All"), ("big", "All")])
    found = {(c.dimension, c.level): c.description for c in candidates((region, flat))}
    assert found == {
        ("region", 2): "region without its most detailed level (1 code)",
        ("region", 1): "region without the level 1 subtotals (1 code)",
        ("size", 1): "without size (its total only)",
    }
    cells = pd.DataFrame(
        {"region": ["T", "N", "n1"], "status": ["safe", "primary", "secondary"], "value": [1, 1, 1]}
    )
    kept = restrict(cells, (drop_level(region, 1),))
    assert kept["region"].tolist() == ["T", "n1"]
    assert kept["status"].tolist() == ["safe", Status.SAFE.value]  # secondary chosen afresh


@pytest.fixture(scope="module")
def turnover() -> object:
    return tables(EXAMPLES / "turnover.toml", EXAMPLES / "survey.csv")


def test_checker_view_suggests_protected_coarser_tables(turnover: object) -> None:
    progress = Recorder()
    view = view_table(turnover, checker=True, progress=progress)
    assert view.loss is not None and view.loss.share_hidden > 1 / 3
    assert "coarser tables" in progress.stages()
    assert len(view.suggestions) == 4
    for s in view.suggestions:
        assert s.safe and not s.error, s
        assert s.cells < view.loss.cells and s.hidden == s.primary + s.secondary
    shares = [s.share_hidden for s in view.suggestions]
    assert shares == sorted(shares)
    # every primary cell has its required interval and the audit's, which covers it
    primaries = [r for r in view.rows if r.status is Status.PRIMARY]
    assert primaries and all(r.required and r.achieved and r.protected for r in primaries)
    for r in primaries:
        assert r.required is not None and r.achieved is not None
        assert r.achieved.lower is not None and r.required.lower is not None
        assert r.achieved.lower <= r.required.lower + 1e-6


def test_the_time_budget_bounds_the_suggestions(turnover: object) -> None:
    view = view_table(turnover, checker=True, suggest=True, budget_seconds=0.0)
    assert view.suggestions and all(s.error.startswith("not tried") for s in view.suggestions)


def test_the_published_view_suggests_nothing_and_hides_values(turnover: object) -> None:
    view = view_table(turnover)
    assert not view.suggestions and view.loss is None and not view.checker
    assert all(r.value is None for r in view.rows if r.hidden)
