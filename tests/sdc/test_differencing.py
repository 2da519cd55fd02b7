"""Known differencing attacks, and the atom model against a brute-force LP over leaf cells."""

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from fivesafes.errors import DataError
from fivesafes.sdc.differencing import OutputTable, check_differencing
from fivesafes.sdc.hierarchy import Hierarchy


def _table(label, hierarchies, leaf_values, hidden=(), protection=None):
    """All cells of a table (every code of every hierarchy) from leaf-combination values."""
    rows = []
    for combo in itertools.product(*(h.order for h in hierarchies)):
        leaves = [h.leaves_under(c) for h, c in zip(hierarchies, combo, strict=True)]
        value = sum(leaf_values[k] for k in itertools.product(*leaves))
        row = {h.name: c for h, c in zip(hierarchies, combo, strict=True)}
        row["value"] = float(value)
        row["status"] = "safe"
        row["lower_protection"] = 0.0
        row["upper_protection"] = 0.0
        rows.append(row)
    cells = pd.DataFrame(rows)
    for codes, status in hidden:
        mask = np.logical_and.reduce([cells[d] == c for d, c in codes.items()])
        cells.loc[mask, "status"] = status
        if status == "primary":
            lo, up = protection or (0.0, 0.0)
            cells.loc[mask, "lower_protection"] = lo
            cells.loc[mask, "upper_protection"] = up
    return OutputTable(label, tuple(hierarchies), cells)


ROWS = Hierarchy.from_pairs("row", [("T", None), ("r1", "T"), ("r2", "T")])
COLS = Hierarchy.from_pairs("col", [("T", None), ("c1", "T"), ("c2", "T")])
VALUES = {("r1", "c1"): 10, ("r1", "c2"): 20, ("r2", "c1"): 30, ("r2", "c2"): 40}
HIDE_ALL = [
    ({"row": "r1", "col": "c1"}, "primary"),
    ({"row": "r1", "col": "c2"}, "secondary"),
    ({"row": "r2", "col": "c1"}, "secondary"),
    ({"row": "r2", "col": "c2"}, "secondary"),
]


def _value_of(tables, label, codes):
    t = next(t for t in tables if t.label == label)
    mask = np.logical_and.reduce([t.cells[d] == c for d, c in codes.items()])
    return float(t.cells.loc[mask, "value"].iloc[0])


def _assert_combination_reveals(d, tables):
    """The reported combination of published cells really adds up to the hidden value."""
    assert d.revealed_by
    total = sum(coef * _value_of(tables, lbl, codes) for lbl, codes, coef in d.revealed_by)
    assert total == pytest.approx(d.value)


def test_a_safe_pattern_alone_is_safe():
    release1 = _table("r1", [ROWS, COLS], VALUES, HIDE_ALL, protection=(5, 5))
    result = check_differencing(release1)
    assert result.safe, [d.explain() for d in result.disclosures]
    assert result.checked_cells == 1


def test_protection_wider_than_the_attackers_interval_is_reported():
    # By hand: x11 = t, x12 = 30 - t, x21 = 40 - t, x22 = 30 + t, t in [0, 30].
    release1 = _table("r1", [ROWS, COLS], VALUES, HIDE_ALL, protection=(5, 25))
    result = check_differencing(release1)
    assert not result.safe
    (d,) = result.disclosures
    assert d.attacker_min == pytest.approx(0) and d.attacker_max == pytest.approx(30)
    assert not d.exact


def test_a_later_output_publishing_a_complement_reveals_the_cell():
    release1 = _table("release-1", [ROWS, COLS], VALUES, HIDE_ALL, protection=(5, 5))
    release2 = _table("release-2", [ROWS, COLS], VALUES, HIDE_ALL[:1], protection=(5, 5))
    result = check_differencing(release2, [release1])
    assert not result.safe
    (d,) = result.disclosures  # hidden in both releases: reported once
    assert d.exact and d.attacker_min == pytest.approx(10)
    assert "release-2" in d.explain()
    _assert_combination_reveals(d, [release1, release2])


REGION_A = Hierarchy.from_pairs(
    "region",
    [
        ("UK", None),
        ("N", "UK"),
        ("S", "UK"),
        ("a", "N"),
        ("b", "N"),
        ("c", "N"),
        ("d", "S"),
        ("e", "S"),
    ],
)
# A different grouping of the same codes: "N2" differs from "N" by one area (c).
REGION_B = Hierarchy.from_pairs(
    "region",
    [
        ("UK", None),
        ("N2", "UK"),
        ("S2", "UK"),
        ("a", "N2"),
        ("b", "N2"),
        ("c", "S2"),
        ("d", "S2"),
        ("e", "S2"),
    ],
)
REGION_VALUES = {("a",): 50, ("b",): 70, ("c",): 5, ("d",): 40, ("e",): 35}


