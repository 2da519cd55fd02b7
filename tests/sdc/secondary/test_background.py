"""The MIP solving in the background keeps every cut and every bound honest.

While the rounds' model solves in a thread, cuts the main thread finds go to the
shrink's twin at once and to the rounds' model once its solve is collected: none may
be lost (a lost cut lets a later round return a pattern it should have excluded, and
its bound stays valid but weak). The rounds run during a repair must return a bound no
safe pattern undercuts (brute force) and a pattern that meets every cut they took in.
"""

from __future__ import annotations

import threading
import time
from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import cheapest_safe_cost, problem_of, random_table, with_pattern
from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.secondary import background, hot, optimal
from fivesafes.sdc.secondary.attacker import separate
from fivesafes.sdc.secondary.background import Pending, TwinModels, rounds_while
from fivesafes.sdc.secondary.cut_model import CutModel
from fivesafes.sdc.secondary.model import Cut, Problem, relation_cuts


def _cuts(seed: int) -> tuple[Problem, list[Cut]]:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2], [2], [3]], n_primary=6)
    problem = problem_of(df, hs, singleton=True)
    cuts, _ = separate(problem, problem.forced.copy())
    return problem, cuts


def test_cuts_found_while_the_main_model_solves_reach_it_when_collected() -> None:
    problem, cuts = _cuts(5)
    assert cuts
    models = TwinModels(problem)
    rows = models.main.h.getNumRow()
    models.start(partial(CutModel.bound_only, seconds=0.5))
    assert models.busy
    new = models.add(cuts)
    assert new > 0
    assert models.twin.h.getNumRow() == rows + new  # the twin has them at once
    bound = models.collect()
    assert isinstance(bound, float) and not models.busy
    assert models.main.h.getNumRow() == rows + new  # and the rounds' model once collected
    assert models.add(cuts) == 0  # neither model takes a cut twice


def test_a_solve_asked_while_one_runs_waits_for_it_rather_than_sharing_the_model() -> None:
    problem, cuts = _cuts(7)
    models = TwinModels(problem)
    models.add(relation_cuts(problem) + cuts)
    models.start(partial(CutModel.bound_only, seconds=0.5))
    pattern, _, finished = models.solve(None, 10.0, 0.0)  # collects first
    assert not models.busy and pattern is not None and finished
    for cut in cuts:  # the pattern meets every cut it was given
        assert cut.lhs(pattern | problem.forced) >= cut.rhs - 1e-6 * max(1.0, cut.rhs)


def test_an_error_in_the_background_reaches_the_caller() -> None:
    def broken() -> int:
        raise RuntimeError("solver gone")

    with pytest.raises(RuntimeError, match="solver gone"):
        Pending(broken).result()
    with pytest.raises(RuntimeError, match="solver gone"):
        Pending(broken, thread=False).result()
    assert Pending(lambda: 41 + 1).result() == 42


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_rounds_during_a_repair_prove_no_more_than_the_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2], [3]], n_primary=2)
    problem = problem_of(df, hs, singleton=True)
    best = cheapest_safe_cost(
        df, problem.cost, lambda trial: audit_table(trial, hs, singleton=True).safe
    )
    models = TwinModels(problem)
    models.add(relation_cuts(problem))
    found: list[Cut] = []
    stop = threading.Event()
    models.start(lambda _: rounds_while(models, found, stop, time.monotonic() + 30, 0.0))
    cuts, _ = separate(problem, problem.forced.copy())
    for cut in cuts:  # as a repair appends them
        found.append(cut)
        time.sleep(0.01)
    stop.set()
    got = models.collect()
    assert isinstance(got, tuple)
    pattern, bound, finished = got
    assert finished == (pattern is not None)
    assert bound <= best + 1e-6 * max(1.0, best)
    assert pattern is not None


@pytest.mark.parametrize("n_cores", [1, 2])
def test_the_method_ends_proven_on_one_core_as_on_two(
    n_cores: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one core: every background solve runs at once, where it would have started; the
    # hot start (rounds during the start's repair) is skipped; the result is the same kind
    monkeypatch.setattr(background, "cores", lambda: n_cores)
    monkeypatch.setattr(hot, "PRE_HOT_ABOVE", 0.0)  # the path with rounds during the start
    rng = np.random.default_rng(13)
    df, hs = random_table(rng, [[2], [2], [3]], n_primary=6)
    problem = problem_of(df, hs, singleton=True)
    assert TwinModels(problem).parallel == (n_cores >= 2)
    res = optimal.protect_optimal(problem, None, time_limit=60)
    assert res.status == "optimal"
    assert audit_table(with_pattern(df, problem, res.hidden), hs, singleton=True).safe


def test_rounds_during_a_repair_start_none_in_the_last_second() -> None:
    # HiGHS overruns a short limit by up to a second: with under MIN_ROUND_SECONDS left,
    # after its first round, no other starts (new cuts are there, the stop never comes)
    problem, _ = _cuts(5)
    models = TwinModels(problem)  # no cut yet: the first round's pattern hides nothing
    found: list[Cut] = []
    solves: list[float] = []
    solve = models.main.solve

    def counting(start: object, seconds: float, gap: float) -> tuple[object, float, bool]:
        solves.append(seconds)
        if len(solves) == 1:
            found.extend(relation_cuts(problem))  # what a repair found meanwhile
        return solve(None, seconds, gap)

    models.main.solve = counting  # type: ignore[method-assign,assignment]
    began = time.monotonic()
    end = began + background.MIN_ROUND_SECONDS / 2
    got = rounds_while(models, found, threading.Event(), end, 0.0)
    assert len(solves) == 1 and isinstance(got, tuple)
    assert time.monotonic() < end + 0.5
