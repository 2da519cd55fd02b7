"""Hot and cold demands: the checks between MIP rounds find only valid cuts, and in turn.

Hot rounds check the demands some cut was found for; cold checks, beside a MIP round,
the others a share at a time. Their cuts must hold for every safe pattern (here
`fast`'s, audited independently), each cold demand must be reached before any is checked
again, and the checks must stop with the round. Before the start's repair, a round cut
short near its bound gives its pattern, and a round gets as long as the last one took.
"""

from __future__ import annotations

import time
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import audited_fast, problem_of, random_table, with_pattern
from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.secondary import background, optimal
from fivesafes.sdc.secondary import hot as hot_module
from fivesafes.sdc.secondary.background import TwinModels
from fivesafes.sdc.secondary.cut_model import CutModel
from fivesafes.sdc.secondary.hot import ColdDemands, closer_guess, hot_cuts
from fivesafes.sdc.secondary.model import BoolArray, Cut, Problem


def _table(seed: int, singleton: bool = True) -> tuple[pd.DataFrame, list[Hierarchy], Problem]:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2], [2], [3]], n_primary=5)
    return df, hs, problem_of(df, hs, singleton=singleton)


def _hold_for_a_safe_pattern(
    df: pd.DataFrame, hs: list[Hierarchy], problem: Problem, cuts: list[Cut], singleton: bool
) -> None:
    safe = audited_fast(df, hs, problem, singleton=singleton)
    for cut in cuts:
        assert cut.lhs(safe) >= cut.rhs - 1e-6 * max(1.0, cut.rhs)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), singleton=st.booleans(), share=st.floats(0.2, 0.8))
def test_hot_cuts_belong_to_hot_demands_and_hold_for_a_safe_pattern(
    seed: int, singleton: bool, share: float
) -> None:
    df, hs, problem = _table(seed, singleton)
    rng = np.random.default_rng(seed)
    demands = [(p, d) for p, d, _ in problem.targets()]
    hot = {t for t in demands if rng.random() < share} or {demands[0]}
    cuts = hot_cuts(problem, problem.forced.copy(), hot, time.monotonic() + 60)
    assert {(c.primary, c.direction) for c in cuts} <= hot
    _hold_for_a_safe_pattern(df, hs, problem, cuts, singleton)


