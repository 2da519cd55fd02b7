"""The proven lower bound never exceeds the true optimum, and cleaned patterns stay safe.

The optimum is found by brute force over every pattern of complements (cheapest first)
with the from-scratch audit of conftest, on tables small enough to enumerate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import cheapest_safe_cost, independent_audit, random_table
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.secondary import protect_secondary
from fivesafes.sdc.secondary.bridgeless import bridgeless_rows, drop_bridges
from fivesafes.sdc.secondary.optimal import lower_bound
from fivesafes.sdc.secondary.problem import build_problem
from fivesafes.sdc.secondary.protect import apply_pattern
from fivesafes.sdc.spec import SuppressionSpec


def _optimum(df: pd.DataFrame, hs: list[Hierarchy], cost: np.ndarray) -> float:
    """The least cost of complements that the independent audit finds safe."""
    return cheapest_safe_cost(df, cost, lambda trial: independent_audit(trial, hs) == [])


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(1, 2),
    shape=st.sampled_from([[[2], [2]], [[2], [3]]]),
    cost=st.sampled_from(["value", "unit"]),
)
def test_the_bound_never_exceeds_the_brute_force_optimum(
    seed: int, k: int, shape: list[list[int]], cost: str
) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, shape, n_primary=k)
    spec = SuppressionSpec(method="optimal", singleton=False, cost=cost)  # type: ignore[arg-type]
    res = protect_secondary(df, hs, spec)
    problem = build_problem(df, build_structure(df, hs), spec, frequency=False)
    best = _optimum(df, hs, problem.cost)
    assert res.bound is not None
    tol = 1e-6 * max(1.0, best)
    assert res.bound <= best + tol  # a lower bound: never above the true optimum
    assert res.objective >= best - tol  # and no pattern is cheaper than the optimum
    assert res.objective >= res.bound - tol
    assert independent_audit(res.cells, hs) == []
    # the bound 4-D tables report their gap against (relation cuts, no attacker LPs):
    # valid, and no stronger than the one `optimal` proves with the attacker's cuts too
    relation = lower_bound(problem, 30.0)
    assert relation is not None and 0.0 <= relation <= best + tol
    assert relation <= res.bound + tol


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), extra=st.integers(1, 6))
def test_dropping_bridges_keeps_a_safe_pattern_safe(seed: int, extra: int) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2, 2], [3]], n_primary=3)
    spec = SuppressionSpec(method="fast", singleton=False)
    res = protect_secondary(df, hs, spec)
    problem = build_problem(df, build_structure(df, hs), spec, frequency=False)
    hidden = (res.cells["status"] != "safe").to_numpy().copy()
    # hiding more cells keeps a pattern safe; some of them are alone in a relation
    hidden[rng.choice(len(df), size=extra, replace=False)] = True
    more = apply_pattern(df, problem, hidden)
    assert independent_audit(more, hs) == []
    cleaned = drop_bridges(problem, hidden)
    assert cleaned.sum() <= hidden.sum()
    assert (~cleaned | hidden).all()  # only ever publishes again
    assert independent_audit(apply_pattern(df, problem, cleaned), hs) == []
    # and none is left: no free hidden cell alone in a relation
    assert bridgeless_rows(problem, cleaned.astype(float)) == []


def test_a_lone_complement_is_published_again() -> None:
    rng = np.random.default_rng(1)
    df, hs = random_table(rng, [[3], [3]], n_primary=1)
    spec = SuppressionSpec(method="optimal", singleton=False)
    problem = build_problem(df, build_structure(df, hs), spec, frequency=False)
    res = protect_secondary(df, hs, spec)
    hidden = (res.cells["status"] != "safe").to_numpy().copy()
    # a cell sharing no relation with any hidden cell is alone in each of its relations
    adjacency = problem.adjacency.toarray() > 0
    lone = next(
        i
        for i in range(len(df))
        if not hidden[i] and not (adjacency[i] & hidden).any() and df["records"].iloc[i] > 0
    )
    padded = hidden.copy()
    padded[lone] = True
    assert (drop_bridges(problem, padded) == hidden).all()


def test_auto_proves_a_bound_on_mid_size_2d_and_3d_tables_only() -> None:
    from fivesafes.sdc.secondary import choose_method

    def structure(dims: int) -> object:
        class _S:
            dimensions = tuple(f"d{i}" for i in range(dims))

        return _S()

    assert choose_method(15_000, 100, structure(3))[0] == "optimal"  # type: ignore[arg-type]
    assert choose_method(15_000, 100, structure(2))[0] == "optimal"  # type: ignore[arg-type]
    assert choose_method(15_000, 100, structure(4))[0] == "fast"  # type: ignore[arg-type]
    assert choose_method(25_000, 100, structure(3))[0] == "fast"  # type: ignore[arg-type]
    assert choose_method(2_000, 100, None)[0] == "optimal"
