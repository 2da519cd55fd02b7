"""The building blocks: capacity cuts are valid for every pattern; sub-tables cover relations."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from conftest import random_table
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.secondary.model import UP, make_cut
from fivesafes.sdc.secondary.modular import subtables
from fivesafes.sdc.secondary.problem import build_problem
from fivesafes.sdc.spec import SuppressionSpec


def _reach(
    a: np.ndarray, down: np.ndarray, up: np.ndarray, hidden: np.ndarray, p: int, direction: int
) -> float:
    """The attacker's largest move of p, by scipy (independent of the HiGHS wrapper)."""
    bounds = [
        (-down[i] if hidden[i] else 0.0, (None if np.isinf(up[i]) else up[i]) if hidden[i] else 0.0)
        for i in range(a.shape[1])
    ]
    c = np.zeros(a.shape[1])
    c[p] = -direction
    res = linprog(c, A_eq=a, b_eq=np.zeros(a.shape[0]), bounds=bounds, method="highs")
    if res.status == 3:
        return float("inf")
    assert res.status == 0
    return float(-res.fun)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 100_000), direction=st.sampled_from([1, -1]))
def test_capacity_cut_is_valid_for_every_pattern(seed: int, direction: int) -> None:
    """Weak duality: for any multipliers, the cut's left side bounds the attacker's reach."""
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2], [3]], n_primary=1)
    structure = build_structure(df, hs)
    problem = build_problem(df, structure, SuppressionSpec(), frequency=False)
    p = int(np.flatnonzero(problem.primary)[0])
    a = structure.relations.toarray()
    rows = np.arange(a.shape[0])
    pi = rng.normal(size=rows.size) * rng.integers(0, 2, size=rows.size)
    req = 1e9  # large: no clipping, the cut is the raw dual bound
    cut = make_cut(problem, p, direction, rows, pi, req)
    for _ in range(5):
        hidden = rng.random(problem.n) < 0.5
        hidden[p] = True
        reach = _reach(a, problem.down, problem.up, hidden, p, direction)
        assert cut.lhs(hidden) >= min(reach, req) - 1e-6 * max(1.0, abs(reach))


def test_relation_cut_needs_a_partner() -> None:
    rng = np.random.default_rng(0)
    df, hs = random_table(rng, [[2], [2]], n_primary=1)
    structure = build_structure(df, hs)
    problem = build_problem(df, structure, SuppressionSpec(), frequency=False)
    p = int(np.flatnonzero(problem.primary)[0])
    r = int(structure.relations_of(p)[0])
    coef = structure.relations[r, p]
    cut = make_cut(problem, p, UP, np.array([r]), np.array([UP / coef]), 5.0)
    members = set(np.flatnonzero(structure.relations[[r]].toarray()[0]).tolist())
    assert set(cut.cells.tolist()) <= members - {p}
    assert cut.lhs(problem.primary) == 0.0  # the primary alone gives the attacker nothing


def test_every_relation_lies_in_some_subtable() -> None:
    """Sub-tables overlap (a mid-level code is a parent in one, a child in another)."""
    rng = np.random.default_rng(1)
    df, hs = random_table(rng, [[2, 2], [2, 3], [2]], n_primary=2)
    structure = build_structure(df, hs)
    parts = subtables(structure)
    a = structure.relations.tocsr()
    for r in range(a.shape[0]):
        cols = set(a.indices[a.indptr[r] : a.indptr[r + 1]].tolist())
        inside = [s for s, (_, cells) in enumerate(parts) if cols <= set(cells.tolist())]
        assert len(inside) >= 1
    # top-down: depths of the parent codes never decrease
    depth = [sum(h.depth[h.order[c]] for h, c in zip(hs, key, strict=True)) for key, _ in parts]
    assert depth == sorted(depth)