def test_a_hot_round_past_its_deadline_stops_without_raising() -> None:
    _, _, problem = _table(4)
    hot = {(p, d) for p, d, _ in problem.targets()}
    assert hot_cuts(problem, problem.forced.copy(), hot, time.monotonic() - 1.0) == []


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    share=st.integers(1, 7),
    hot_share=st.floats(0.0, 0.7),
    later=st.floats(0.0, 0.7),
)
def test_cold_shares_reach_every_cold_demand_once_before_any_again(
    seed: int, share: int, hot_share: float, later: float
) -> None:
    _, _, problem = _table(seed % 50)
    rng = np.random.default_rng(seed)
    demands = [(p, d) for p, d, _ in problem.targets()]
    hot = {t for t in demands if rng.random() < hot_share}
    cold = ColdDemands(problem, share=share)
    for _ in range(2):  # a hot set that grows between cycles
        n_cold = len([t for t in demands if t not in hot])
        given_out: list[tuple[int, int]] = []
        for _ in range(-(-n_cold // share)):
            got = cold.next_share(hot)
            assert not set(got) & hot
            assert len(got) == min(share, n_cold)  # the whole queue is looked through
            given_out += got
        # one cycle: every cold demand exactly once (the last share may wrap around)
        assert set(given_out) == {t for t in demands if t not in hot}
        assert len(set(given_out[:n_cold])) == n_cold
        hot |= {t for t in demands if rng.random() < later}
    if len(hot) == len(demands):
        assert cold.next_share(hot) == []


class _Round:
    """A MIP round solving in the background for ``polls`` looks at ``running``."""

    def __init__(self, polls: int) -> None:
        self.polls = polls
        self.cuts: list[Cut] = []

    @property
    def running(self) -> bool:
        self.polls -= 1
        return self.polls >= 0

    def add(self, cuts: list[Cut]) -> int:
        self.cuts += cuts
        return len(cuts)


@pytest.mark.parametrize("polls", [0, 1, 3])
def test_cold_checks_run_while_the_round_solves_and_their_cuts_hold(
    polls: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    df, hs, problem = _table(7)
    shares: list[set[tuple[int, int]]] = []

    def spy(problem: Problem, pattern: BoolArray, demands: set[tuple[int, int]], *a: Any) -> Any:
        shares.append(set(demands))
        return hot_cuts(problem, pattern, demands, *a)

    monkeypatch.setattr(hot_module, "hot_cuts", spy)
    hot: set[tuple[int, int]] = set()
    mip = _Round(polls)
    cold = ColdDemands(problem, share=2)
    new = cold.while_running(
        cast(TwinModels, mip), problem.forced.copy(), hot, time.monotonic() + 60
    )
    assert len(shares) == polls  # one share per look while the round solves, none after
    assert new == len(mip.cuts)
    found = {(c.primary, c.direction) for c in mip.cuts}
    assert found <= set().union(*shares) if shares else not found
    assert found <= hot  # a demand a cut was found for turns hot
    _hold_for_a_safe_pattern(df, hs, problem, mip.cuts, True)


def test_cold_checks_stop_at_the_deadline() -> None:
    _, _, problem = _table(7)
    mip = _Round(100)
    hot: set[tuple[int, int]] = set()
    cold = ColdDemands(problem, share=2)
    assert cold.while_running(cast(TwinModels, mip), problem.forced, hot, time.monotonic()) == 0
    assert mip.polls == 99 and not hot


class _Rounds:
    """One core's model: each solve returns ``answers`` in turn (pattern, bound, finished)."""

    parallel = False

    def __init__(self, answers: list[tuple[BoolArray | None, float, bool]], sleep: float = 0.0):
        self.answers = answers
        self.sleep = sleep
        self.seconds: list[float] = []

    def add(self, cuts: list[Cut]) -> int:
        return len(cuts)

    def solve(self, start: object, seconds: float, gap: float) -> tuple[Any, float, bool]:
        self.seconds.append(seconds)
        if len(self.seconds) == 1:
            time.sleep(self.sleep)
        return self.answers[min(len(self.seconds), len(self.answers)) - 1]


@pytest.mark.parametrize("near", [True, False])
def test_a_round_cut_short_gives_its_pattern_only_near_its_bound(
    near: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hot_module, "PRE_HOT_ABOVE", 0.0)  # rounds before the start, always
    _, _, problem = _table(3)
    first = problem.forced.copy()
    cut_short = problem.forced | (problem.cost > np.median(problem.cost))
    cost = float(problem.cost[cut_short & ~problem.forced].sum())
    mip_bound = cost * (0.99 if near else 0.5)
    mip = _Rounds([(cut_short, mip_bound, False)])
    guess, bound, _ = closer_guess(
        problem, cast(TwinModels, mip), first, set(), time.monotonic(), 60.0, 0.02
    )
    assert bound == mip_bound  # a dual bound holds, finished or not
    assert (guess is cut_short) if near else (guess is first)


def test_a_round_started_before_the_deadline_gets_as_long_as_the_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hot_module, "PRE_HOT_ABOVE", 0.0)
    monkeypatch.setattr(hot_module, "PRE_HOT_SHARE", 1.0)
    _, _, problem = _table(3)
    pattern = problem.forced.copy()  # every round's: its hot demands keep finding cuts
    mip = _Rounds([(pattern, 0.0, True), (None, 0.0, False)], sleep=1.0)
    closer_guess(problem, cast(TwinModels, mip), pattern, set(), time.monotonic(), 1.3, 0.02)
    assert len(mip.seconds) == 2, "the second round should start before the deadline"
    assert mip.seconds[1] >= 0.95  # the first took a second; under 0.3 s were left


def test_a_run_with_cold_checks_beside_its_rounds_ends_proven_and_safe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # two cores, rounds before the start, each MIP round slowed so that the cold checks
    # run beside it: the method still ends proven optimal on a pattern the independent
    # audit finds safe against insiders too
    monkeypatch.setattr(background, "cores", lambda: 2)
    monkeypatch.setattr(hot_module, "PRE_HOT_ABOVE", 0.0)
    solve = CutModel.solve

    def slow(self: CutModel, *a: Any, **k: Any) -> Any:
        time.sleep(0.2)
        return solve(self, *a, **k)

    monkeypatch.setattr(CutModel, "solve", slow)
    shares: list[list[tuple[int, int]]] = []
    next_share = ColdDemands.next_share

    def spy(self: ColdDemands, hot: set[tuple[int, int]]) -> list[tuple[int, int]]:
        shares.append(next_share(self, hot))
        return shares[-1]

    monkeypatch.setattr(ColdDemands, "next_share", spy)
    monkeypatch.setattr(hot_module, "COLD_SHARE", 2)
    df, hs, problem = _table(13)
    res = optimal.protect_optimal(problem, None, time_limit=60)
    assert any(shares), "no cold check ran beside a round"
    assert all(len(s) <= 2 for s in shares)
    assert res.status == "optimal"
    assert audit_table(with_pattern(df, problem, res.hidden), hs, singleton=True).safe
