"""Tabulation against a brute-force pandas reference, and the additivity of every subtotal."""

from __future__ import annotations

import itertools
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tabulate_reference import order_sensitive_rows, reference_cells

from fivesafes.errors import DataError
from fivesafes.sdc import cells as C
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.spec import DimensionSpec, RuleSet, TableSpec
from fivesafes.sdc.tabulate import default_top_k, tabulate

# Codes that a number parser would confuse: they must all stay distinct.
TRICKY = ["01", "1", "001", "010", "10", "2", "02", "1.0", "A", "a", "3"]
POOL = TRICKY + [f"c{i}" for i in range(40)]

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def hierarchies(draw: Any, name: str, n_dims: int) -> Hierarchy:
    """A random ragged tree of depth 1-3 with string codes drawn from POOL."""
    # Fewer codes per dimension as dimensions are added: the reference is brute force.
    wide, kids_max, grand_max = {1: (3, 3, 2), 2: (3, 2, 2), 3: (2, 1, 1)}.get(n_dims, (2, 1, 0))
    shape = draw(
        st.lists(st.lists(st.integers(0, grand_max), max_size=kids_max), min_size=1, max_size=wide)
    )
    codes = iter(draw(st.permutations(POOL)))
    root = f"T_{name}"
    pairs: list[tuple[str, str | None]] = [(root, None)]
    for kids in shape:
        top = next(codes)
        pairs.append((top, root))
        for grandkids in kids:
            child = next(codes)
            pairs.append((child, top))
            pairs.extend((next(codes), child) for _ in range(grandkids))
    return Hierarchy.from_pairs(name, pairs)


@st.composite
def tables(draw: Any) -> tuple[TableSpec, pd.DataFrame, tuple[Hierarchy, ...]]:
    """A random spec (1-4 dimensions, with or without contributor/holding/weight) and data."""
    n_dims = draw(st.integers(1, 4))
    names = [f"dim{i}" for i in range(n_dims)]
    hiers = tuple(draw(hierarchies(n, n_dims)) for n in names)
    n_rows = draw(st.integers(0, 40))
    frequency = draw(st.booleans()) and draw(st.booleans())
    contributor = draw(st.booleans())
    holding = contributor and draw(st.booleans())
    weight = draw(st.booleans())
    negatives = draw(st.sampled_from(["error", "absolute"]))
    data: dict[str, list[Any]] = {}
    for n, h in zip(names, hiers, strict=True):
        data[n] = draw(st.lists(st.sampled_from(h.leaves), min_size=n_rows, max_size=n_rows))
    units = draw(st.lists(st.integers(0, 5), min_size=n_rows, max_size=n_rows))
    data["ent"] = [f"0{u}" for u in units]  # numeric-looking contributor ids stay text
    data["grp"] = [f"g{u // 2}" for u in units]  # a contributor is in one holding
    low = -50 if negatives == "absolute" else 0
    data["y"] = draw(st.lists(st.integers(low, 1000), min_size=n_rows, max_size=n_rows))
    data["w"] = draw(
        st.lists(st.sampled_from([0.5, 1.0, 2.5, 10.0]), min_size=n_rows, max_size=n_rows)
    )
    frame = pd.DataFrame(data, columns=[*names, "ent", "grp", "y", "w"])
    frame["y"] = frame["y"].astype(float)
    frame["w"] = frame["w"].astype(float)
    spec = TableSpec(
        name="t",
        dimensions=tuple(DimensionSpec(n) for n in names),
        response=None if frequency else "y",
        contributor="ent" if contributor else None,
        holding="grp" if holding else None,
        weight="w" if weight else None,
        rules=RuleSet(
            dominance=((draw(st.integers(1, 3)), 80.0),) if not frequency else (),
            negatives=negatives,
            apply_weights=draw(st.booleans()),
        ),
    )
    return spec, frame, hiers


def assert_same_cells(got: pd.DataFrame, want: pd.DataFrame, dims: tuple[str, ...]) -> None:
    """Same rows in the same order; counts exact, sums to rounding."""
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for d in dims:
        assert list(got[d]) == list(want[d]), d
    for col in (C.RECORDS, C.CONTRIBUTORS, C.NEGATIVES):
        assert got[col].tolist() == want[col].tolist(), col
    for col in got.columns:
        if col == C.VALUE or col == C.RULE_TOTAL or col.startswith(C.TOP_PREFIX):
            np.testing.assert_allclose(got[col], want[col], rtol=1e-9, atol=1e-6, err_msg=col)


@SETTINGS
@given(tables(), st.sampled_from(["bridge", "grouping_sets"]))
def test_tabulation_equals_brute_force_reference(case: Any, plan: Any) -> None:
    spec, frame, hiers = case
    tab = tabulate(spec, frame, hiers, rollup=plan)
    k = default_top_k(spec)
    assert_same_cells(tab.cells, reference_cells(spec, frame, hiers, k), spec.dimension_names)


