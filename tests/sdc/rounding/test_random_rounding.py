"""Random rounding: unbiased, adjacent multiples, multiples kept, the same key the same way."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fivesafes.errors import SpecError
from fivesafes.sdc.rounding.unbiased import floor_multiples, random_round


@given(
    st.lists(st.integers(0, 10_000), min_size=1, max_size=50),
    st.integers(2, 20),
    st.floats(0, 0.999999),
)
def test_every_value_goes_to_an_adjacent_multiple(values: list[int], base: int, key: float) -> None:
    x = np.array(values, dtype=np.float64)
    r = random_round(x, np.full(x.size, key), base)
    assert np.all(r % base == 0)
    assert np.all(np.abs(r - x) < base)
    multiples = x % base == 0
    assert np.array_equal(r[multiples], x[multiples])
    assert np.array_equal(r, random_round(x, np.full(x.size, key), base))  # key-consistent


def test_rounding_is_unbiased_over_uniform_keys() -> None:
    rng = np.random.default_rng(23)
    n = 10_000
    x = np.full(n, 13.0)
    r = random_round(x, rng.random(n), 5)
    # up (to 15) with probability 3/5: mean 13, sd of the mean sqrt(0.24 * 25 / n)
    assert abs(r.mean() - 13.0) <= 4 * np.sqrt(0.6 * 0.4 * 25 / n)
    assert set(np.unique(r)) == {10.0, 15.0}


def test_values_a_hair_off_a_multiple_are_that_multiple() -> None:
    floor, share = floor_multiples(np.array([10.0 - 1e-12, 7.5]), 2.5)
    assert floor.tolist() == [4.0, 3.0] and share.tolist() == [0.0, 0.0]
    with pytest.raises(SpecError, match="base"):
        random_round(np.array([1.0]), np.array([0.5]), 0)
