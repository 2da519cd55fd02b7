"""Controlled rounding: adjacent multiples, multiples unchanged, every relation additive."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fivesafes.errors import DataError, SpecError
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.rounding.controlled import controlled_round
from fivesafes.sdc.rounding.unbiased import random_round
from fivesafes.sdc.synthetic import aggregate


@st.composite
def hierarchy(draw: st.DrawFn, name: str) -> Hierarchy:
    """A small random tree: a total, a few groups, a few leaves under each (or flat)."""
    if draw(st.booleans()):
        n = draw(st.integers(2, 4))
        return Hierarchy.flat(name, [f"{name}{i}" for i in range(n)])
    pairs: list[tuple[str, str | None]] = [("T", None)]
    for g in range(draw(st.integers(2, 3))):
        pairs.append((f"{name}{g}", "T"))
        for k in range(draw(st.integers(2, 3))):
            pairs.append((f"{name}{g}.{k}", f"{name}{g}"))
    return Hierarchy.from_pairs(name, pairs)


@st.composite
def table(draw: st.DrawFn) -> tuple[pd.DataFrame, tuple[Hierarchy, ...], int]:
    dims = draw(st.integers(1, 3))
    hs = tuple(draw(hierarchy(n)) for n in "abc"[:dims])
    shape = [len(h.leaves) for h in hs]
    leaves = draw(
        st.lists(st.integers(0, 12), min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))
    )
    values = aggregate(np.array(leaves).reshape(shape), hs).reshape(-1)
    frame = pd.DataFrame(
        list(itertools.product(*(h.order for h in hs))), columns=list("abc"[:dims])
    )
    frame["value"] = values
    return frame, hs, draw(st.integers(2, 5))


def flat_2d_or_less(hs: tuple[Hierarchy, ...]) -> bool:
    # a controlled rounding always exists for one-dimensional hierarchies and two-way
    # tables with one total per dimension (Cox 1987)
    return len(hs) == 1 or (len(hs) == 2 and all(h.max_depth == 1 for h in hs))


@given(table())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_controlled_rounding_is_adjacent_and_additive(
    case: tuple[pd.DataFrame, tuple[Hierarchy, ...], int],
) -> None:
    frame, hs, base = case
    structure = build_structure(frame, hs, dimensions=list(frame.columns[:-1]))
    x = frame["value"].to_numpy(dtype=np.float64)
    result = controlled_round(structure, x, base, time_limit=20)
    r = result.rounded
    assert np.all(r % base == 0)
    assert np.all(np.abs(r - x) < base), "not an adjacent multiple"
    multiples = x % base == 0
    assert np.array_equal(r[multiples], x[multiples]), "a multiple (or a zero) was changed"
    residual = structure.relations @ r
    if flat_2d_or_less(hs):
        assert result.exact
    if result.exact:
        assert np.all(residual == 0), "a relation does not add up"
        assert result.gap >= 0 and result.deviation >= result.bound - 1e-6
    else:
        assert result.method == "controlled with tolerance" and result.notes
        assert result.broken_relations == int(np.count_nonzero(residual))
        assert result.tolerance == np.abs(residual).max()
    assert result.deviation == np.abs(r - x).sum()


def brute_force_exists(leaves: np.ndarray, hs: tuple[Hierarchy, ...], base: int) -> bool:
    """Whether some rounding of the leaves makes every cell an adjacent multiple (flat dims:
    every cell is a sum of leaves, so the relations hold by construction)."""
    values = aggregate(leaves, hs)
    low = (leaves // base) * base
    free = np.flatnonzero((leaves % base).reshape(-1))
    for bits in itertools.product((0, base), repeat=free.size):
        up = np.zeros(leaves.size)
        up[free] = bits
        r = aggregate(low + up.reshape(leaves.shape), hs)
        if np.all(np.abs(r - values) < base):
            return True
    return False


@given(st.lists(st.integers(0, 3), min_size=8, max_size=8), st.integers(2, 3))
@settings(max_examples=40, deadline=None)
def test_the_solver_finds_a_controlled_rounding_exactly_when_one_exists(
    leaf_values: list[int], base: int
) -> None:
    hs = tuple(Hierarchy.flat(n, [f"{n}0", f"{n}1"]) for n in "abc")
    leaves = np.array(leaf_values, dtype=np.float64).reshape(2, 2, 2)
    values = aggregate(leaves, hs).reshape(-1)
    frame = pd.DataFrame(list(itertools.product(*(h.order for h in hs))), columns=list("abc"))
    frame["value"] = values
    structure = build_structure(frame, hs, dimensions=list("abc"))
    result = controlled_round(structure, values, base, time_limit=20)
    assert result.exact == brute_force_exists(leaves, hs, base)


def test_a_three_way_table_without_a_controlled_rounding_falls_back_with_a_tolerance() -> None:
    # 0/1 cells to base 2: every line of two ones must round one up and one down, and
    # these parity constraints contradict each other
    leaves = np.array(
        [
            [[1, 0, 0], [0, 1, 1], [1, 1, 1]],
            [[1, 1, 0], [1, 0, 1], [0, 1, 1]],
            [[0, 0, 0], [0, 1, 1], [1, 0, 1]],
        ],
        dtype=np.float64,
    )
    hs = tuple(Hierarchy.flat(n, [f"{n}{i}" for i in range(3)]) for n in "abc")
    values = aggregate(leaves, hs).reshape(-1)
    frame = pd.DataFrame(list(itertools.product(*(h.order for h in hs))), columns=list("abc"))
    frame["value"] = values
    structure = build_structure(frame, hs, dimensions=list("abc"))
    result = controlled_round(structure, values, 2, time_limit=20)
    assert not result.exact
    assert "no controlled rounding exists" in result.notes[0]
    assert result.tolerance == 2.0 and result.broken_relations > 0
    assert np.all(np.abs(result.rounded - values) < 2)


def _row() -> tuple[object, np.ndarray]:
    hs = (Hierarchy.flat("a", ["a0", "a1", "a2"]),)
    values = aggregate(np.array([3, 4, 8]), hs).reshape(-1).astype(np.float64)
    frame = pd.DataFrame({"a": hs[0].order, "value": values})
    return build_structure(frame, hs, dimensions=["a"]), values


@pytest.mark.parametrize("base", [0, -5, float("nan"), float("inf")])
def test_a_base_that_is_not_a_positive_number_is_a_clear_error(base: float) -> None:
    # base 0 gave a table of NaN called "controlled", a negative base an AssertionError
    structure, values = _row()
    with pytest.raises(SpecError, match="base must be a finite number > 0"):
        controlled_round(structure, values, base)
    with pytest.raises(SpecError, match="base must be a finite number > 0"):
        random_round(values, np.full(values.size, 0.3), base)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_cell_without_a_finite_value_is_refused_not_published(bad: float) -> None:
    # a NaN or infinite cell was "rounded" to itself and published with a tolerance
    structure, values = _row()
    values[1] = bad
    with pytest.raises(DataError, match="1 cell"):
        controlled_round(structure, values, 5)
    with pytest.raises(DataError, match="1 cell"):
        random_round(values, np.full(values.size, 0.3), 5)