@SETTINGS
@given(tables(), st.sampled_from(["bridge", "grouping_sets"]))
def test_every_subtotal_is_the_sum_of_its_children(case: Any, plan: Any) -> None:
    spec, frame, hiers = case
    cells = tabulate(spec, frame, hiers, rollup=plan).cells
    dims = list(spec.dimension_names)
    indexed = cells.set_index(dims)
    for i, h in enumerate(hiers):
        others = [d for d in dims if d != dims[i]]
        for parent, children in h.relations():
            kids = cells[cells[dims[i]].isin(children)]
            if not others:
                row = indexed.loc[parent]
                assert row[C.RECORDS] == kids[C.RECORDS].sum()
                assert row[C.VALUE] == pytest.approx(kids[C.VALUE].sum(), rel=1e-9, abs=1e-6)
                continue
            at_parent = cells[cells[dims[i]] == parent].set_index(others)
            summed = kids.groupby(others, sort=False)[[C.RECORDS, C.VALUE, C.RULE_TOTAL]].sum()
            summed = summed.reindex(at_parent.index)
            assert (at_parent[C.RECORDS] == summed[C.RECORDS]).all()
            np.testing.assert_allclose(at_parent[C.VALUE], summed[C.VALUE], rtol=1e-9, atol=1e-6)
            # Contributors and the largest contributor can only grow towards the total.
            most = kids.groupby(others, sort=False)[[C.CONTRIBUTORS, "top1"]].max()
            most = most.reindex(at_parent.index)
            assert (at_parent[C.CONTRIBUTORS] >= most[C.CONTRIBUTORS]).all()
            assert (at_parent["top1"] >= most["top1"] - 1e-9).all()
    assert len(cells) == int(np.prod([len(h.order) for h in hiers]))


def test_a_contributor_in_several_cells_adds_up_in_the_margin() -> None:
    # Enterprise e1 has 30 in region R1 and 30 in R2: in the total it is one contributor
    # of 60, larger than e2's 50, although each of its rows is smaller than 50.
    region = Hierarchy.from_pairs("region", [("UK", None), ("R1", "UK"), ("R2", "UK")])
    frame = pd.DataFrame(
        {
            "region": ["R1", "R2", "R1", "R2"],
            "ent": ["e1", "e1", "e2", "e3"],
            "y": [30.0, 30, 50, 5],
        }
    )
    spec = TableSpec("t", (DimensionSpec("region"),), response="y", contributor="ent")
    cells = tabulate(spec, frame, [region]).cells.set_index("region")
    assert cells.loc["UK", C.CONTRIBUTORS] == 3
    assert cells.loc["UK", "top1"] == 60.0
    assert cells.loc["UK", "top2"] == 50.0
    assert cells.loc["R2", "top1"] == 30.0 and cells.loc["R2", "top2"] == 5.0


def test_holdings_are_the_units_of_the_rules() -> None:
    region = Hierarchy.from_pairs("region", [("UK", None), ("R1", "UK"), ("R2", "UK")])
    frame = pd.DataFrame(
        {
            "region": ["R1", "R1", "R1", "R2"],
            "ent": ["e1", "e2", "e3", "e4"],
            "grp": ["g1", "g1", "g2", "g1"],
            "y": [10.0, 20.0, 5.0, 1.0],
        }
    )
    spec = TableSpec(
        "t", (DimensionSpec("region"),), response="y", contributor="ent", holding="grp"
    )
    cells = tabulate(spec, frame, [region]).cells.set_index("region")
    assert cells.loc["R1", C.CONTRIBUTORS] == 2  # g1 and g2
    assert cells.loc["R1", "top1"] == 30.0  # g1 = e1 + e2
    assert cells.loc["UK", "top1"] == 31.0


def test_zero_cells_are_present_with_zeros() -> None:
    region = Hierarchy.from_pairs("region", [("UK", None), ("R1", "UK"), ("R2", "UK")])
    industry = Hierarchy.from_pairs("industry", [("ALL", None), ("01", "ALL"), ("1", "ALL")])
    frame = pd.DataFrame({"region": ["R1"], "industry": ["01"], "y": [7.0]})
    spec = TableSpec("t", (DimensionSpec("region"), DimensionSpec("industry")), response="y")
    cells = tabulate(spec, frame, [region, industry]).cells
    assert len(cells) == 9
    empty = cells[(cells["region"] == "R2") | (cells["industry"] == "1")]
    assert len(empty) == 5
    assert (empty[C.RECORDS] == 0).all() and (empty[C.VALUE] == 0).all()
    assert (empty["top1"] == 0).all()


