"""Batch certification proves only demands the exact attacker LP also finds met."""

from __future__ import annotations

import time
from unittest.mock import patch

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import random_table
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.secondary import batch
from fivesafes.sdc.secondary.attacker import Attacker, singleton_pins
from fivesafes.sdc.secondary.batch import certify
from fivesafes.sdc.secondary.fast import relation_phase
from fivesafes.sdc.secondary.model import Problem, met
from fivesafes.sdc.secondary.pairs import PairSet
from fivesafes.sdc.secondary.problem import build_problem
from fivesafes.sdc.spec import SuppressionSpec


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), fans=st.sampled_from([[[2, 2], [3]], [[3], [2], [2]]]))
def test_every_certified_demand_and_insider_pair_is_met_by_the_exact_lp(
    seed: int, fans: list[list[int]]
) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, fans, n_primary=4)
    singles = rng.random(len(df)) < 0.3
    df.loc[singles & (df["contributors"] > 0), "contributors"] = 1
    problem = build_problem(
        df, build_structure(df, hs), SuppressionSpec(singleton=True), frequency=False
    )
    hidden = relation_phase(problem, problem.forced.copy())
    att = Attacker(problem, hidden)
    targets = problem.targets()
    pins_of = {p: singleton_pins(att, p) for p, _, _ in targets}
    outsider: set[tuple[int, int]] = set()
    pairs = PairSet()
    with patch.object(batch, "MIN_DEMANDS", 0):  # these tables have only a few
        certify(problem, hidden, targets, pins_of, outsider, pairs)
    everything = np.flatnonzero(hidden).astype(np.int64)
    req = {(p, d): r for p, d, r in targets}
    for p, d in outsider:
        reach, _, _, _ = att.reach(p, d, everything)
        assert met(reach, req[(p, d)])
    for p, d, q in pairs:
        reach, _, _, _ = att.reach(p, d, everything, q)
        assert met(reach, req[(p, d)])


def _sensible() -> tuple[Problem, np.ndarray]:
    """A 2-D table (outsiders only) and the pattern the relation phase makes of it."""
    rng = np.random.default_rng(3)
    df, hs = random_table(rng, [[3, 3], [3, 2]], n_primary=12)
    problem = build_problem(
        df, build_structure(df, hs), SuppressionSpec(singleton=False), frequency=False
    )
    return problem, relation_phase(problem, problem.forced.copy())


def test_a_sensible_pattern_is_mostly_certified_in_a_few_lps() -> None:
    problem, hidden = _sensible()
    targets = problem.targets()
    outsider: set[tuple[int, int]] = set()
    with patch.object(batch, "MIN_DEMANDS", 0):
        lps = certify(problem, hidden, targets, {}, outsider, PairSet())
    assert lps <= 2 * 8
    assert len(outsider) >= len(targets) // 2


def test_batch_rounds_past_the_deadline_solve_nothing_and_prove_nothing() -> None:
    # a repair with a deadline must not overrun it in batch rounds (1.5 s on 16,000 cells)
    problem, hidden = _sensible()
    outsider: set[tuple[int, int]] = set()
    with patch.object(batch, "MIN_DEMANDS", 0):
        late = time.monotonic() - 1.0
        assert certify(problem, hidden, problem.targets(), {}, outsider, PairSet(), None, late) == 0
    assert outsider == set()
