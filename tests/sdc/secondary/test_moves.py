"""Kept attacker moves prove a demand on another pattern only where they really do.

A move kept from one pattern's LPs (:mod:`fivesafes.sdc.secondary.moves`) is checked
here without the library's own reasoning: the full move must keep every relation of
the independently rebuilt relation matrix additive, change only cells the new pattern
hides, keep every cell non-negative and reach the requirement; the independent audit
(scipy's linprog) must find the demand met on the new pattern, and met against an
insider whose cell the move leaves unchanged.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import fails, independent_audit, problem_of, random_table, relations, with_pattern
from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.secondary.attacker import Attacker
from fivesafes.sdc.secondary.fast import protect_fast
from fivesafes.sdc.secondary.model import met
from fivesafes.sdc.secondary.moves import MoveLibrary, sparse_move
from fivesafes.sdc.secondary.repair import repair


def _attack(
    a: np.ndarray, v: np.ndarray, hidden: np.ndarray, cells: np.ndarray, z: np.ndarray
) -> np.ndarray:
    """The move as a full vector, once checked a feasible attack on ``hidden``.

    Only hidden cells change, every relation of the independently rebuilt matrix ``a``
    stays additive, and no value of ``v`` (a non-negative table) goes below zero.
    """
    full = np.zeros(v.size)
    full[cells] = z
    assert hidden[cells[np.abs(z) > 1e-9]].all()
    assert np.abs(a @ full).max(initial=0.0) <= 1e-6 * max(1.0, np.abs(v).max())
    assert (v + full >= -1e-6).all()
    return full


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), keep=st.floats(0.5, 1.0))
def test_a_kept_move_proves_a_demand_only_where_it_is_a_feasible_attack(
    seed: int, keep: float
) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2], [2], [3]], n_primary=5)
    problem = problem_of(df, hs, singleton=True)
    library = MoveLibrary(problem)
    safe, _, _ = repair(problem, problem.forced.copy(), library=library)
    # another pattern: some of the safe one's cells published again, others hidden
    other = (safe & (rng.random(problem.n) < keep)) | (rng.random(problem.n) < 0.2)
    other = (other | problem.forced) & ~problem.fixed
    a = relations(df, hs)
    v = df["value"].to_numpy(float)
    # on the repaired pattern itself every kept move is valid: the check is not empty
    assert any(next(library.proving(p, d, safe), None) is not None for p, d, _ in problem.targets())
    table = with_pattern(df, problem, other)
    failing = independent_audit(table, hs)
    for p, direction, req in problem.targets():
        for m in library.proving(p, direction, other):
            cells, z = library.move(m)
            full = _attack(a, v, other, cells, z)
            assert direction * full[p] >= req * (1 - 1e-6) - 1e-6
            assert not fails(failing, p, direction)
            # an insider whose cell the move leaves where it is cannot break it either
            still = [int(q) for q in np.flatnonzero(other & problem.pinned) if full[q] == 0]
            still = [q for q in still if q != p]
            if still:
                assert not fails(independent_audit(table, hs, pinned=[still[0]]), p, direction)


def test_a_move_is_not_kept_when_unbounded_or_when_it_meets_no_demand() -> None:
    rng = np.random.default_rng(3)
    df, hs = random_table(rng, [[2], [3]], n_primary=2)
    problem = problem_of(df, hs, singleton=False)
    library = MoveLibrary(problem)
    p, direction, req = problem.targets()[0]
    library.add(np.array([p, p + 1]), np.zeros(0))  # no move: an unbounded side
    library.add(np.array([p]), np.array([direction * req / 10]))  # short of the demand
    assert len(library) == 0
    library.add(np.array([p]), np.array([direction * req]))
    library.add(np.array([p]), np.array([direction * req]))  # the same move again
    assert len(library) == 1
    hidden = np.zeros(problem.n, dtype=bool)
    assert list(library.proving(p, direction, hidden)) == []  # p itself published
    hidden[p] = True
    assert list(library.proving(p, direction, hidden)) == [0]
    assert list(library.proving(p, -direction, hidden)) == []


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), singleton=st.booleans())
def test_a_repair_helped_by_kept_moves_ends_safe(seed: int, singleton: bool) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2], [2], [3]], n_primary=6)
    problem = problem_of(df, hs, singleton=singleton)
    first, _, _ = protect_fast(problem, build_structure(df, hs))
    library = MoveLibrary(problem)
    repair(problem, first, library=library)
    # a pattern the first shares most cells with, as the rounds' patterns do
    start = (first & (rng.random(problem.n) < 0.7)) | problem.forced
    helped, _, _ = repair(problem, start.copy(), library=library)
    assert audit_table(with_pattern(df, problem, helped), hs, singleton=singleton).safe


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), share=st.floats(0.3, 0.9))
def test_the_smallest_move_is_a_feasible_attack_no_larger_than_the_lps(
    seed: int, share: float
) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2], [2], [3]], n_primary=4)
    problem = problem_of(df, hs, singleton=False)
    hidden = (problem.forced | (rng.random(problem.n) < share)) & ~problem.fixed
    att = Attacker(problem, hidden)
    a = relations(df, hs)
    v = df["value"].to_numpy(float)
    for p, direction, req in problem.targets():
        cells, _ = att.neighbourhood(p, 10_000)
        reach, _, _, z_max = att.reach(p, direction, cells)
        z = sparse_move(problem, cells, att.y, p, direction, req)
        if not met(reach, req):
            assert z is None  # no move reaches it: the smallest one does not either
            continue
        assert z is not None
        full = _attack(a, v, hidden, cells, z)
        assert direction * full[p] >= req - 1e-6 * max(1.0, req)
        if z_max.size == cells.size:  # no more total change than the largest move's
            assert np.abs(z).sum() <= np.abs(z_max).sum() + 1e-6 * max(1.0, req)