def test_a_grouping_that_differs_by_one_area_reveals_it():
    hidden = [({"region": "c"}, "primary"), ({"region": "b"}, "secondary")]
    release1 = _table("by-region", [REGION_A], REGION_VALUES, hidden, protection=(2, 2))
    assert check_differencing(release1).safe
    regrouped = _table("by-new-region", [REGION_B], REGION_VALUES, [], protection=None)
    # Publish only the new groupings (leaves hidden as secondary) : N - N2 = c.
    mask = regrouped.cells["region"].isin(["a", "b", "c", "d", "e"])
    regrouped.cells.loc[mask, "status"] = "secondary"
    result = check_differencing(regrouped, [release1])
    assert not result.safe
    (d,) = result.disclosures
    assert d.codes == {"region": "c"} and d.exact
    assert d.attacker_min == pytest.approx(5)
    _assert_combination_reveals(d, [release1, regrouped])


def test_a_request_answer_subtracted_from_a_subtotal_reveals_a_cell():
    hidden = [({"region": "c"}, "primary"), ({"region": "b"}, "secondary")]
    release1 = _table("by-region", [REGION_A], REGION_VALUES, hidden, protection=(2, 2))
    answer_h = Hierarchy.from_pairs("region", [("a+b", None), ("a", "a+b"), ("b", "a+b")])
    answer = OutputTable(
        "foi-123",
        (answer_h,),
        pd.DataFrame(
            {"region": ["a+b", "a", "b"], "value": [120.0, 50.0, 70.0], "status": ["safe"] * 3}
        ).assign(status=["safe", "secondary", "secondary"]),
    )
    result = check_differencing(answer, [release1])
    assert not result.safe
    assert result.disclosures[0].codes == {"region": "c"}
    _assert_combination_reveals(result.disclosures[0], [release1, answer])


def test_inconsistent_published_values_are_an_error():
    t1 = _table("one", [ROWS], {("r1",): 1, ("r2",): 2})
    t2 = _table("two", [ROWS], {("r1",): 1, ("r2",): 3})
    with pytest.raises(DataError, match="different values"):
        check_differencing(t2, [t1])


def test_unknown_codes_are_an_error():
    t = _table("one", [ROWS], {("r1",): 1, ("r2",): 2})
    t.cells.loc[0, "row"] = "zz"
    with pytest.raises(DataError, match="not in its hierarchy"):
        check_differencing(t)


def _brute_interval(hierarchies, tables_cells, target):
    """min/max of the target over non-negative leaf-combination values (no atom reduction)."""
    leaves = list(itertools.product(*(h.leaves for h in hierarchies)))
    index = {k: i for i, k in enumerate(leaves)}

    def row(codes):
        r = np.zeros(len(leaves))
        sets = [h.leaves_under(codes[h.name]) for h in hierarchies]
        for k in itertools.product(*sets):
            r[index[k]] = 1
        return r

    a_eq, b_eq = [], []
    for cells in tables_cells:
        for rec in cells[cells["status"] == "safe"].to_dict("records"):
            a_eq.append(row(rec))
            b_eq.append(rec["value"])
    c = row(target)
    kw = {"A_eq": np.array(a_eq), "b_eq": np.array(b_eq)} if a_eq else {}
    lo = linprog(c, bounds=(0, None), method="highs", **kw)
    hi = linprog(-c, bounds=(0, None), method="highs", **kw)
    assert lo.status == 0 and hi.status in (0, 3)
    return lo.fun, (np.inf if hi.status == 3 else -hi.fun)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(0, 50), min_size=6, max_size=6),
    st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_atom_intervals_equal_brute_force_over_leaf_cells(values, hide):
    rows = Hierarchy.from_pairs(
        "row", [("T", None), ("A", "T"), ("x", "A"), ("y", "A"), ("z", "T")]
    )
    cols = Hierarchy.from_pairs("col", [("T", None), ("p", "T"), ("q", "T")])
    leaf_values = dict(zip(itertools.product(rows.leaves, cols.leaves), values, strict=True))
    t = _table("t", [rows, cols], leaf_values)
    statuses = t.cells["status"].to_numpy().copy()
    for i, h in enumerate(hide):
        if h:
            statuses[i] = "primary"
    t.cells["status"] = statuses
    result = check_differencing(t)
    flagged = {tuple(sorted(d.codes.items())): d for d in result.disclosures}
    for rec in t.cells[t.cells["status"] == "primary"].to_dict("records"):
        lo, hi = _brute_interval([rows, cols], [t.cells], rec)
        key = tuple(sorted({"row": rec["row"], "col": rec["col"]}.items()))
        assert lo <= rec["value"] + 1e-6 <= hi + 2e-6
        if hi - lo <= 1e-7 * max(1, rec["value"]):
            assert key in flagged and flagged[key].exact
        if key in flagged:
            assert flagged[key].attacker_min == pytest.approx(lo, abs=1e-6)
            assert flagged[key].attacker_max == pytest.approx(hi, abs=1e-6)
