"""Primary rules: hand-checked worked examples, edge cases and hypothesis properties."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fivesafes.errors import DataError
from fivesafes.sdc import apply_primary_rules
from fivesafes.sdc.rules import (
    dominance,
    p_percent,
    pq_rule,
    required_top_k,
    rule_explanations,
    rule_labels,
    rule_names,
)
from fivesafes.sdc.spec import RuleSet

TOP_K = 4


def cells_from(
    contributions: Sequence[Sequence[float]],
    *,
    weights: Sequence[float] | None = None,
    records: Sequence[int] | None = None,
) -> pd.DataFrame:
    """A cells table built the obviously-correct way from each cell's contributor totals."""
    rows = []
    for i, xs in enumerate(contributions):
        tops = sorted(xs, reverse=True)[:TOP_K]
        tops += [0.0] * (TOP_K - len(tops))
        total = float(sum(xs))
        w = weights[i] if weights else 1.0
        rows.append(
            {
                "region": f"{i:02d}",
                "records": records[i] if records else len(xs),
                "contributors": len(xs),
                "value": total * w,
                "rule_total": total,
                **{f"top{j + 1}": float(t) for j, t in enumerate(tops)},
                "negatives": 0,
            }
        )
    return pd.DataFrame(rows)


def one(cells: pd.DataFrame, rules: RuleSet, **kw: bool) -> pd.Series:
    out = apply_primary_rules(cells, rules, frequency=kw.pop("frequency", False), **kw)
    assert len(out) == 1
    return out.iloc[0]


NO_THRESHOLD = RuleSet(threshold=None)


# ---------------------------------------------------------------- worked examples


def test_dominance_1_50_worked_example() -> None:
    # contributions 60, 25, 15: T = 100, x1 = 60 > 50% of 100 -> sensitive.
    # required protection = (100/50) * 60 - 100 = 120 - 100 = 20: only when the
    # attacker must allow a total of 120 does 60 stop being more than half of it.
    row = one(cells_from([[60, 25, 15]]), RuleSet(threshold=None, dominance=((1, 50),)))
    assert row["status"] == "primary"
    assert row["rule"] == "dominance(1,50)"
    assert row["upper_protection"] == pytest.approx(20.0)
    assert row["lower_protection"] == pytest.approx(20.0)


def test_dominance_2_85_worked_example() -> None:
    # 60, 25, 15: x1 + x2 = 85, not more than 85% of 100 -> safe (strict inequality).
    # 60, 30, 10: x1 + x2 = 90 > 85 -> sensitive; protection = (100/85)*90 - 100
    #   = 105.882... - 100 = 5.882352941...
    out = apply_primary_rules(
        cells_from([[60, 25, 15], [60, 30, 10]]),
        RuleSet(threshold=None, dominance=((2, 85),)),
        frequency=False,
    )
    assert list(out["status"]) == ["safe", "primary"]
    assert out["upper_protection"].iloc[0] == 0
    assert out["upper_protection"].iloc[1] == pytest.approx(100 / 85 * 90 - 100)
    assert out["upper_protection"].iloc[1] == pytest.approx(5.882352941)


def test_p_percent_worked_example() -> None:
    # p = 10. Cell 60, 30, 10: remainder T - x1 - x2 = 10 >= 0.10 * 60 = 6 -> safe.
    # Cell 60, 35, 5: remainder 5 < 6 -> the second largest could estimate x1 to
    # within 5/60 = 8.3% < 10%: sensitive; protection = 6 - 5 = 1.
    out = apply_primary_rules(
        cells_from([[60, 30, 10], [60, 35, 5]]),
        RuleSet(threshold=None, p_percent=10),
        frequency=False,
    )
    assert list(out["status"]) == ["safe", "primary"]
    assert list(out["rule"]) == ["", "p%(10)"]
    assert out["upper_protection"].iloc[1] == pytest.approx(1.0)


def test_pq_worked_example() -> None:
    # p = 10, q = 50: ratio p/q = 0.2. Cell 60, 30, 10: 0.2 * 60 = 12 > remainder 10
    # -> sensitive with protection 12 - 10 = 2 (p% alone would call it safe: the
    # attacker's prior knowledge of 50% makes the cell riskier).
    row = one(cells_from([[60, 30, 10]]), RuleSet(threshold=None, pq=(10, 50)))
    assert row["rule"] == "pq(10,50)"
    assert row["upper_protection"] == pytest.approx(2.0)


def test_threshold_worked_example() -> None:
    # threshold 3: two contributors are too few. Value 80; protection 10% of 80 = 8.
    out = apply_primary_rules(
        cells_from([[50, 30], [50, 30, 20]]), RuleSet(threshold=3), frequency=False
    )
    assert list(out["rule"]) == ["threshold", ""]
    assert out["upper_protection"].iloc[0] == pytest.approx(8.0)


