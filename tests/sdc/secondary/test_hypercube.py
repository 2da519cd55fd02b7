"""Hypercube moves: every line move keeps the hierarchy's sums, every proof holds by LP."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import fails, independent_audit, problem_of, random_table, with_pattern
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.secondary.fast import protect_fast
from fivesafes.sdc.secondary.hypercube import line_moves, verified
from fivesafes.sdc.secondary.hypercube_phase import hypercube_phase


@st.composite
def hierarchies(draw: st.DrawFn) -> Hierarchy:
    """Random rooted trees, unbalanced, with single children and leaves beside subtotals."""
    n = draw(st.integers(2, 14))
    pairs: list[tuple[str, str | None]] = [("c0", None)]
    for i in range(1, n):
        pairs.append((f"c{i}", f"c{draw(st.integers(0, i - 1))}"))
    return Hierarchy.from_pairs("h", pairs)


@settings(max_examples=60, deadline=None)
@given(h=hierarchies())
def test_every_line_move_keeps_every_subtotal_the_sum_of_its_children(h: Hierarchy) -> None:
    pos = {c: i for i, c in enumerate(h.order)}
    for code in h.order:
        moves = line_moves(h, code)
        flat = moves.flat
        assert flat, f"no line move through {code}"
        lengths = [c.size for c, _ in flat]
        assert lengths == sorted(lengths)
        for codes, signs in flat:
            v = np.zeros(len(h.order))
            v[codes] = signs
            assert v[pos[code]] == 1
            assert len(set(codes.tolist())) == codes.size
            for parent, kids in h.relations():
                assert v[pos[parent]] == sum(v[pos[k]] for k in kids)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    fans=st.sampled_from([[[2, 3], [3]], [[3], [2], [2, 2]], [[2], [2], [2], [2]]]),
)
def test_every_demand_the_phase_proves_is_met_by_an_independent_lp(
    seed: int, fans: list[list[int]]
) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, fans, n_primary=3, zero_share=0.1)
    problem = problem_of(df, hs, singleton=False)
    hidden, proofs = hypercube_phase(problem, build_structure(df, hs), problem.forced.copy())
    assert proofs.rejected == 0  # hierarchical tables: every product keeps the sums
    assert set(proofs.witnesses) == proofs.proved
    req = {(p, d): r for p, d, r in problem.targets()}
    for (p, d), (cells, move) in proofs.witnesses.items():
        z = np.zeros(problem.n)
        z[cells] = move
        assert np.abs(problem.relations @ z).max() < 1e-9  # a move of the attacker
        assert hidden[cells].all()
        assert (move <= problem.up[cells] + 1e-9).all()
        assert (-move <= problem.down[cells] + 1e-9).all()
        assert d * z[p] >= req[(p, d)] * (1 - 1e-9)  # that reaches the requirement
    failing = independent_audit(with_pattern(df, problem, hidden), hs)
    for p, d in proofs.proved:
        assert not fails(failing, p, d), failing


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_an_insider_proof_demand_holds_against_each_single_contributor(seed: int) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2, 2], [3]], n_primary=3)
    singles = rng.random(len(df)) < 0.3
    df.loc[singles & (df["contributors"] > 0), "contributors"] = 1
    problem = problem_of(df, hs, singleton=True)
    hidden, proofs = hypercube_phase(problem, build_structure(df, hs), problem.forced.copy())
    table = with_pattern(df, problem, hidden)
    for q in np.flatnonzero(hidden & problem.pinned):
        failing = independent_audit(table, hs, pinned=[int(q)])
        for p, d in proofs.insider_proof:
            if p == q:
                continue
            assert not fails(failing, p, d), (q, failing)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), dims=st.sampled_from([2, 3, 4]))
def test_fast_from_hypercubes_is_safe(seed: int, dims: int) -> None:
    rng = np.random.default_rng(seed)
    fans = {2: [[2, 2], [3]], 3: [[3], [2], [2, 2]], 4: [[2], [2], [2], [3]]}[dims]
    df, hs = random_table(rng, fans, n_primary=4, zero_share=0.15)
    problem = problem_of(df, hs, singleton=False)
    hidden, stats, _ = protect_fast(problem, build_structure(df, hs), hypercube=True)
    assert stats["hypercube_moves"] > 0
    assert independent_audit(with_pattern(df, problem, hidden), hs) == []


def test_a_move_that_breaks_a_sum_is_rejected() -> None:
    rng = np.random.default_rng(1)
    df, hs = random_table(rng, [[2], [2]], n_primary=1)
    problem = problem_of(df, hs, singleton=False)
    structure = build_structure(df, hs)
    leaves = [structure.cell_index({"a": a, "b": b}) for a in hs[0].leaves for b in hs[1].leaves]
    square = np.array(leaves, dtype=np.int64)
    assert verified(problem, square, np.array([1, -1, -1, 1]))
    assert not verified(problem, square, np.array([1, -1, 1, -1]))
