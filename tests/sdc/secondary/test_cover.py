"""The repair's cover: the plain greedy, and the one that prices a cell's partners.

A cut credits a cell with its room whatever its other relations; a cell hidden alone in
a relation cannot move (the attacker reads it off that relation). The priced cover
charges each such relation its cheapest partner, so it prefers a cell that can move.
Whatever the cover, a repair ends only when the LPs prove every demand: the property
test holds its patterns to the independent audit.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_table, problem_of, random_table, with_pattern
from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.secondary import hot, optimal
from fivesafes.sdc.secondary import shrink as shrink_module
from fivesafes.sdc.secondary.cut_model import CutModel
from fivesafes.sdc.secondary.model import UP, Cut, Problem, relation_cuts
from fivesafes.sdc.secondary.repair import cover, partner_costs, repair
from fivesafes.sdc.synthetic import balanced_tree as tree


def _square() -> tuple[pd.DataFrame, Problem]:
    """A 3 x 3 table with totals; the primary at (a0, b0), values chosen per test below."""
    hs = [tree("a", [3]), tree("b", [3])]
    values = {(f"a{i}", f"b{j}"): 50.0 for i in range(3) for j in range(3)}
    values[("a0", "b0")] = 30.0  # the primary
    values[("a1", "b1")] = 10.0  # can move: a hidden cell in each of its relations
    values[("a2", "b2")] = 9.0  # cheaper, but alone in both of its relations
    df = make_table(hs, values)
    p = _at(df, "a0", "b0")
    df.loc[p, ["status", "rule"]] = ["primary", "test"]
    df.loc[p, ["lower_protection", "upper_protection"]] = [6.0, 6.0]
    return df, problem_of(df, hs, singleton=False)


def _at(df: pd.DataFrame, a: str, b: str) -> int:
    return int(np.flatnonzero((df["a"] == a) & (df["b"] == b))[0])


def _hidden(df: pd.DataFrame, problem: Problem) -> np.ndarray:
    hidden = problem.forced.copy()
    hidden[_at(df, "a0", "b1")] = True
    hidden[_at(df, "a1", "b0")] = True
    return hidden


def test_a_cell_alone_in_its_relations_is_charged_its_cheapest_partners() -> None:
    df, problem = _square()
    hidden = _hidden(df, problem)
    movable, lonely = _at(df, "a1", "b1"), _at(df, "a2", "b2")
    costs = partner_costs(problem, np.array([movable, lonely]), hidden)
    assert costs[0] == 0.0
    # row a2: (a2,b0), (a2,b1) cost 50, the total (a2,T) 159; column b2 the same
    assert costs[1] == pytest.approx(problem.cost[_at(df, "a2", "b0")] * 2)


def test_the_priced_cover_takes_the_cell_that_can_move() -> None:
    df, problem = _square()
    movable, lonely = _at(df, "a1", "b1"), _at(df, "a2", "b2")
    cut = Cut(
        cells=np.array([movable, lonely]),
        coef=np.array([1.0, 1.0]),
        rhs=1.0,
        primary=_at(df, "a0", "b0"),
        direction=UP,
    )
    plain = _hidden(df, problem)
    assert cover(problem, cut, plain) == [lonely]  # the cheaper cell, which cannot move
    assert plain[lonely]
    priced = _hidden(df, problem)
    assert cover(problem, cut, priced, partners=True) == [movable]
    assert priced[movable] and not priced[lonely]


def test_a_relation_with_no_other_cell_to_hide_makes_a_cell_unable_to_move() -> None:
    df, problem = _square()
    hidden = _hidden(df, problem)
    lonely = _at(df, "a2", "b2")
    fixed = problem.fixed.copy()
    row = [_at(df, "a2", code) for code in ("b0", "b1", "T")]
    fixed[row] = True  # e.g. structural zeros: never hidden
    stuck = replace(problem, fixed=fixed)
    assert math.isinf(partner_costs(stuck, np.array([lonely]), hidden)[0])


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    fans=st.sampled_from([[[3], [4]], [[2, 2], [3]], [[2], [2], [3]]]),
    singleton=st.booleans(),
)
def test_a_repair_with_the_priced_cover_is_safe_by_the_audit(
    seed: int, fans: list[list[int]], singleton: bool
) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, fans, n_primary=3, zero_share=0.1)
    problem = problem_of(df, hs, singleton=singleton)
    start = problem.forced.copy()
    fixed, _, _ = repair(problem, start, partners=True)
    assert (fixed >= start).all()  # a repair only hides more
    assert not (fixed & problem.fixed & ~problem.forced).any()
    assert audit_table(with_pattern(df, problem, fixed), hs, singleton=singleton).safe


def _recording(monkeypatch: pytest.MonkeyPatch, module: object, seen: list[bool]) -> None:
    """Record the ``partners`` flag of every call of ``module.repair``."""
    real = repair

    def recorded(*args: object, **kwargs: object) -> tuple[np.ndarray, int, int]:
        seen.append(bool(kwargs.get("partners", False)))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "repair", recorded)


def test_the_shrink_repairs_with_the_priced_cover(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    df, hs = random_table(rng, [[2], [2], [2]], n_primary=3)
    problem = problem_of(df, hs, singleton=True)
    safe, _, _ = repair(problem, problem.forced.copy())
    more = safe | (rng.random(len(df)) < 0.3) & ~problem.fixed
    mip = CutModel(problem)
    mip.add(relation_cuts(problem))
    seen: list[bool] = []
    _recording(monkeypatch, shrink_module, seen)
    smaller, _ = shrink_module.shrink(problem, mip, more, time.monotonic() + 30)
    assert seen and all(seen)
    assert audit_table(with_pattern(df, problem, smaller), hs, singleton=True).safe


@pytest.mark.parametrize("long_repair", [True, False])
def test_optimal_prices_partners_in_the_start_only_when_hot_rounds_ran_before_it(
    long_repair: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # after hot rounds the start's repair is the only whole one the minute holds (its
    # pattern matters most); elsewhere the plain cover's longer way teaches the MIP more
    if long_repair:
        monkeypatch.setattr(hot, "PRE_HOT_ABOVE", 0.0)  # hot rounds whatever the size
    seen: list[bool] = []
    _recording(monkeypatch, optimal, seen)
    rng = np.random.default_rng(11)
    df, hs = random_table(rng, [[2], [2], [3]], n_primary=6)
    problem = problem_of(df, hs, singleton=True)
    out = optimal.protect_optimal(problem, None, time_limit=30)
    assert seen[0] is long_repair  # the start's repair
    assert not any(seen[1:])  # the loop's
    assert audit_table(with_pattern(df, problem, out.hidden), hs, singleton=True).safe