def test_several_rules_list_every_rule_and_take_the_largest_protection() -> None:
    # 90, 10: threshold (2 < 3): 10% of 100 = 10; dominance(1,50): 2*90 - 100 = 80;
    # p%(10): 0.1*90 - (100 - 90 - 10) = 9. The largest is 80.
    rules = RuleSet(threshold=3, dominance=((1, 50),), p_percent=10)
    row = one(cells_from([[90, 10]]), rules)
    assert row["rule"] == "threshold;dominance(1,50);p%(10)"
    assert row["upper_protection"] == pytest.approx(80.0)
    # lower protection is capped at the value: a non-negative cell cannot be below 0
    assert row["lower_protection"] == pytest.approx(80.0)


def test_lower_protection_is_capped_at_the_value() -> None:
    # dominance(1, 20) on a single contributor of 10: (100/20)*10 - 10 = 40 upper,
    # but the attacker knows the cell is >= 0, so at most 10 can be asked below.
    row = one(cells_from([[10]]), RuleSet(threshold=None, dominance=((1, 20),)))
    assert row["upper_protection"] == pytest.approx(40.0)
    assert row["lower_protection"] == pytest.approx(10.0)


def test_weighted_protection_is_scaled_to_the_published_value() -> None:
    # rules on unweighted totals: p% need 1 on a rule total of 100; the published
    # (weighted) value is 250, so the requirement becomes 1 * 250/100 = 2.5.
    cells = cells_from([[60, 35, 5]], weights=[2.5])
    row = one(cells, RuleSet(threshold=None, p_percent=10), weighted=True)
    assert row["upper_protection"] == pytest.approx(2.5)
    unscaled = one(cells, RuleSet(threshold=None, p_percent=10, apply_weights=True), weighted=True)
    assert unscaled["upper_protection"] == pytest.approx(1.0)


# ---------------------------------------------------------------- edge cases


def test_zero_cells_follow_the_zeros_policy() -> None:
    cells = cells_from([[], [5, 5, 5]])
    safe = apply_primary_rules(cells, RuleSet(), frequency=False)
    assert list(safe["status"]) == ["safe", "safe"]
    sens = apply_primary_rules(cells, RuleSet(zeros="sensitive"), frequency=False)
    assert list(sens["rule"]) == ["zero", ""]
    assert sens["upper_protection"].iloc[0] == 1.0
    assert sens["lower_protection"].iloc[0] == 0.0


def test_frequency_table_threshold_protects_at_least_one_count() -> None:
    cells = cells_from([[1.0], [1.0] * 4, [1.0] * 9])
    out = apply_primary_rules(cells, RuleSet(threshold=None, frequency_threshold=5), frequency=True)
    assert list(out["rule"]) == ["frequency(5)", "frequency(5)", ""]
    # 10% of 1 and of 4 are below one count, so one count is required
    assert list(out["upper_protection"][:2]) == [1.0, 1.0]
    assert list(out["lower_protection"][:2]) == [1.0, 1.0]


def test_negative_contributions_are_an_error_unless_absolute() -> None:
    cells = cells_from([[5, 5, 5]]).assign(negatives=1)
    with pytest.raises(DataError, match="negative"):
        apply_primary_rules(cells, RuleSet(), frequency=False)
    out = apply_primary_rules(cells, RuleSet(negatives="absolute"), frequency=False)
    assert out["status"].iloc[0] == "safe"


def test_missing_statistics_fail_closed() -> None:
    cells = cells_from([[5, 5, 5]])
    cells.loc[0, "rule_total"] = np.nan
    row = one(cells, RuleSet(p_percent=10))
    assert row["status"] == "primary"
    assert "missing-statistics" in row["rule"]


def test_missing_top_columns_are_a_clear_error() -> None:
    cells = cells_from([[5, 5, 5]]).drop(columns=["top2"])
    with pytest.raises(DataError, match="top2"):
        apply_primary_rules(cells, RuleSet(p_percent=10), frequency=False)


def test_input_is_not_modified() -> None:
    cells = cells_from([[5, 1]])
    before = cells.copy()
    apply_primary_rules(cells, RuleSet(p_percent=10), frequency=False)
    pd.testing.assert_frame_equal(cells, before)


def test_required_top_k_and_rule_names() -> None:
    rules = RuleSet(threshold=3, dominance=((3, 75),), p_percent=10.5, pq=(5, 40))
    assert required_top_k(rules) == 3
    assert required_top_k(RuleSet(p_percent=10)) == 2
    assert required_top_k(RuleSet()) == 0
    assert rule_names(rules, frequency=False) == (
        "threshold",
        "dominance(3,75)",
        "p%(10.5)",
        "pq(5,40)",
    )
    assert rule_names(rules, frequency=True) == ("threshold",)


# ---------------------------------------------------------------- properties

contribution = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
cell_lists = st.lists(st.lists(contribution, min_size=0, max_size=8), min_size=1, max_size=12)


