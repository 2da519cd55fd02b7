"""`optimal`'s hot rounds, its closing bound and its merged shrink keep the promise.

Hot rounds check only the demands some cut was found for; their cuts must be valid for
every safe pattern and the method must still end on a pattern the whole repair proved.
The closing exact MIP gives a bound that must never exceed the optimum; the shrink over
two safe patterns' cells must return a safe one. Each is checked against the independent
audit (singleton check on) and, where small enough, the brute-force optimum.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import audited_fast, cheapest_safe_cost, random_table
from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.secondary import hot, optimal, protect_secondary
from fivesafes.sdc.secondary.cut_model import CutModel
from fivesafes.sdc.secondary.fast import protect_fast
from fivesafes.sdc.secondary.model import Problem, relation_cuts
from fivesafes.sdc.secondary.problem import build_problem
from fivesafes.sdc.secondary.protect import apply_pattern
from fivesafes.sdc.secondary.result import SecondaryResult
from fivesafes.sdc.secondary.root import root_cuts
from fivesafes.sdc.secondary.shrink import shrink
from fivesafes.sdc.spec import SuppressionSpec


def _problem(df: pd.DataFrame, hs: list[Hierarchy], singleton: bool) -> Problem:
    spec = SuppressionSpec(method="optimal", singleton=singleton)
    return build_problem(df, build_structure(df, hs), spec, frequency=False)


def _bound_under_fast(df: pd.DataFrame, hs: list[Hierarchy], res: SecondaryResult) -> None:
    """The bound undercuts no safe pattern: `fast`'s, audited independently."""
    problem = _problem(df, hs, True)
    other = audited_fast(df, hs, problem, singleton=True)
    assert res.bound is not None
    assert res.bound <= problem.pattern_cost(other) + 1e-6 * max(1.0, res.objective)


@pytest.mark.parametrize("seed", [3, 11, 29])
@pytest.mark.parametrize("schedule", ["many hot rounds", "only hot rounds", "hot start"])
def test_hot_rounds_end_on_a_pattern_the_whole_repair_proved(
    seed: int, schedule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # many hot rounds between whole repairs, or (a whole repair never "fits") none but
    # hot rounds after the start, or hot rounds before the start's repair too: the
    # method ends proven optimal, on a pattern the independent audit finds safe against
    # insiders too
    monkeypatch.setattr(optimal, "HOT_ROUNDS", 50)
    if schedule == "only hot rounds":
        monkeypatch.setattr(optimal, "SHRINK_SHARE", 10.0)
    if schedule == "hot start":  # hot rounds before the start's repair, whatever its size
        monkeypatch.setattr(hot, "PRE_HOT_ABOVE", 0.0)
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2], [2], [3]], n_primary=6)
    res = protect_secondary(df, hs, SuppressionSpec(method="optimal", time_limit=60))
    assert res.solver_status == "optimal" and res.gap is not None and res.gap < 1e-6
    assert audit_table(res.cells, hs, singleton=True).safe
    _bound_under_fast(df, hs, res)  # its bound undercuts no safe pattern


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 2))
def test_the_exact_mips_bound_never_exceeds_the_optimum(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2], [3]], n_primary=k)
    problem = _problem(df, hs, True)
    best = cheapest_safe_cost(
        df, problem.cost, lambda trial: audit_table(trial, hs, singleton=True).safe
    )
    mip = CutModel(problem)
    mip.add(relation_cuts(problem))
    root_cuts(problem, mip, time.monotonic() + 30)
    assert mip.bound_only(10.0) <= best + 1e-6 * max(1.0, best)


@pytest.mark.parametrize("seed", [1, 8, 21, 34])
def test_a_method_closing_on_the_bound_keeps_a_safe_pattern_above_it(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every round "too late": a 3-D table keeps its start and spends the rest on the
    # exact MIP's bound, which no safe pattern (fast's, audited) may undercut
    monkeypatch.setattr(optimal, "FINAL_SHARE", 2.0)
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2], [2], [3]], n_primary=5)
    res = protect_secondary(df, hs, SuppressionSpec(method="optimal", time_limit=5))
    assert audit_table(res.cells, hs, singleton=True).safe
    problem = _problem(df, hs, True)
    other = audited_fast(df, hs, problem, singleton=True)
    tol = 1e-6 * max(1.0, res.objective)
    assert res.bound is not None
    assert res.bound <= min(res.objective, problem.pattern_cost(other)) + tol


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_a_shrink_over_two_safe_patterns_returns_a_safe_one(seed: int) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2], [2], [2]], n_primary=3)
    problem = _problem(df, hs, True)
    first, _, _ = protect_fast(problem, build_structure(df, hs))
    # more cells the restricted MIP may take (their union with the first is not safe
    # as such: what shrink returns must be proved so by its own repair)
    second = first | (rng.random(len(df)) < 0.5) & ~problem.fixed
    mip = CutModel(problem)
    mip.add(relation_cuts(problem))
    got, _ = shrink(problem, mip, first, time.monotonic() + 30, allowed=second)
    assert problem.pattern_cost(got) <= problem.pattern_cost(first) + 1e-9
    assert audit_table(apply_pattern(df, problem, got), hs, singleton=True).safe


@settings(max_examples=20, deadline=None)
@given(remaining=st.floats(0.01, 100.0), limit=st.floats(1.0, 100.0), loose=st.booleans())
def test_the_round_before_the_closing_phase_is_given_the_rest_of_the_limit(
    remaining: float, limit: float, loose: bool
) -> None:
    remaining = min(remaining, limit)
    seconds, last = optimal._next_round(remaining, limit, loose)
    assert 0.0 < seconds <= remaining
    ordinary = optimal._round_seconds(remaining, limit)
    # last exactly when a loose round would otherwise leave only the closing phase
    assert last == (loose and remaining - ordinary < optimal.FINAL_SHARE * limit)
    assert seconds == (remaining if last else ordinary)


@pytest.mark.parametrize("seed", [2, 5, 13])
def test_the_last_round_solves_to_the_end_and_the_method_still_ends_proven(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every repaired pattern is shrunk (its next round solves in the background) and the
    # closing phase starts half-way: each such round is a last one. It must be given the
    # rest of the limit and solve exactly; when it ends early, the loop must go on with its
    # pattern to the proof (these tables are proven optimal in seconds; the limit leaves
    # room for a loaded machine: at 20 s one was not, under two CI runs at once)
    monkeypatch.setattr(optimal, "SHRINK_ABOVE", 0.0)
    monkeypatch.setattr(optimal, "FINAL_SHARE", 0.5)
    calls: list[tuple[float, float, float]] = []
    solve = CutModel.solve

    def recording(
        self: CutModel, start: np.ndarray | None, seconds: float, gap: float
    ) -> tuple[np.ndarray | None, float, bool]:
        if threading.current_thread() is not threading.main_thread():
            calls.append((time.monotonic(), seconds, gap))
        return solve(self, start, seconds, gap)

    monkeypatch.setattr(CutModel, "solve", recording)
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2, 2], [2], [3]], n_primary=10)
    limit = 120.0
    began = time.monotonic()
    res = protect_secondary(df, hs, SuppressionSpec(method="optimal", time_limit=limit))
    assert calls, "no round solved in the background: the test missed its path"
    for at, seconds, gap in calls:
        assert at + seconds == pytest.approx(began + limit, abs=1.0)
        assert gap == 0.0  # exact, its bound rising to the end (not stopped at the rounds' gap)
    assert res.solver_status == "optimal" and res.gap is not None and res.gap < 1e-6
    assert audit_table(res.cells, hs, singleton=True).safe
    _bound_under_fast(df, hs, res)
