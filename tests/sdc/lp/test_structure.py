"""The table structure: one relation per (dimension, parent, other codes), validated input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from audit_helpers import aggregate, flat, make_cells, tree
from hypothesis import given, settings
from hypothesis import strategies as st

from fivesafes.errors import DataError
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.linked import build_linked_structure
from fivesafes.sdc.lp.structure import build_structure


def _expected_relations(hs: list[Hierarchy]) -> int:
    sizes = [len(h.order) for h in hs]
    total = 0
    for d, h in enumerate(hs):
        others = int(np.prod([s for k, s in enumerate(sizes) if k != d]))
        total += others * len(h.relations())
    return total


def test_two_by_two_with_totals_has_six_relations() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    cells = make_cells(hs, np.array([[1.0, 2.0], [3.0, 4.0]]))
    s = build_structure(cells, hs)
    assert s.n_cells == 9
    assert s.n_relations == 6
    # the grand total appears in two relations, as total of each
    grand = s.cell_index({})
    rels = s.relations_of(grand)
    assert len(rels) == 2
    assert all(s.relations[r, grand] == 1 for r in rels)
    # an interior cell is a child in two relations
    inner = s.cell_index({"r": "r1", "c": "c2"})
    assert [s.relations[r, inner] for r in s.relations_of(inner)] == [-1, -1]


@st.composite
def _tables(draw: st.DrawFn) -> tuple[list[Hierarchy], pd.DataFrame]:
    n_dims = draw(st.integers(1, 4))
    hs = []
    for d in range(n_dims):
        depth = draw(st.integers(1, 2 if n_dims > 2 else 3))
        fans = draw(st.lists(st.integers(1, 3), min_size=depth, max_size=depth))
        hs.append(tree(f"d{d}", fans))
    shape = [len(h.leaves) for h in hs]
    seed = draw(st.integers(0, 2**31 - 1))
    leaf = np.random.default_rng(seed).integers(0, 50, size=shape).astype(float)
    cells = make_cells(hs, leaf)
    perm = draw(st.permutations(range(len(cells))))
    return hs, cells.iloc[list(perm)].reset_index(drop=True)


@settings(max_examples=25, deadline=None)
@given(_tables())
def test_relations_hold_for_additive_tables_in_any_row_order(
    table: tuple[list[Hierarchy], pd.DataFrame],
) -> None:
    hs, cells = table
    s = build_structure(cells, hs)
    assert s.n_relations == _expected_relations(hs)
    values = cells["value"].to_numpy(dtype=float)
    assert np.allclose(s.relations @ values, 0.0)
    # each relation has exactly one +1 (its total) and one -1 per child
    dense_rows = s.relations.tocsr()
    for r in range(min(s.n_relations, 50)):
        row = dense_rows.getrow(r)
        assert np.count_nonzero(row.data == 1) == 1
        d = int(s.relation_dimension[r])
        total = int(s.relation_total[r])
        code = cells.iloc[total][s.dimensions[d]]
        assert np.count_nonzero(row.data == -1) == len(hs[d].children[code])
    # keys follow the given rows, and cell_index finds each row back
    for i in range(0, len(cells), max(1, len(cells) // 7)):
        codes = {dim: cells.iloc[i][dim] for dim in s.dimensions}
        assert s.cell_index(codes) == i
        assert all(s.keys.iloc[i][dim] == codes[dim] for dim in s.dimensions)


def test_a_changed_interior_value_breaks_additivity_and_names_the_total() -> None:
    hs = [flat("r", 2), flat("c", 3)]
    cells = make_cells(hs, np.arange(6.0).reshape(2, 3))
    i = cells.index[(cells["r"] == "r2") & (cells["c"] == "c3")][0]
    cells.loc[i, "value"] = cells.loc[i, "value"] + 1
    with pytest.raises(DataError, match="not additive") as err:
        build_structure(cells, hs)
    assert "r=" in str(err.value) and "c=" in str(err.value)
    # without the value check the structure still builds
    assert build_structure(cells, hs, check_values=False).n_cells == 12


def test_rounding_noise_is_tolerated() -> None:
    hs = [flat("r", 3), flat("c", 3)]
    cells = make_cells(hs, np.full((3, 3), 0.1))
    cells["value"] = cells["value"] * (1 + 1e-12)
    build_structure(cells, hs)


def test_missing_cell_is_named() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    cells = make_cells(hs, np.ones((2, 2)))
    drop = cells.index[(cells["r"] == "r2") & (cells["c"] == "T")][0]
    with pytest.raises(DataError, match=r"incomplete: cell r=r2, c=T is missing"):
        build_structure(cells.drop(index=drop), hs)


def test_duplicate_cell_is_named() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    cells = make_cells(hs, np.ones((2, 2)))
    doubled = pd.concat([cells, cells.iloc[[4]]], ignore_index=True)
    with pytest.raises(DataError, match="more than once"):
        build_structure(doubled, hs)


def test_unknown_code_is_named() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    cells = make_cells(hs, np.ones((2, 2)))
    cells.loc[3, "c"] = "01"
    with pytest.raises(DataError, match=r"\['01'\].*not in its hierarchy"):
        build_structure(cells, hs)


def test_missing_dimension_column() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    cells = make_cells(hs, np.ones((2, 2))).drop(columns=["c"])
    with pytest.raises(DataError, match="no column for dimension 'c'"):
        build_structure(cells, hs)


def _region_industry_size() -> tuple[list[Hierarchy], pd.DataFrame, pd.DataFrame]:
    region, industry, size = tree("reg", [2, 2]), flat("ind", 3), flat("size", 2)
    rng = np.random.default_rng(7)
    micro = rng.integers(1, 20, size=(4, 3, 2)).astype(float)  # region leaf x industry x size
    full = aggregate(micro, [region, industry, size])  # the joint table: both are margins of it
    ri = make_cells([region, industry], micro.sum(axis=2))
    rs = make_cells([region, size], micro.sum(axis=1))
    assert np.isclose(full[0, 0, 0], ri["value"].iloc[0])
    return [region, industry, size], ri, rs


def test_linked_tables_share_the_region_total_cells() -> None:
    (region, industry, size), ri, rs = _region_industry_size()
    linked = build_linked_structure([(ri, [region, industry]), (rs, [region, size])])
    n_region = len(region.order)
    assert linked.dimensions == ("reg", "ind", "size")
    assert linked.n_cells == len(ri) + len(rs) - n_region
    # row i of each table maps to the variable with the same codes (absent ones at the root)
    for t, cells in enumerate((ri, rs)):
        for i in (0, 3, len(cells) - 1):
            codes = {d: cells.iloc[i][d] for d in cells.columns if d in linked.dimensions}
            assert linked.members[t][i] == linked.cell_index(codes)
    # the relations along region at industry=Total and size=Total are one relation, kept once
    assert linked.n_relations == (
        build_structure(ri, [region, industry]).n_relations
        + build_structure(rs, [region, size]).n_relations
        - len(region.relations())
    )
    values = np.zeros(linked.n_cells)
    for cells, m in zip((ri, rs), linked.members, strict=True):
        values[m] = cells["value"].to_numpy(dtype=float)
    assert np.allclose(linked.relations @ values, 0.0)


def test_linked_tables_with_different_hierarchies_are_refused() -> None:
    (region, industry, size), ri, _ = _region_industry_size()
    other_region = tree("reg", [4])
    rs2 = make_cells([other_region, size], np.ones((4, 2)))
    with pytest.raises(DataError, match="different hierarchies"):
        build_linked_structure([(ri, [region, industry]), (rs2, [other_region, size])])


def test_linked_tables_that_disagree_on_a_shared_cell_are_refused() -> None:
    (region, industry, size), ri, rs = _region_industry_size()
    rs = rs.copy()
    rs["value"] = rs["value"] * 2
    with pytest.raises(DataError, match="disagree on shared cell"):
        build_linked_structure([(ri, [region, industry]), (rs, [region, size])])