def _arrays(lists: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    c = cells_from(lists)
    return c["rule_total"].to_numpy(), c[[f"top{i}" for i in range(1, TOP_K + 1)]].to_numpy()


@settings(max_examples=40, deadline=None)
@given(cell_lists, st.floats(1, 100), st.floats(1, 100))
def test_raising_p_never_unflags_a_cell(lists: list[list[float]], a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    total, tops = _arrays(lists)
    flagged_lo, _ = p_percent(total, tops[:, 0], tops[:, 1], p=lo)
    flagged_hi, _ = p_percent(total, tops[:, 0], tops[:, 1], p=hi)
    assert not np.any(flagged_lo & ~flagged_hi)


@settings(max_examples=40, deadline=None)
@given(cell_lists, st.floats(1, 100), st.integers(1, TOP_K))
def test_p_percent_and_dominance_match_a_brute_force_reference(
    lists: list[list[float]], p: float, n: int
) -> None:
    total, tops = _arrays(lists)
    fp, need_p = p_percent(total, tops[:, 0], tops[:, 1], p=p)
    fd, need_d = dominance(total, tops, n=n, k=60.0)
    for i, xs in enumerate(lists):
        s = [*sorted(xs, reverse=True), 0.0, 0.0]
        rest = sum(xs) - s[0] - s[1]
        assert bool(fp[i]) == (rest < p / 100 * s[0] and s[0] > 0)
        assert bool(fd[i]) == (sum(s[:n]) > 0.6 * sum(xs))
        # a flagged cell always needs positive protection
        if fp[i]:
            assert need_p[i] > 0
        if fd[i]:
            assert need_d[i] > 0


@settings(max_examples=40, deadline=None)
@given(cell_lists, st.floats(1, 99), st.floats(1, 99))
def test_lowering_k_never_unflags_a_dominance_cell(
    lists: list[list[float]], a: float, b: float
) -> None:
    lo, hi = sorted((a, b))
    total, tops = _arrays(lists)
    strict, _ = dominance(total, tops, n=2, k=hi)
    loose, _ = dominance(total, tops, n=2, k=lo)
    assert not np.any(strict & ~loose)


@settings(max_examples=40, deadline=None)
@given(cell_lists, st.floats(1, 50), st.floats(51, 100))
def test_the_required_protection_is_exactly_what_makes_the_cell_safe(
    lists: list[list[float]], p: float, q: float
) -> None:
    # padding the remainder by the requirement puts the cell on the rule's boundary
    total, tops = _arrays(lists)
    x1, x2 = tops[:, 0], tops[:, 1]
    for flagged, need, ratio in (
        (*p_percent(total, x1, x2, p=p), p / 100),
        (*pq_rule(total, x1, x2, p=p, q=q), p / q),
    ):
        padded = total + need
        gap = (padded - x1 - x2) - ratio * x1
        assert np.all(np.isclose(gap[flagged], 0.0, atol=1e-6 * (1 + padded[flagged])))


@settings(max_examples=40, deadline=None)
@given(cell_lists, st.integers(1, 6), st.floats(1, 100))
def test_status_rule_and_protection_agree(
    lists: list[list[float]], threshold: int, p: float
) -> None:
    rules = RuleSet(threshold=threshold, dominance=((1, 50),), p_percent=p, zeros="sensitive")
    out = apply_primary_rules(cells_from(lists), rules, frequency=False)
    for _, row in out.iterrows():
        assert (row["status"] == "primary") == (row["rule"] != "")
        if row["status"] == "safe":
            assert row["upper_protection"] == 0 and row["lower_protection"] == 0
        if 0 < row["contributors"] < threshold:
            assert "threshold" in row["rule"].split(";")
        assert math.isfinite(row["upper_protection"]) and row["upper_protection"] >= 0
        assert row["lower_protection"] <= row["upper_protection"] + 1e-9
        # a single contributor with a positive value is always disclosive
        if row["contributors"] == 1 and row["value"] > 1e-6:
            assert "p%" in row["rule"] and "dominance(1,50)" in row["rule"]


def test_every_rule_in_force_is_explained_for_readers() -> None:
    rules = RuleSet(
        threshold=3, dominance=((1, 50), (2, 85)), p_percent=10, pq=(5, 40), zeros="sensitive"
    )
    names = rule_names(rules, frequency=False)
    lines = rule_explanations(rules, frequency=False)
    assert [line.split(":")[0] for line in lines] == list(names)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 2**5 - 1), max_size=30))
def test_rule_labels_match_a_naive_join(masks: list[int]) -> None:
    names = ("threshold", "dominance(1,50)", "p%(10)", "pq(1,2)", "zero")
    got = list(rule_labels(np.asarray(masks, dtype=np.int64), names))
    want = [";".join(n for i, n in enumerate(names) if m >> i & 1) for m in masks]
    assert got == want


def test_an_empty_cells_table_gives_an_empty_result() -> None:
    out = apply_primary_rules(cells_from([[1.0]]).iloc[:0], RuleSet(p_percent=10), frequency=False)
    assert len(out) == 0
    assert {"status", "rule", "lower_protection", "upper_protection"} <= set(out.columns)
