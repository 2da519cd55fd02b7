"""Linked tables: what one table hides, another must not reveal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from audit_helpers import flat, make_cells, tree
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from fivesafes.sdc.audit import audit_linked, audit_table
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import build_structure

REGION, INDUSTRY, SIZE = flat("reg", 2), flat("ind", 2), flat("size", 2)
# joint microdata totals: region x industry x size band
JOINT = np.array([[[4.0, 6.0], [9.0, 3.0]], [[7.0, 5.0], [2.0, 8.0]]])


def _tables(
    ri_primary: dict[tuple[str, ...], tuple[float, float]],
    ri_secondary: list[tuple[str, ...]],
    rs_secondary: list[tuple[str, ...]] | None = None,
) -> list[tuple[pd.DataFrame, list[Hierarchy]]]:
    ri = make_cells(
        [REGION, INDUSTRY], JOINT.sum(axis=2), primary=ri_primary, secondary=ri_secondary
    )
    rs = make_cells([REGION, SIZE], JOINT.sum(axis=1), secondary=rs_secondary or [])
    return [(ri, [REGION, INDUSTRY]), (rs, [REGION, SIZE])]


def _row(intervals: pd.DataFrame, **codes: str) -> pd.Series:
    mask = np.ones(len(intervals), dtype=bool)
    for dim, code in codes.items():
        mask &= (intervals[dim] == code).to_numpy()
    assert mask.sum() == 1
    return intervals[mask].iloc[0]


def test_cell_recoverable_only_through_the_second_table() -> None:
    # region x industry hides reg1 x ind1, reg2 x ind1 and both region totals: alone, the
    # primary reg1 x ind1 moves with one degree of freedom. The region x size table
    # publishes the region totals (reg1 x size=T is the same cell), which pins it.
    tables = _tables(
        {("reg1", "ind1"): (1.0, 1.0)},
        [("reg2", "ind1"), ("reg1", "T"), ("reg2", "T")],
    )
    alone = audit_table(*tables[0])
    assert alone.safe
    linked = audit_linked(tables)
    assert not linked.safe
    row = _row(linked.failures, reg="reg1", ind="ind1", size="T")
    assert row["failure"] == "exact"
    assert row["attacker_min"] == pytest.approx(JOINT[0, 0].sum())
    # the region totals are published by the second table, so they are not hidden cells
    assert len(linked.intervals) == 2
    assert set(linked.intervals["tables"]) == {"1"}


def test_linked_pattern_that_hides_the_shared_cells_everywhere_is_safe() -> None:
    hide_ri = [("reg2", "ind1"), ("reg1", "T"), ("reg2", "T")]
    hide_rs = [("reg1", "T"), ("reg2", "T"), ("reg1", "size1"), ("reg2", "size1")]
    tables = _tables({("reg1", "ind1"): (1.0, 1.0)}, hide_ri, hide_rs)
    result = audit_linked(tables)
    assert result.safe
    shared = _row(result.intervals, reg="reg1", ind="T", size="T")
    assert shared["tables"] == "1;2"


def test_primary_cell_published_by_the_other_table_fails() -> None:
    tables = _tables(
        {("reg1", "T"): (1.0, 1.0)}, [("reg1", "ind1"), ("reg2", "ind1"), ("reg2", "T")]
    )
    result = audit_linked(tables)
    row = _row(result.failures, reg="reg1", ind="T", size="T")
    assert row["failure"] == "published"
    assert row["attacker_min"] == row["attacker_max"] == row["value"]


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.1, 0.6), st.floats(0.1, 0.6))
def test_linked_intervals_match_brute_force_and_only_narrow(
    seed: int, share1: float, share2: float
) -> None:
    rng = np.random.default_rng(seed)
    region, industry, size = tree("reg", [2, 2]), flat("ind", 3), flat("size", 2)
    joint = rng.integers(0, 20, size=(4, 3, 2)).astype(float)
    ri = make_cells([region, industry], joint.sum(axis=2))
    rs = make_cells([region, size], joint.sum(axis=1))
    ri["status"] = np.where(rng.random(len(ri)) < share1, "secondary", "safe")
    rs["status"] = np.where(rng.random(len(rs)) < share2, "secondary", "safe")
    alone = audit_table(ri, [region, industry]).intervals
    linked = audit_linked([(ri, [region, industry]), (rs, [region, size])]).intervals
    merged = alone.merge(linked[linked["size"] == "T"], on=["reg", "ind"], suffixes=("", "_linked"))
    tol = 1e-7
    # a cell hidden in both is one variable: the second table can only add information
    assert (merged["attacker_min_linked"] >= merged["attacker_min"] - tol).all()
    assert (merged["attacker_max_linked"] <= merged["attacker_max"] + tol).all()
    for _, row in linked.iterrows():
        assert row["attacker_min"] - tol <= row["value"] <= row["attacker_max"] + tol
    # brute force: both tables' relations over variables keyed by codes, no linking code
    index: dict[tuple[str, str, str], int] = {}
    keyed = []
    for cells, dims in ((ri, ("reg", "ind")), (rs, ("reg", "size"))):
        keys = [
            (r["reg"], r.get("ind", "T"), r.get("size", "T"))
            for r in cells[list(dims)].to_dict("records")
        ]
        keyed.append(keys)
        for k in keys:
            index.setdefault(k, len(index))
    n = len(index)
    rows, value, shown = [], np.zeros(n), np.zeros(n, dtype=bool)
    for cells, keys, hs in ((ri, keyed[0], [region, industry]), (rs, keyed[1], [region, size])):
        cols = np.array([index[k] for k in keys])
        rel = build_structure(cells, hs).relations.toarray()
        full = np.zeros((rel.shape[0], n))
        full[:, cols] = rel
        rows.append(full)
        value[cols] = cells["value"].to_numpy(dtype=float)
        shown[cols] |= (cells["status"] == "safe").to_numpy()
    a = np.vstack(rows)
    bounds = [(v, v) if s else (0, None) for v, s in zip(value, shown, strict=True)]
    for _, row in linked.iterrows():
        j = index[(row["reg"], row["ind"], row["size"])]
        c = np.zeros(n)
        c[j] = 1.0
        lo = linprog(c, A_eq=a, b_eq=np.zeros(len(a)), bounds=bounds, method="highs")
        hi = linprog(-c, A_eq=a, b_eq=np.zeros(len(a)), bounds=bounds, method="highs")
        assert lo.status == 0  # bounded below by non-negativity
        assert row["attacker_min"] == pytest.approx(lo.fun, abs=1e-6)
        if hi.status == 3:  # unbounded: e.g. a hidden total and a hidden child together
            assert row["attacker_max"] == np.inf
        else:
            assert hi.status == 0
            assert row["attacker_max"] == pytest.approx(-hi.fun, abs=1e-6)
