"""Moves around insiders (Builder.holding) and the pruning's budget of searches."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import fails, independent_audit, problem_of, random_table, with_pattern
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.secondary import hypercube_phase as phase_module
from fivesafes.sdc.secondary.fast import protect_fast
from fivesafes.sdc.secondary.hypercube_phase import hypercube_phase

FANS_4D = [[2], [2], [2], [3]]


def _singleton_table(seed: int, fans: list[list[int]]) -> tuple[pd.DataFrame, list[Hierarchy]]:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, fans, n_primary=6, zero_share=0.1)
    singles = rng.random(len(df)) < 0.3
    df.loc[singles & (df["contributors"] > 0), "contributors"] = 1
    return df, hs


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_a_move_around_insiders_proves_the_demand_against_each_it_leaves_unmoved(
    seed: int,
) -> None:
    df, hs = _singleton_table(seed, FANS_4D)
    problem = problem_of(df, hs, singleton=True)
    hidden, proofs = hypercube_phase(problem, build_structure(df, hs), problem.forced.copy())
    assert proofs.holding is not None
    table = with_pattern(df, problem, hidden)
    req = {(p, d): r for p, d, r in problem.targets()}
    audits: dict[int, list[str]] = {}
    for p, d in sorted(proofs.proved - proofs.insider_proof):
        corners, _ = proofs.witnesses[(p, d)]
        pinned = corners[problem.pinned[corners] & (corners != p)]
        insiders = pinned[problem.outsiders(p, pinned)].tolist()
        for cells, move in proofs.holding(p, d, insiders):
            z = np.zeros(problem.n)
            z[cells] = move
            assert np.abs(problem.relations @ z).max() < 1e-9  # a move of the attacker
            assert hidden[cells[move != 0]].all()  # of cells the phase hid
            assert (move <= problem.up[cells] + 1e-9).all()
            assert (-move <= problem.down[cells] + 1e-9).all()
            assert d * z[p] >= req[(p, d)] * (1 - 1e-9)
            unmoved = [q for q in insiders if z[q] == 0]
            assert unmoved  # it goes around at least one of them
            for q in unmoved:  # ... and that insider cannot rule p's end out
                if q not in audits:
                    audits[q] = independent_audit(table, hs, pinned=[q])
                assert not fails(audits[q], p, d), (q, audits[q])


def test_moves_around_insiders_are_found_where_the_table_has_them() -> None:
    # the property above checks every move it is given: here some must be given
    df, hs = _singleton_table(999, FANS_4D)
    problem = problem_of(df, hs, singleton=True)
    _, proofs = hypercube_phase(problem, build_structure(df, hs), problem.forced.copy())
    assert proofs.holding is not None
    found = 0
    for p, d in sorted(proofs.proved - proofs.insider_proof):
        corners, _ = proofs.witnesses[(p, d)]
        pinned = corners[problem.pinned[corners] & (corners != p)]
        found += len(proofs.holding(p, d, pinned[problem.outsiders(p, pinned)].tolist()))
    assert found > 0


def test_holding_asks_nothing_of_a_demand_without_insiders() -> None:
    df, hs = _singleton_table(16, FANS_4D)
    problem = problem_of(df, hs, singleton=True)
    _, proofs = hypercube_phase(problem, build_structure(df, hs), problem.forced.copy())
    assert proofs.holding is not None
    p, d = sorted(proofs.proved)[0]
    assert proofs.holding(p, d, []) == []


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_fast_with_singletons_is_safe_against_every_insider(seed: int) -> None:
    df, hs = _singleton_table(seed, FANS_4D)
    problem = problem_of(df, hs, singleton=True)
    hidden, stats, witnesses = protect_fast(problem, build_structure(df, hs), hypercube=True)
    assert stats["hypercube_moves"] > 0
    table = with_pattern(df, problem, hidden)
    assert independent_audit(table, hs) == []
    targets = {(p, d) for p, d, _ in problem.targets()}
    for q in np.flatnonzero(hidden & problem.pinned):
        failing = independent_audit(table, hs, pinned=[int(q)])
        for p, d in targets:
            # (an insider among p's own contributors: p's protection allows for him)
            if p != q and problem.outsiders(p, np.array([q]))[0]:
                assert not fails(failing, p, d), (q, failing)
    for (p, key), (cells, move) in witnesses.items():  # every witness is a real move
        z = np.zeros(problem.n)
        z[cells] = move
        assert np.abs(problem.relations @ z).max() < 1e-6
        assert (key > 0) == (z[p] > 0)


def test_the_pruning_does_not_depend_on_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # a time box stopped the pruning after however many cells the machine's load allowed
    df, hs = _singleton_table(16, FANS_4D)
    problem = problem_of(df, hs, singleton=True)
    structure = build_structure(df, hs)
    hidden, proofs = hypercube_phase(problem, structure, problem.forced.copy())
    assert proofs.pruned > 0  # the table has cells to prune
    ticks = itertools.count(step=1000.0)  # a very slow machine: 1000 s between readings
    monkeypatch.setattr(phase_module.time, "perf_counter", lambda: next(ticks))
    slow, slow_proofs = hypercube_phase(problem, structure, problem.forced.copy())
    assert slow_proofs.pruned == proofs.pruned
    assert np.array_equal(slow, hidden)
