"""Witnesses offered to the audit are verified, never trusted."""

from __future__ import annotations

import numpy as np
import pytest
from audit_helpers import flat, make_cells
from hypothesis import given, settings
from hypothesis import strategies as st

from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.secondary import fast as fast_module
from fivesafes.sdc.secondary import protect_secondary
from fivesafes.sdc.secondary.result import SecondaryResult
from fivesafes.sdc.spec import SuppressionSpec
from fivesafes.sdc.synthetic import balanced_tree as tree

LEAF = np.array([[10.0, 20.0, 5.0], [30.0, 40.0, 8.0]])
HS = [flat("r", 2), flat("c", 3)]


def _cells(secondary: list[tuple[str, str]], contributors: dict | None = None):  # type: ignore[no-untyped-def]
    return make_cells(
        HS,
        LEAF,
        primary={("r1", "c1"): (2.0, 2.0)},
        secondary=secondary,
        contributors=contributors,
    )


def _row(cells, r: str, c: str) -> int:  # type: ignore[no-untyped-def]
    return int(np.flatnonzero((cells["r"] == r).to_numpy() & (cells["c"] == c).to_numpy())[0])


def test_a_forged_witness_cannot_make_an_unsafe_table_safe() -> None:
    cells = _cells([])  # the primary alone in its row and column: recovered from totals
    p = _row(cells, "r1", "c1")
    q = _row(cells, "r1", "c2")  # published
    t = _row(cells, "r1", "T")  # published
    forged = {
        (p, 1): (np.array([p]), np.array([2.0])),  # breaks the row and column sums
        (p, -1): (np.array([p, q, t]), np.array([-2.0, 2.0, 0.0])),  # moves a published cell
    }
    plain = audit_table(cells, HS)
    offered = audit_table(cells, HS, witnesses=forged)
    assert not plain.safe and not offered.safe
    assert offered.failures.equals(plain.failures)
    assert offered.details["witnesses_rejected"] == 2
    assert offered.details["witnesses_verified"] == 0


def test_a_witness_outside_the_bounds_or_malformed_is_rejected() -> None:
    rect = [("r1", "c2"), ("r2", "c1"), ("r2", "c2")]
    cells = _cells(rect)
    p, b, c, d = (_row(cells, *k) for k in [("r1", "c1"), *rect])
    # a genuine move of the rectangle, but 50 units: (r2, c1) = 30 would go below zero
    too_far = (np.array([p, b, c, d]), np.array([50.0, -50.0, -50.0, 50.0]))
    malformed = (np.array([p, p]), np.array([1.0, 1.0]))
    result = audit_table(cells, HS, witnesses={(p, 1): too_far, (p, -1): malformed})
    assert result.details["witnesses_rejected"] == 2
    assert result.safe == audit_table(cells, HS).safe


def test_a_genuine_witness_is_used_and_changes_nothing_but_the_work() -> None:
    rect = [("r1", "c2"), ("r2", "c1"), ("r2", "c2")]
    cells = _cells(rect)
    p, b, c, d = (_row(cells, *k) for k in [("r1", "c1"), *rect])
    up = (np.array([p, b, c, d]), np.array([2.0, -2.0, -2.0, 2.0]))
    down = (np.array([p, b, c, d]), np.array([-2.0, 2.0, 2.0, -2.0]))
    plain = audit_table(cells, HS, intervals="check")
    offered = audit_table(cells, HS, intervals="check", witnesses={(p, 1): up, (p, -1): down})
    assert offered.safe and plain.safe
    assert offered.details["witnesses_verified"] == 2
    assert offered.lp_count < plain.lp_count


def test_a_witness_that_moves_another_singleton_does_not_prove_the_singleton_check() -> None:
    rect = [("r1", "c2"), ("r2", "c1"), ("r2", "c2")]
    contributors = {("r1", "c1"): 1, ("r1", "c2"): 1}  # the same row: each recovers the other
    cells = _cells(rect, contributors)
    p, b, c, d = (_row(cells, *k) for k in [("r1", "c1"), *rect])
    up = (np.array([p, b, c, d]), np.array([2.0, -2.0, -2.0, 2.0]))
    down = (np.array([p, b, c, d]), np.array([-2.0, 2.0, 2.0, -2.0]))
    result = audit_table(cells, HS, singleton=True, witnesses={(p, 1): up, (p, -1): down})
    assert result.details["witnesses_verified"] == 2
    assert not result.safe
    assert list(result.failures["failure"]) == ["singleton"]


def test_one_move_offered_for_several_demands_is_checked_for_each_key() -> None:
    rect = [("r1", "c2"), ("r2", "c1"), ("r2", "c2")]
    cells = _cells(rect)
    p, b, c, d = (_row(cells, *k) for k in [("r1", "c1"), *rect])
    good = (np.array([p, b, c, d]), np.array([2.0, -2.0, -2.0, 2.0]))
    bad = (np.array([p, b, c]), np.array([2.0, -2.0, -2.0]))  # column c2 broken
    offered = {(p, 1): good, (p, 3): good, (b, -1): bad, (b, -3): bad}
    result = audit_table(cells, HS, witnesses=offered)
    assert result.details["witnesses_verified"] == 2
    assert result.details["witnesses_rejected"] == 2


