"""Magnitude noise is quasi-continuous: a noise ptable on steps of 1 / magnitude_step.

Integer noise (2 D + 1 outcomes) times a magnitude gives each cell a handful of possible
values, and an intruder who sees a few of them learns the grid the truth sits on. The
ptable package's numeric tables (``create_num_ptable(step = ...)``) draw on a finer grid
with the same constraints: at most D, unbiased, variance V.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from fivesafes.sdc.perturbation.cellkey import magnitude_noise, ptables_for, sensitive_noise
from fivesafes.sdc.perturbation.keys import KEY_SCALE
from fivesafes.sdc.perturbation.noise import generate_noise_row
from fivesafes.sdc.perturbation.ptable_build import generate_ptable
from fivesafes.sdc.spec_methods import PerturbationSpec

N_CELLS = 20_000
Z = 4.0


def _sums(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, KEY_SCALE, n, dtype=np.int64)


def _one_contribution(noise: object, sums: np.ndarray, percent: float = 10.0) -> np.ndarray:
    tops = np.full((sums.size, 1), 1000.0)
    return magnitude_noise(tops, sums, noise, epsilon=(1.0,), percent=percent)  # type: ignore[arg-type]


def test_the_default_magnitude_noise_takes_many_values() -> None:
    spec = PerturbationSpec()
    noise = _one_contribution(ptables_for(spec).noise, _sums(N_CELLS, 1))
    # one contribution of 1000 at 10%: the integer ptable gave 2 D + 1 = 9 values
    assert np.unique(noise).size >= 500
    assert np.abs(noise).max() <= 100.0 + 1e-9


def test_the_noise_is_distributed_as_its_ptable_says() -> None:
    big_d, variance, step = 4, 2.0, 100
    row = generate_noise_row(big_d, variance, step)
    v = row.draw(np.random.default_rng(2).random(N_CELLS))
    grid = np.round(v * big_d * step)
    assert np.allclose(grid, v * big_d * step)  # on the grid of 1 / step
    assert np.abs(v).max() <= 1.0
    # moments of v = d / D: mean 0, variance V / D^2
    expected = variance / big_d**2
    mu4 = float(row.p @ row.values**4)
    assert abs(v.mean()) <= Z * np.sqrt(expected / v.size)
    assert abs(np.mean(v**2) - expected) <= Z * np.sqrt((mu4 - expected**2) / v.size)
    # and the whole distribution: grouped into ten bins of equal probability
    cum = np.cumsum(row.p)
    edges = np.searchsorted(cum, np.linspace(0.1, 0.9, 9))
    bins = np.digitize(v, row.values[edges], right=True)
    observed = np.bincount(bins, minlength=10)
    probs = np.diff(np.concatenate([[0.0], cum[edges], [1.0]]))
    assert stats.chisquare(observed, probs * v.size).pvalue > 1e-4


def test_the_generated_row_has_the_ptables_exact_moments() -> None:
    row = generate_noise_row(4, 2.0, 100)
    d = row.values * 4
    assert abs(row.p.sum() - 1) < 1e-12 and abs(row.p @ d) < 1e-9
    assert abs(row.p @ d**2 - 2.0) < 1e-8 and row.values.size == 801


def test_step_one_is_the_integer_ptables_symmetric_row() -> None:
    sums = _sums(2000, 3)
    integer = _one_contribution(generate_ptable(4, 2.0, 0), sums)
    assert np.array_equal(_one_contribution(generate_noise_row(4, 2.0, 1), sums), integer)
    spec = PerturbationSpec(magnitude_step=1)
    assert np.array_equal(_one_contribution(ptables_for(spec).noise, sums), integer)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, KEY_SCALE - 1), min_size=1, max_size=30),
    st.floats(1.0, 1e6),
    st.floats(0.0, 1e5),
)
def test_sensitive_cells_move_by_their_protection_plus_the_noise_key_consistently(
    keys: list[int], top: float, required: float
) -> None:
    sums = np.array(keys, dtype=np.int64)
    row = ptables_for(PerturbationSpec()).noise
    tops = np.column_stack([np.full(sums.size, top), np.full(sums.size, top / 2)])
    base = magnitude_noise(tops, sums, row, epsilon=(1.0, 0.5), percent=10.0)
    assert np.array_equal(base, magnitude_noise(tops, sums, row, epsilon=(1.0, 0.5), percent=10.0))
    need = np.full(sums.size, required)
    pushed = sensitive_noise(base, need, sums, np.full(sums.size, 2 * top), top_k=2)
    if required > 0:
        assert np.allclose(np.abs(pushed), np.abs(base) + required)
    else:
        assert np.array_equal(pushed, base)
