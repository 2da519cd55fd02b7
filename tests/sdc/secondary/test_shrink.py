"""The root's insider cuts keep the bound valid; shrink and the rounded start stay safe.

Brute force: every pattern of complements, cheapest first, audited by the independent
audit with the singleton check (``fivesafes.sdc.audit.audit_table``), on tables small
enough to enumerate; the first safe one is the optimum under insider attackers.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import audited_fast, cheapest_safe_cost, random_table
from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.secondary import protect_secondary
from fivesafes.sdc.secondary.cut_model import CutModel
from fivesafes.sdc.secondary.fast import protect_fast
from fivesafes.sdc.secondary.model import relation_cuts
from fivesafes.sdc.secondary.optimal import protect_optimal
from fivesafes.sdc.secondary.problem import build_problem
from fivesafes.sdc.secondary.protect import apply_pattern
from fivesafes.sdc.secondary.root import root_cuts
from fivesafes.sdc.secondary.shrink import shrink
from fivesafes.sdc.spec import SuppressionSpec


def _optimum_with_insiders(df: pd.DataFrame, hs: list[Hierarchy], cost: np.ndarray) -> float:
    """The least cost of complements the audit finds safe against insiders too."""
    return cheapest_safe_cost(df, cost, lambda trial: audit_table(trial, hs, singleton=True).safe)


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 2))
def test_the_root_bound_with_insider_cuts_never_exceeds_the_optimum(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2], [3]], n_primary=k)
    spec = SuppressionSpec(method="optimal", singleton=True)
    problem = build_problem(df, build_structure(df, hs), spec, frequency=False)
    best = _optimum_with_insiders(df, hs, problem.cost)
    tol = 1e-6 * max(1.0, best)
    mip = CutModel(problem)
    mip.add(relation_cuts(problem))
    root, _, _ = root_cuts(problem, mip, time.monotonic() + 30)
    assert root <= best + tol  # the relaxation with every root cut is a lower bound
    res = protect_secondary(df, hs, spec)
    assert res.bound is not None
    assert res.bound <= best + tol
    assert res.objective >= best - tol
    assert audit_table(res.cells, hs, singleton=True).safe


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10_000), singleton=st.booleans())
def test_3d_optimal_from_its_rounded_start_is_safe_and_bounded(seed: int, singleton: bool) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2], [2], [3]], n_primary=5)
    spec = SuppressionSpec(method="optimal", singleton=singleton, time_limit=20)
    res = protect_secondary(df, hs, spec)
    assert audit_table(res.cells, hs, singleton=singleton).safe
    assert res.bound is not None
    # another safe pattern (fast's, audited) can never cost less than a valid bound
    structure = build_structure(df, hs)
    problem = build_problem(df, structure, spec, frequency=False)
    other = audited_fast(df, hs, problem, singleton=singleton)
    tol = 1e-6 * max(1.0, res.objective)
    assert res.bound <= problem.pattern_cost(other) + tol
    assert res.bound <= res.objective + tol


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), extra=st.integers(2, 8))
def test_shrink_returns_a_safe_pattern_no_dearer_than_its_input(seed: int, extra: int) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2], [2], [2]], n_primary=3)
    spec = SuppressionSpec(method="optimal", singleton=True)
    structure = build_structure(df, hs)
    problem = build_problem(df, structure, spec, frequency=False)
    safe, _, _ = protect_fast(problem, structure)
    # a superset of a safe pattern is safe; shrink should give the extra cells back
    more = safe.copy()
    more[rng.choice(len(df), size=extra, replace=False)] = True
    more &= ~problem.fixed
    mip = CutModel(problem)
    mip.add(relation_cuts(problem))
    smaller, _ = shrink(problem, mip, more, time.monotonic() + 30)
    assert problem.pattern_cost(smaller) <= problem.pattern_cost(more) + 1e-9
    assert audit_table(apply_pattern(df, problem, smaller), hs, singleton=True).safe


def test_protect_optimal_without_a_start_repairs_the_rounded_root() -> None:
    rng = np.random.default_rng(3)
    df, hs = random_table(rng, [[2], [2], [3]], n_primary=6)
    spec = SuppressionSpec(method="optimal", singleton=True)
    problem = build_problem(df, build_structure(df, hs), spec, frequency=False)
    out = protect_optimal(problem, None, time_limit=10)
    assert out.bound <= out.cost + 1e-6
    assert audit_table(apply_pattern(df, problem, out.hidden), hs, singleton=True).safe