def test_a_further_move_for_an_insider_is_verified_before_it_clears_him() -> None:
    rect = [("r1", "c2"), ("r2", "c1"), ("r2", "c2")]
    contributors = {("r1", "c1"): 1, ("r1", "c2"): 1}  # each recovers the other
    cells = _cells(rect, contributors)
    p, b, c, d = (_row(cells, *k) for k in [("r1", "c1"), *rect])
    up = (np.array([p, b, c, d]), np.array([2.0, -2.0, -2.0, 2.0]))
    down = (np.array([p, b, c, d]), np.array([-2.0, 2.0, 2.0, -2.0]))
    # forged further moves leaving b where it is: they break the row r1 sum
    forged_up = (np.array([p, c, d]), np.array([2.0, -2.0, 0.0]))
    forged_down = (np.array([p, c, d]), np.array([-2.0, 2.0, 0.0]))
    offered = {(p, 1): up, (p, -1): down, (p, 2): forged_up, (p, -2): forged_down}
    result = audit_table(cells, HS, singleton=True, witnesses=offered)
    assert result.details["witnesses_verified"] == 2
    assert result.details["witnesses_rejected"] == 2
    assert not result.safe
    assert list(result.failures["failure"]) == ["singleton"]


def test_further_moves_that_leave_each_insider_unmoved_clear_the_singleton_check() -> None:
    hidden = [("r1", "c2"), ("r1", "c3"), ("r2", "c1"), ("r2", "c2"), ("r2", "c3")]
    contributors = {("r1", "c2"): 1}  # an outside insider of the primary's row
    cells = _cells(hidden, contributors)
    p, b, e, c, d, f = (_row(cells, *k) for k in [("r1", "c1"), *hidden])
    # the first moves go through the insider's cell b, the further ones around it (via e)
    witnesses = {
        (p, 1): (np.array([p, b, c, d]), np.array([2.0, -2.0, -2.0, 2.0])),
        (p, -1): (np.array([p, b, c, d]), np.array([-2.0, 2.0, 2.0, -2.0])),
        (p, 2): (np.array([p, e, c, f]), np.array([2.0, -2.0, -2.0, 2.0])),
        (p, -2): (np.array([p, e, c, f]), np.array([-2.0, 2.0, 2.0, -2.0])),
    }
    first = {k: v for k, v in witnesses.items() if abs(k[1]) == 1}
    partial = audit_table(cells, HS, singleton=True, witnesses=first)
    full = audit_table(cells, HS, singleton=True, witnesses=witnesses)
    assert full.details["witnesses_verified"] == 4
    assert partial.safe and full.safe
    assert full.lp_count < partial.lp_count  # the singleton stage solved nothing


def _fast_from_hypercubes(seed: int, singleton: bool) -> tuple[list[Hierarchy], SecondaryResult]:
    """`fast` (hypercube start forced) on a random 3-D table with 3 primaries; with
    ``singleton``, about a fifth of the cells get a single contributor."""
    rng = np.random.default_rng(seed)
    hs = [tree("a", [2, 2]), tree("b", [3]), tree("c", [2])]
    leaf = np.round(rng.lognormal(3, 1, size=[len(h.leaves) for h in hs])) + 1
    cells = make_cells(hs, leaf)
    primary = rng.choice(np.flatnonzero(cells["value"].to_numpy() > 0), 3, replace=False)
    cells.loc[primary, "status"] = "primary"
    for col in ("lower_protection", "upper_protection"):
        cells.loc[primary, col] = 0.2 * cells.loc[primary, "value"]
    if singleton:
        ones = rng.random(len(cells)) < 0.2
        cells.loc[ones, ["contributors", "records"]] = 1
    old = fast_module.HYPERCUBE_MIN_CELLS
    fast_module.HYPERCUBE_MIN_CELLS = 0
    try:
        res = protect_secondary(cells, hs, SuppressionSpec(method="fast", singleton=singleton))
    finally:
        fast_module.HYPERCUBE_MIN_CELLS = old
    return hs, res


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), singleton=st.booleans())
def test_the_fast_methods_witnesses_all_verify_and_keep_the_verdict(
    seed: int, singleton: bool
) -> None:
    hs, res = _fast_from_hypercubes(seed, singleton)
    assert res.witnesses
    plain = audit_table(res.cells, hs, singleton=singleton, intervals="check")
    offered = audit_table(
        res.cells, hs, singleton=singleton, intervals="check", witnesses=res.witnesses
    )
    assert offered.details["witnesses_rejected"] == 0
    assert offered.details["witnesses_verified"] == len(res.witnesses)
    assert plain.safe and offered.safe
    assert offered.lp_count <= plain.lp_count


@pytest.mark.parametrize("seed", [1, 3, 11])
def test_the_repairs_insider_moves_are_offered_and_spare_the_singleton_lps(seed: int) -> None:
    hs, res = _fast_from_hypercubes(seed, singleton=True)
    further = {k: v for k, v in res.witnesses.items() if abs(k[1]) >= 2}
    moves_only = {k: v for k, v in res.witnesses.items() if abs(k[1]) == 1}
    assert further  # the repair proved insider pairs and handed over its moves
    before = audit_table(res.cells, hs, singleton=True, intervals="check", witnesses=moves_only)
    after = audit_table(res.cells, hs, singleton=True, intervals="check", witnesses=res.witnesses)
    assert after.details["witnesses_rejected"] == 0
    assert before.safe and after.safe
    assert after.lp_count < before.lp_count
