"""The audit on small tables whose attacker intervals are worked out by hand."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from audit_helpers import aggregate, flat, make_cells, tree

from fivesafes.errors import DataError, UnsafeTableError
from fivesafes.sdc.audit import audit_table

LEAF = np.array([[10.0, 20.0], [30.0, 40.0]])
RECT = [("r1", "c1"), ("r1", "c2"), ("r2", "c1"), ("r2", "c2")]


def _row(result_intervals: pd.DataFrame, **codes: str) -> pd.Series:
    mask = np.ones(len(result_intervals), dtype=bool)
    for dim, code in codes.items():
        mask &= (result_intervals[dim] == code).to_numpy()
    assert mask.sum() == 1
    return result_intervals[mask].iloc[0]


def _rectangle_range(leaf: np.ndarray) -> tuple[float, float]:
    """Range of x11 when the 2x2 interior is hidden and x >= 0: x11 = t, the rest follow."""
    r1, c1, total = leaf[0].sum(), leaf[:, 0].sum(), leaf.sum()
    return max(0.0, r1 + c1 - total), min(r1, c1)


def test_one_hidden_interior_cell_is_recovered_exactly_without_an_lp() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    cells = make_cells(hs, LEAF, primary={("r1", "c1"): (1.0, 1.0)})
    result = audit_table(cells, hs)
    assert not result.safe
    row = _row(result.intervals, r="r1", c="c1")
    assert row["attacker_min"] == row["attacker_max"] == LEAF[0, 0]
    assert row["exact"] and not row["protected"]
    assert row["failure"] == "exact"
    assert result.lp_count == 0
    assert result.details["determined_without_lp"] == 1
    with pytest.raises(UnsafeTableError, match="r=r1, c=c1"):
        result.raise_if_unsafe()


def test_hidden_rectangle_gives_the_hand_computed_interval() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    lo_t, hi_t = _rectangle_range(LEAF)
    v = LEAF[0, 0]
    a, b = v - lo_t, hi_t - v  # how far the attacker's range reaches below and above
    cells = make_cells(
        hs, LEAF, primary={("r1", "c1"): (a, b)}, secondary=[k for k in RECT if k != RECT[0]]
    )
    result = audit_table(cells, hs)
    assert result.safe
    row = _row(result.intervals, r="r1", c="c1")
    assert row["attacker_min"] == pytest.approx(v - a)
    assert row["attacker_max"] == pytest.approx(v + b)
    # the other corners move with x11: x12 = r1 - t, x22 = T - r1 - c1 + t
    r1, c1, total = LEAF[0].sum(), LEAF[:, 0].sum(), LEAF.sum()
    x12 = _row(result.intervals, r="r1", c="c2")
    assert (x12["attacker_min"], x12["attacker_max"]) == pytest.approx((r1 - hi_t, r1 - lo_t))
    x22 = _row(result.intervals, r="r2", c="c2")
    assert (x22["attacker_min"], x22["attacker_max"]) == pytest.approx(
        (total - r1 - c1 + lo_t, total - r1 - c1 + hi_t)
    )
    assert len(result.intervals) == 4


def test_rectangle_short_of_the_required_protection_fails() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    lo_t, _ = _rectangle_range(LEAF)
    too_much = LEAF[0, 0] - lo_t + 1.0
    cells = make_cells(
        hs,
        LEAF,
        primary={("r1", "c1"): (too_much, 1.0)},
        secondary=[k for k in RECT if k != RECT[0]],
    )
    result = audit_table(cells, hs)
    assert not result.safe
    assert list(result.failures["failure"]) == ["interval"]
    assert result.failures.iloc[0]["required_lower"] == pytest.approx(LEAF[0, 0] - too_much)


def test_a_priori_bounds_shrink_the_rectangle_to_the_intersection() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    p = 10.0
    cells = make_cells(hs, LEAF, primary={("r1", "c1"): (0.5, 0.5)}, secondary=RECT[1:])
    # x11 = t; x12 = r1 - t; x21 = c1 - t; x22 = T - r1 - c1 + t, each within value +/- p%
    r1, c1, total = LEAF[0].sum(), LEAF[:, 0].sum(), LEAF.sum()
    w = p / 100
    v11, v12, v21, v22 = LEAF.ravel()
    lo = max(
        v11 * (1 - w), r1 - v12 * (1 + w), c1 - v21 * (1 + w), v22 * (1 - w) - (total - r1 - c1)
    )
    hi = min(
        v11 * (1 + w), r1 - v12 * (1 - w), c1 - v21 * (1 - w), v22 * (1 + w) - (total - r1 - c1)
    )
    result = audit_table(cells, hs, a_priori_percent=p)
    row = _row(result.intervals, r="r1", c="c1")
    assert (row["attacker_min"], row["attacker_max"]) == pytest.approx((lo, hi))
    assert result.details["bounds"].startswith("a priori")
    # required protection beyond the a-priori bounds cannot be met
    cells2 = make_cells(hs, LEAF, primary={("r1", "c1"): (v11 - lo + 1, 0.5)}, secondary=RECT[1:])
    assert not audit_table(cells2, hs, a_priori_percent=p).safe


def test_negative_values_mean_no_sign_bound_and_an_unbounded_rectangle() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    leaf = LEAF.copy()
    leaf[1, 1] = -5.0
    cells = make_cells(hs, leaf, primary={("r1", "c1"): (100.0, 100.0)}, secondary=RECT[1:])
    result = audit_table(cells, hs)
    assert result.safe
    row = _row(result.intervals, r="r1", c="c1")
    assert row["attacker_min"] == -np.inf and row["attacker_max"] == np.inf
    assert result.to_dict()["failed_cells"] == []


def test_explicit_bounds_override_and_must_contain_the_values() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    cells = make_cells(hs, LEAF, primary={("r1", "c1"): (2.0, 2.0)}, secondary=RECT[1:])
    values = cells["value"].to_numpy(dtype=float)
    lower, upper = values - 1.0, values + 1.0
    result = audit_table(cells, hs, bounds=(lower, upper))
    row = _row(result.intervals, r="r1", c="c1")
    assert (row["attacker_min"], row["attacker_max"]) == pytest.approx((9.0, 11.0))
    assert not result.safe  # +/- 1 is less than the 2 required
    with pytest.raises(DataError, match=r"do not contain its value"):
        audit_table(cells, hs, bounds=(lower + 2.0, upper + 2.0))


def test_three_dimensional_cube_moves_along_the_alternating_direction() -> None:
    hs = [flat("a", 2), flat("b", 2), flat("c", 2)]
    leaf = np.arange(1.0, 9.0).reshape(2, 2, 2)
    interior = list(itertools.product(["a1", "a2"], ["b1", "b2"], ["c1", "c2"]))
    cells = make_cells(hs, leaf, primary={interior[0]: (0.5, 0.5)}, secondary=interior[1:])
    result = audit_table(cells, hs)
    # every 2-D margin is published: x_ijk = v_ijk + s_ijk t with s = (-1)^(i+j+k)
    sign = np.array([[[(-1) ** (i + j + k) for k in range(2)] for j in range(2)] for i in range(2)])
    t_lo = -leaf[sign == 1].min()  # x = v + t >= 0 where s = +1
    t_hi = leaf[sign == -1].min()  # x = v - t >= 0 where s = -1
    for (i, j, k), codes in zip(itertools.product(range(2), repeat=3), interior, strict=True):
        row = _row(result.intervals, a=codes[0], b=codes[1], c=codes[2])
        ends = sorted([leaf[i, j, k] + sign[i, j, k] * t_lo, leaf[i, j, k] + sign[i, j, k] * t_hi])
        assert (row["attacker_min"], row["attacker_max"]) == pytest.approx(tuple(ends))
    assert result.safe


def test_hierarchical_rectangle_under_a_subtotal() -> None:
    region = tree("g", [2, 2])  # T -> g0, g1; g0 -> g0.0, g0.1; ...
    hs = [region, flat("c", 2)]
    leaf = np.array([[5.0, 7.0], [11.0, 2.0], [3.0, 4.0], [6.0, 8.0]])
    rect = [("g0.0", "c1"), ("g0.0", "c2"), ("g0.1", "c1"), ("g0.1", "c2")]
    cells = make_cells(hs, leaf, primary={rect[0]: (1.0, 1.0)}, secondary=rect[1:])
    result = audit_table(cells, hs)
    # the subtotal g0 plays the grand total's part for the rectangle
    lo_t, hi_t = _rectangle_range(leaf[:2])
    row = _row(result.intervals, g="g0.0", c="c1")
    assert (row["attacker_min"], row["attacker_max"]) == pytest.approx((lo_t, hi_t))
    # hiding the subtotal row g0 as well adds the g0 x c cells to the same component
    more = [*rect[1:], ("g0", "c1"), ("g0", "c2"), ("g1.0", "c1"), ("g1.0", "c2")]
    wider = audit_table(make_cells(hs, leaf, primary={rect[0]: (1.0, 1.0)}, secondary=more), hs)
    row2 = _row(wider.intervals, g="g0.0", c="c1")
    assert row2["attacker_min"] <= row["attacker_min"] + 1e-9
    assert row2["attacker_max"] >= row["attacker_max"] - 1e-9


def test_frequency_zero_corner_pins_the_count() -> None:
    # counts [[1, 0], [0, 0]]: hiding the interior leaves x11 in [r1 + c1 - T, min(r1, c1)] = [1, 1]
    hs = [flat("r", 2), flat("c", 2)]
    leaf = np.array([[1.0, 0.0], [0.0, 0.0]])
    cells = make_cells(hs, leaf, primary={("r1", "c1"): (0.0, 0.0)}, secondary=RECT[1:])
    result = audit_table(cells, hs, frequency=True)
    assert not result.safe
    assert result.failures.iloc[0]["failure"] == "exact"


def test_frequency_counts_are_rounded_inwards_to_whole_numbers() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    leaf = np.array([[3.0, 4.0], [5.0, 6.0]])
    cells = make_cells(hs, leaf, primary={("r1", "c1"): (0.4, 0.4)}, secondary=RECT[1:])
    values = cells["value"].to_numpy(dtype=float)
    bounds = (values - 0.5, values + 0.5)  # the LP interval of x11 is [2.5, 3.5]
    magnitude = audit_table(cells, hs, bounds=bounds)
    assert magnitude.safe
    counts = audit_table(cells, hs, bounds=bounds, frequency=True)
    row = _row(counts.intervals, r="r1", c="c1")
    assert row["attacker_min"] == row["attacker_max"] == 3.0
    assert not counts.safe
    for mode in ("primary", "check"):
        quicker = audit_table(cells, hs, bounds=bounds, frequency=True, intervals=mode)
        assert list(quicker.failures["failure"]) == ["exact"]


def test_interval_modes_say_which_intervals_are_exact() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    cells = make_cells(hs, LEAF, primary={("r1", "c1"): (2.0, 2.0)}, secondary=RECT[1:])
    exact = audit_table(cells, hs)
    assert set(exact.intervals["interval"]) == {"exact"}
    check = audit_table(cells, hs, intervals="check")
    assert check.safe
    secondary = check.intervals[check.intervals["status"] == "secondary"]
    assert set(secondary["interval"]) == {"unsolved"}
    assert secondary["attacker_min"].isna().all()
    primary = _row(check.intervals, r="r1", c="c1")
    assert primary["attacker_min"] <= primary["required_lower"]
    assert primary["attacker_max"] >= primary["required_upper"]
    assert check.details["exact_secondary"] is None
    assert "not computed" in check.summary()
    with pytest.raises(DataError, match="intervals must be one of"):
        audit_table(cells, hs, intervals="fast")  # type: ignore[arg-type]


def test_secondary_cells_exactly_determined_are_flagged_not_failed() -> None:
    hs = [flat("r", 2), flat("c", 3)]
    leaf = np.array([[10.0, 20.0, 30.0], [30.0, 40.0, 50.0]])
    # the primary is in a rectangle; a lone secondary elsewhere is recoverable
    rect = [("r1", "c1"), ("r1", "c2"), ("r2", "c1"), ("r2", "c2")]
    cells = make_cells(hs, leaf, primary={rect[0]: (1.0, 1.0)}, secondary=[*rect[1:], ("T", "c3")])
    result = audit_table(cells, hs)
    lone = _row(result.intervals, r="T", c="c3")
    assert lone["exact"] and lone["protected"]
    assert result.safe
    assert result.details["exact_secondary"] == 1


def test_singleton_partner_in_the_same_row_recovers_the_primary() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    cells = make_cells(
        hs,
        LEAF,
        primary={("r1", "c1"): (2.0, 2.0)},
        secondary=RECT[1:],
        contributors={("r1", "c1"): 1, ("r1", "c2"): 1},
    )
    assert audit_table(cells, hs).safe
    result = audit_table(cells, hs, singleton=True)
    assert not result.safe
    row = result.failures.iloc[0]
    assert row["failure"] == "singleton"
    assert row["singleton_min"] == row["singleton_max"] == LEAF[0, 0]
    assert row["singleton_known"] == "r=r1, c=c2"


def test_singleton_partner_elsewhere_in_the_component_is_checked_too() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    contributors = {("r1", "c1"): 1, ("r2", "c2"): 1}  # diagonal: no relation in common
    cells = make_cells(
        hs, LEAF, primary={("r1", "c1"): (2.0, 2.0)}, secondary=RECT[1:], contributors=contributors
    )
    result = audit_table(cells, hs, singleton=True)
    assert list(result.failures["failure"]) == ["singleton"]


def test_singleton_total_above_the_primary_is_its_own_contributor_not_an_attacker() -> None:
    # r1's only contributor is in (r1, c1); the row total (r1, T) therefore has the same
    # single contributor, who learns nothing new about his own cell from it
    hs = [flat("r", 2), flat("c", 2)]
    leaf = np.array([[10.0, 0.0], [30.0, 40.0]])
    hidden = [("r1", "T"), ("r2", "c1"), ("r2", "T")]
    cells = make_cells(
        hs,
        leaf,
        primary={("r1", "c1"): (2.0, 2.0)},
        secondary=hidden,
        contributors={("r1", "c1"): 1, ("r1", "T"): 1},
    )
    cells.loc[(cells["r"] == "r1") & (cells["c"] == "c2"), ["records", "contributors"]] = [0, 0]
    result = audit_table(cells, hs, singleton=True)
    assert result.safe
    # (r2, c1) is another enterprise: knowing it pins (r1, c1) through the c1 column
    cells.loc[(cells["r"] == "r2") & (cells["c"] == "c1"), ["records", "contributors"]] = [1, 1]
    assert not audit_table(cells, hs, singleton=True).safe


def test_singleton_check_passes_when_the_partner_has_several_contributors() -> None:
    hs = [flat("r", 2), flat("c", 3)]
    leaf = np.array([[10.0, 20.0, 30.0], [30.0, 40.0, 50.0]])
    hidden = [("r1", "c2"), ("r1", "c3"), ("r2", "c1"), ("r2", "c2"), ("r2", "c3")]
    cells = make_cells(
        hs,
        leaf,
        primary={("r1", "c1"): (2.0, 2.0)},
        secondary=hidden,
        contributors={("r1", "c1"): 1, ("r1", "c2"): 1},
    )
    # fixing x12 still leaves x11 + x13 = r1 - x12 free within the 3-column pattern
    result = audit_table(cells, hs, singleton=True)
    assert result.safe
    row = _row(result.intervals, r="r1", c="c1")
    assert row["singleton_min"] <= row["required_lower"]
    with pytest.raises(DataError, match="contributors"):
        audit_table(cells.drop(columns=["contributors"]), hs, singleton=True)


def test_report_dict_is_json_ready() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    leaf = LEAF.copy()
    leaf[1, 1] = -1.0
    cells = make_cells(hs, leaf, primary={("r1", "c1"): (1.0, 1.0), ("r2", "T"): (1.0, 1.0)})
    d = audit_table(cells, hs).to_dict()
    text = json.dumps(d, allow_nan=False)
    assert '"safe": false' in text
    assert d["failures"] == 2
    assert d["failures_by_kind"] == {"exact": 2}
    assert {c["r"] for c in d["failed_cells"]} == {"r1", "r2"}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c.drop(columns=["status"]), "no column"),
        (lambda c: c.drop(columns=["value"]), "no column"),
        (lambda c: c.assign(status=c["status"].replace("primary", "hidden")), "unknown status"),
        (
            lambda c: c.assign(value=c["value"].astype(object).where(c.index != 2, "1,0")),
            "not numeric",
        ),
        (lambda c: c.drop(columns=["lower_protection"]), "no 'lower_protection'"),
    ],
)
def test_malformed_cells_give_a_clear_error(mutate, message) -> None:
    hs = [flat("r", 2), flat("c", 2)]
    cells = make_cells(hs, LEAF, primary={("r1", "c1"): (1.0, 1.0)}, secondary=RECT[1:])
    with pytest.raises(DataError, match=message):
        audit_table(mutate(cells), hs)


def test_protection_percent_fills_missing_protection_columns() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    cells = make_cells(hs, LEAF, primary={("r1", "c1"): (0, 0)}, secondary=RECT[1:])
    bare = cells[["r", "c", "value", "status"]]
    result = audit_table(bare, hs, protection_percent=50.0)
    row = _row(result.intervals, r="r1", c="c1")
    assert row["required_lower"] == pytest.approx(5.0)
    assert row["required_upper"] == pytest.approx(15.0)


def test_non_additive_table_is_refused() -> None:
    hs = [flat("r", 2), flat("c", 2)]
    cells = make_cells(hs, LEAF, primary={("r1", "c1"): (1.0, 1.0)}, secondary=RECT[1:])
    cells.loc[0, "value"] = cells.loc[0, "value"] + 3
    with pytest.raises(DataError, match="not additive"):
        audit_table(cells, hs)


def test_aggregate_helper_is_additive() -> None:
    hs = [tree("x", [2, 2]), flat("y", 3)]
    full = aggregate(np.arange(12.0).reshape(4, 3), hs)
    assert full[0, 0] == pytest.approx(np.arange(12.0).sum())


def test_a_cell_without_a_status_is_named_not_a_type_error() -> None:
    # found by the parser fuzz: a CSV row with an empty status read as a float NaN, which
    # ``sorted`` could not compare with the status labels (TypeError, not a DataError)
    import io

    from fivesafes.sdc.audit.inputs import read_audit_cells

    doc = b"region,value,status\nA,1,safe\nB,2,\n"
    with pytest.raises(DataError, match="row 2 of the cells table has no status"):
        read_audit_cells(pd.read_csv(io.BytesIO(doc)))
