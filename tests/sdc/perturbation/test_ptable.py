"""Ptables: maximum entropy under the constraints, checked, and a CSV that round-trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from fivesafes.errors import SpecError
from fivesafes.sdc.perturbation.ptable import make_ptable, read_ptable, write_ptable
from fivesafes.sdc.perturbation.ptable_build import (
    generate_ptable,
    last_row,
    max_entropy_row,
    reachable_variance,
    row_outcomes,
)
from fivesafes.sdc.perturbation.ptable_check import check_ptable


@st.composite
def parameters(draw: st.DrawFn) -> tuple[int, float, int]:
    d = draw(st.integers(1, 8))
    js = draw(st.integers(0, d + 1))
    v = draw(st.floats(0.05, d * d - 0.05))
    return d, v, js


@given(parameters())
@settings(max_examples=60, deadline=None)
def test_generated_ptables_pass_every_check(params: tuple[int, float, int]) -> None:
    d, v, js = params
    pt = generate_ptable(d, v, js)
    check = check_ptable(pt, max_deviation=d, variance=v, js=js)
    assert check.passed, check.problems
    assert pt.imax == last_row(d, js)
    for i in range(pt.imax + 1):
        j, p = pt.row(i)
        assert abs(p.sum() - 1) < 1e-9
        assert abs(p @ (j - i)) < 1e-9
        assert not np.any((j > 0) & (j < js)), "a forbidden count in (0, js)"
        assert (j >= 0).all() and (np.abs(j - i) <= d).all()
    # the last row (every larger count) has the target variance exactly
    j, p = pt.row(pt.imax)
    assert p @ (j - pt.imax) ** 2 == pytest.approx(v, abs=1e-9)


@pytest.mark.parametrize(("d", "v", "js", "i"), [(3, 1.5, 0, 3), (3, 1.5, 0, 1), (5, 3.0, 3, 4)])
def test_rows_have_the_largest_entropy_a_general_solver_finds(
    d: int, v: float, js: int, i: int
) -> None:
    dev = row_outcomes(i, d, js) - i
    p, var = max_entropy_row(dev, v)
    assert var == v  # these rows can reach V

    def neg_entropy(q: np.ndarray) -> float:
        q = np.clip(q, 1e-300, 1)
        return float(np.sum(q * np.log(q)))

    cons = [
        {"type": "eq", "fun": lambda q: q.sum() - 1},
        {"type": "eq", "fun": lambda q: q @ dev},
        {"type": "eq", "fun": lambda q: q @ dev**2 - v},
    ]
    other = minimize(
        neg_entropy,
        np.full(dev.size, 1 / dev.size),
        constraints=cons,
        bounds=[(0, 1)] * dev.size,
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 500},
    )
    assert other.success
    assert neg_entropy(p) <= neg_entropy(other.x) + 1e-7


def test_a_row_that_cannot_reach_v_gets_the_nearest_reachable_variance() -> None:
    # count 1 with js = 3, D = 3: outcomes 0, 3, 4; every unbiased mix has variance >= 2
    dev = row_outcomes(1, 3, 3) - 1
    low, _ = reachable_variance(dev)
    assert low == 2.0
    p, var = max_entropy_row(dev, 1.0)
    assert var == 2.0 and p @ dev == pytest.approx(0) and p @ dev**2 == pytest.approx(2.0)
    check = check_ptable(generate_ptable(3, 1.0, 3), max_deviation=3, variance=1.0, js=3)
    assert check.passed and 1 in check.to_dict()["rows_below_V"]


@pytest.mark.parametrize(("d", "v", "js"), [(2, 4.0, 0), (2, 0.0, 0), (1, 0.5, 4), (0, 0.5, 0)])
def test_impossible_parameters_are_spec_errors(d: int, v: float, js: int) -> None:
    with pytest.raises(SpecError):
        generate_ptable(d, v, js)


def test_csv_round_trip_is_exact(tmp_path: Path) -> None:
    pt = generate_ptable(4, 2.5, 2)
    path = tmp_path / "pt.csv"
    write_ptable(pt, path)
    header = path.read_text().splitlines()[0]
    assert header == "i,j,p,v,p_int_lb,p_int_ub,type"
    back = read_ptable(path)
    assert np.array_equal(back.i, pt.i) and np.array_equal(back.j, pt.j)
    assert np.array_equal(back.p, pt.p)
    keys = np.random.default_rng(0).random(1000)
    counts = np.random.default_rng(1).integers(0, 50, 1000)
    assert np.array_equal(back.perturb(counts, keys), pt.perturb(counts, keys))


def test_a_minimal_i_j_p_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "pt.csv"
    path.write_text("i,j,p\n0,0,1\n1,0,0.25\n1,1,0.5\n1,2,0.25\n2,1,0.25\n2,2,0.5\n2,3,0.25\n")
    pt = read_ptable(path)
    assert check_ptable(pt, max_deviation=1, variance=0.5, js=0).passed
    assert pt.perturb([5, 5, 5], [0.1, 0.5, 0.9]).tolist() == [4, 5, 6]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("i,j\n0,0\n", "no column"),
        ("i,j,p\n0,0,1\n0,0,1\n", "twice"),
        ("i,j,p,v\n0,0,1,0\n1,0,0.5,-1\n1,2,0.5,2\n", "v = 2"),
        ("i,j,p,p_int_ub\n0,0,1,1\n1,0,0.5,0.4\n1,2,0.5,1\n", "p_int_ub"),
        ("i,j,p\n0,0,1\n1,0,1.5\n", "probability"),
        ("i,j,p\n0,0,1\n2,2,1\n", "no row"),
        ("i,j,p,type\n0,0,1,even\n", "even/odd"),
        ("i,j,p\n0,0,x\n", "not a number"),
    ],
)
def test_a_damaged_ptable_file_is_a_clear_error(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "pt.csv"
    path.write_text(text)
    with pytest.raises(SpecError, match=match):
        read_ptable(path)


def test_the_check_finds_what_is_wrong_with_a_ptable() -> None:
    biased = make_ptable([(0, 0, 1.0), (1, 0, 0.2), (1, 2, 0.8), (2, 1, 0.5), (2, 3, 0.5)])
    problems = " ".join(check_ptable(biased, max_deviation=1, variance=0.5, js=0).problems)
    assert "biased" in problems
    forbidden = make_ptable([(0, 0, 1.0), (1, 1, 1.0), (2, 1, 0.5), (2, 3, 0.5)])
    problems = " ".join(check_ptable(forbidden, max_deviation=1, variance=1.0, js=2).problems)
    assert "forbidden" in problems
    wrong_v = generate_ptable(2, 1.0, 0)
    assert not check_ptable(wrong_v, max_deviation=2, variance=1.2, js=0).passed
