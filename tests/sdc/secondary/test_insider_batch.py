"""Insider proofs in batch (class rounds) and by groups: never a pair the exact LP refutes.

Each pair (demand, insider's cell) that :func:`batch.certify` or ``repair._coalition``
marks proved is checked by the per-demand LP on every hidden cell with that insider's
cell known; a proof that LP refutes would let ``fast`` keep a pattern an insider breaks.
"""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import random_table
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.secondary import batch
from fivesafes.sdc.secondary.attacker import Attacker, singleton_pins
from fivesafes.sdc.secondary.batch import _classes, certify
from fivesafes.sdc.secondary.fast import relation_phase
from fivesafes.sdc.secondary.model import UP, Problem, met
from fivesafes.sdc.secondary.pairs import PairSet
from fivesafes.sdc.secondary.problem import build_problem
from fivesafes.sdc.secondary.repair import _coalition
from fivesafes.sdc.spec import SuppressionSpec


def _insider_case(seed: int, fans: list[list[int]]) -> tuple[Problem, np.ndarray]:
    """A table where many primaries (and some other cells) have one contributor."""
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, fans, n_primary=8)
    primary = (df["status"] == "primary").to_numpy()
    singles = (primary & (rng.random(len(df)) < 0.6)) | (rng.random(len(df)) < 0.2)
    df.loc[singles & (df["contributors"] > 0), "contributors"] = 1
    problem = build_problem(
        df, build_structure(df, hs), SuppressionSpec(singleton=True), frequency=False
    )
    hidden = relation_phase(problem, problem.forced.copy())
    # more hidden cells: room enough for most insider pairs, so that rounds prove some
    hidden |= (rng.random(problem.n) < 0.3) & ~problem.fixed
    return problem, hidden


def _refuted(
    problem: Problem, hidden: np.ndarray, pairs: set[tuple[int, int, int]]
) -> list[tuple[int, int, int]]:
    att = Attacker(problem, hidden)
    everything = np.flatnonzero(hidden).astype(np.int64)
    req = {(p, d): r for p, d, r in problem.targets()}
    bad = []
    for p, d, q in sorted(pairs):
        reach, pi, _, _ = att.reach(p, d, everything, q)
        if pi is not None and not met(reach, req[(p, d)]):
            bad.append((p, d, q))
    return bad


def _proved(how: str, problem: Problem, hidden: np.ndarray) -> set[tuple[int, int, int]]:
    """The insider pairs the class rounds (``rounds``) or the group LPs (``groups``) prove."""
    att = Attacker(problem, hidden)
    targets = problem.targets()
    pairs = PairSet()
    if how == "rounds":
        pins_of = {p: singleton_pins(att, p) for p, _, _ in targets}
        with patch.object(batch, "MIN_DEMANDS", 0):
            certify(problem, hidden, targets, pins_of, set(), pairs)
    else:
        for p, d, req in targets:
            _coalition(att, p, d, req, singleton_pins(att, p), pairs)
    return set(pairs)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    fans=st.sampled_from([[[2, 2], [3]], [[3], [2], [2]]]),
    how=st.sampled_from(["rounds", "groups"]),
)
def test_no_insider_pair_is_proved_that_the_exact_lp_refutes(
    seed: int, fans: list[list[int]], how: str
) -> None:
    problem, hidden = _insider_case(seed, fans)
    pairs = _proved(how, problem, hidden)
    assert _refuted(problem, hidden, pairs) == []


@pytest.mark.parametrize("how", ["rounds", "groups"])
def test_insider_pairs_are_proved_in_numbers(how: str) -> None:
    problem, hidden = _insider_case(7, [[2, 2], [3]])
    assert len(_proved(how, problem, hidden)) >= 5  # the check above is not vacuous


def test_classes_never_put_two_primaries_open_against_each_other_together() -> None:
    is_pinned = np.zeros(10, dtype=bool)
    is_pinned[[1, 2, 3, 4, 5]] = True
    todo = [(1, UP, 1.0), (2, UP, 1.0), (3, UP, 1.0), (4, UP, 1.0), (6, UP, 1.0)]
    pins_of = {1: [2, 3, 5], 2: [1, 3], 3: [1], 4: [1], 6: [1, 2]}
    pair_ok = PairSet([(1, UP, 3), (4, UP, 1)])  # proved already: no longer a conflict
    classes = _classes(todo, pins_of, pair_ok, is_pinned)
    where = {p: k for k, members in enumerate(classes) for p in members}
    assert set(where) == {1, 2, 3, 4}  # the pushed single-contributor primaries only
    for p, d, _ in todo:
        for q in pins_of.get(p, []):
            if q in where and p in where and (p, d, q) not in pair_ok:
                assert where[p] != where[q]
    assert len(classes) == 3  # 1, 2 and 3 are open against each other; 4 joins one
