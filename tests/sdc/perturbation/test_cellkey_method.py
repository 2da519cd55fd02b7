"""The cell key lookup on simulated cells: the noise has the ptable's mean and variance."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fivesafes.sdc.perturbation.cellkey import (
    ROUNDING_STREAM,
    contribution_keys,
    derived_key,
    magnitude_noise,
    perturb_counts,
)
from fivesafes.sdc.perturbation.keys import KEY_SCALE, cell_keys, key_integers, record_keys
from fivesafes.sdc.perturbation.ptable_build import generate_ptable

D, V, JS = 4, 2.0, 3
N_CELLS = 10_000
Z = 4.0  # two-sided tolerance: a correct ptable fails with probability ~6e-5 per check


@pytest.fixture(scope="module")
def simulated() -> tuple[np.ndarray, np.ndarray]:
    """10,000 cells of random records, each record keyed from its identifier (seeded)."""
    rng = np.random.default_rng(19)
    imax = D + JS
    small = rng.random(N_CELLS) < 0.2
    counts = np.where(small, rng.integers(0, imax, N_CELLS), rng.integers(imax, 40, N_CELLS))
    ids = [f"c{c}r{k}" for c in range(N_CELLS) for k in range(int(counts[c]))]
    keys = key_integers(record_keys(b"simulation-secret-0123456789", ids))
    owner = np.repeat(np.arange(N_CELLS), counts)
    sums = np.zeros(N_CELLS, dtype=np.int64)
    np.add.at(sums, owner, keys)  # < 2**63 here: at most 40 keys of 2**53
    return counts, sums % KEY_SCALE


def test_cell_keys_of_simulated_cells_are_uniform(simulated: tuple[np.ndarray, ...]) -> None:
    counts, sums = simulated
    keys = cell_keys(sums[counts > 0])
    assert stats.kstest(keys, "uniform").pvalue > 1e-4


def test_large_counts_get_the_ptables_mean_and_variance(simulated: tuple[np.ndarray, ...]) -> None:
    counts, sums = simulated
    pt = generate_ptable(D, V, JS)
    large = counts >= pt.imax
    dev = (perturb_counts(counts, sums, pt) - counts)[large].astype(np.float64)
    n = dev.size
    j, p = pt.row(pt.imax)
    d = (j - pt.imax).astype(np.float64)
    mu4 = float(p @ d**4)
    assert abs(dev.mean()) <= Z * np.sqrt(V / n)
    assert abs(np.mean(dev**2) - V) <= Z * np.sqrt((mu4 - V**2) / n)
    # and the whole distribution: the outcomes' frequencies fit the row's probabilities
    observed = np.array([np.sum(dev == x) for x in d])
    assert observed.sum() == n  # no outcome outside the row
    assert stats.chisquare(observed, p * n).pvalue > 1e-4


def test_small_counts_keep_their_rows_mean_and_never_publish_below_js(
    simulated: tuple[np.ndarray, ...],
) -> None:
    counts, sums = simulated
    pt = generate_ptable(D, V, JS)
    published = perturb_counts(counts, sums, pt)
    assert not np.any((published > 0) & (published < JS)), "a count in (0, js) was published"
    assert np.all(published[counts == 0] == 0)
    for i in range(1, pt.imax):
        take = counts == i
        j, p = pt.row(i)
        d = (j - i).astype(np.float64)
        var = float(p @ d**2)
        dev = (published[take] - i).astype(np.float64)
        assert abs(dev.mean()) <= Z * np.sqrt(var / dev.size), f"row {i} is biased"


def test_the_same_count_and_key_always_give_the_same_value() -> None:
    pt = generate_ptable(D, V, JS)
    sums = np.array([123456789, 987654321, 5], dtype=np.int64)
    a = perturb_counts([10, 10, 10], sums, pt)
    assert np.array_equal(a, perturb_counts([10, 10, 10], sums, pt))


def test_magnitude_noise_is_bounded_unbiased_and_scaled_by_the_largest_contributions() -> None:
    rng = np.random.default_rng(7)
    noise_table = generate_ptable(4, 2.0, 0)
    n = N_CELLS
    tops = np.column_stack([np.full(n, 1000.0), np.full(n, 200.0)])
    sums = rng.integers(0, KEY_SCALE, n, dtype=np.int64)
    eps, percent = (1.0, 0.5), 10.0
    noise = magnitude_noise(tops, sums, noise_table, epsilon=eps, percent=percent)
    limit = percent / 100 * (1000 + 0.5 * 200)
    assert np.abs(noise).max() <= limit + 1e-9
    # v / D has variance V / D^2 per contribution; independent draws add up
    var = (percent / 100) ** 2 * (2.0 / 16) * (1000**2 + (0.5 * 200) ** 2)
    assert abs(noise.mean()) <= Z * np.sqrt(var / n)
    assert abs(noise.var() - var) <= 0.1 * var
    again = magnitude_noise(tops, sums, noise_table, epsilon=eps, percent=percent)
    assert np.array_equal(noise, again)
    zero = magnitude_noise(np.zeros((3, 2)), sums[:3], noise_table, epsilon=eps, percent=percent)
    assert np.all(zero == 0)


def test_derived_keys_are_uniform_and_nearly_independent_of_the_cell_key() -> None:
    sums = np.random.default_rng(3).integers(0, KEY_SCALE, N_CELLS, dtype=np.int64)
    keys = np.column_stack(
        [cell_keys(sums), contribution_keys(sums, 3), derived_key(sums, ROUNDING_STREAM)]
    )
    for m in range(1, keys.shape[1]):
        assert stats.kstest(keys[:, m], "uniform").pvalue > 1e-4
        for other in range(m):
            assert abs(np.corrcoef(keys[:, other], keys[:, m])[0, 1]) < 0.05