def test_rows_come_in_hierarchy_display_order_first_dimension_slowest() -> None:
    region = Hierarchy.from_pairs(
        "region", [("UK", None), ("B", "UK"), ("B2", "B"), ("B1", "B"), ("A", "UK")]
    )
    size = Hierarchy.flat("size", ["small", "large"])
    frame = pd.DataFrame({"region": ["A", "B1"], "size": ["small", "large"], "y": [1.0, 2.0]})
    spec = TableSpec("t", (DimensionSpec("region"), DimensionSpec("size")), response="y")
    cells = tabulate(spec, frame, [region, size]).cells
    want = list(itertools.product(region.order, size.order))
    assert list(zip(cells["region"], cells["size"], strict=True)) == want


def test_flat_dimensions_are_built_from_the_data_codes() -> None:
    frame = pd.DataFrame({"sex": ["2", "1", "02", "1"], "y": [1.0, 2.0, 3.0, 4.0]})
    spec = TableSpec("t", (DimensionSpec("sex", total_code="All"),), response="y")
    tab = tabulate(spec, frame)
    assert tab.hierarchies[0].root == "All"
    cells = tab.cells.set_index("sex")
    assert cells.loc["All", C.VALUE] == 10.0
    assert cells.loc["1", C.RECORDS] == 2
    assert cells.loc["02", C.VALUE] == 3.0 and cells.loc["2", C.VALUE] == 1.0


def test_frequency_table_counts_rows_and_weights() -> None:
    frame = pd.DataFrame({"sex": ["f", "f", "m"], "w": [2.0, 3.0, 4.0]})
    spec = TableSpec("t", (DimensionSpec("sex"),), weight="w")
    cells = tabulate(spec, frame).cells.set_index("sex")
    assert cells.loc["f", C.RECORDS] == 2
    assert cells.loc["f", C.VALUE] == 5.0
    assert cells.loc["Total", C.CONTRIBUTORS] == 3


def test_top_k_default_follows_the_rules_and_can_be_raised() -> None:
    spec = TableSpec(
        "t", (DimensionSpec("sex"),), response="y", rules=RuleSet(dominance=((4, 90.0),))
    )
    frame = pd.DataFrame({"sex": ["f"] * 5, "y": [5.0, 1.0, 4.0, 2.0, 3.0]})
    cells = tabulate(spec, frame).cells
    assert [c for c in cells.columns if c.startswith("top")] == ["top1", "top2", "top3", "top4"]
    wide = tabulate(spec, frame, top_k=6).cells.set_index("sex")
    assert [wide.loc["f", f"top{i}"] for i in range(1, 7)] == [5.0, 4.0, 3.0, 2.0, 1.0, 0.0]


def test_six_dimensions() -> None:
    names = [f"d{i}" for i in range(6)]
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({n: rng.choice(["01", "1"], size=50) for n in names})
    frame["y"] = rng.integers(0, 100, size=50).astype(float)
    frame["ent"] = [f"e{i % 7}" for i in range(50)]
    spec = TableSpec("t", tuple(DimensionSpec(n) for n in names), response="y", contributor="ent")
    tab = tabulate(spec, frame)
    assert len(tab.cells) == 3**6
    total = tab.cells[(tab.cells[names] == "Total").all(axis=1)].iloc[0]
    assert total[C.RECORDS] == 50 and total[C.CONTRIBUTORS] == 7
    assert total[C.VALUE] == pytest.approx(frame["y"].sum())
    assert set(tab.timings) >= {"stage1", "rollup", "total"}


def test_the_same_rows_give_the_same_table_every_time() -> None:
    """Bit for bit: a last-bit difference in a cell's sum can change the secondary pattern.

    With DuckDB's parallel ``sum`` (two threads) 3 of 4 repeats of this table differed
    in some cell's value; the tabulation runs on one thread, and gives the caller's
    connection its own thread count back.
    """
    df = order_sensitive_rows()
    spec = TableSpec(
        name="t", dimensions=(DimensionSpec("a"), DimensionSpec("b")), response="x", contributor="u"
    )
    with duckdb.connect() as con:
        con.execute("SET threads = 2")
        first = tabulate(spec, df, connection=con).cells
        for _ in range(3):
            again = tabulate(spec, df, connection=con).cells
            for column in (C.VALUE, C.RULE_TOTAL, C.top_column(1), C.top_column(2)):
                assert np.array_equal(first[column].to_numpy(), again[column].to_numpy()), column
        assert con.execute("SELECT current_setting('threads')").fetchall() == [(2,)]


def test_a_failing_tabulation_gives_the_connection_its_threads_back() -> None:
    """Bad data raise their own error, and the caller's thread count is set back."""
    df = pd.DataFrame({"a": ["x", "y"], "x": [1.0, float("nan")]})
    spec = TableSpec(name="t", dimensions=(DimensionSpec("a"),), response="x")
    with duckdb.connect() as con:
        con.execute("SET threads = 2")
        with pytest.raises(DataError):
            tabulate(spec, df, connection=con)
        assert con.execute("SELECT current_setting('threads')").fetchall() == [(2,)]
