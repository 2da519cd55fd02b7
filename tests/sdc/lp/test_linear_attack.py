"""The attacker-LP engine shared by the audit and the differencing check."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from fivesafes.errors import DataError
from fivesafes.sdc.lp import attack as linear_attack
from fivesafes.sdc.lp.attack import Contradiction, LinearAttack

INF = np.inf


def _attack(rows: list[list[float]], b: list[float], **kw: object) -> LinearAttack:
    a = sp.csr_matrix(np.array(rows, dtype=float))
    n = a.shape[1]
    return LinearAttack(a, np.array(b, dtype=float), np.zeros(n), np.full(n, INF), **kw)  # type: ignore[arg-type]


def test_a_sum_with_one_unknown_pins_it_and_names_the_sums_that_did() -> None:
    # x0 + x1 = 10, x1 = 4 (published alone) -> x0 = 6, without any LP
    attack = _attack([[1, 1, 0], [0, 1, 0], [0, 1, 1]], [10, 4, 9])
    low, high = attack.interval({0: 1.0})
    assert low.value == high.value == 6 and attack.lp_count == 0
    combo = attack.combination({0: 1.0})
    assert combo == {0: 1.0, 1: -1.0}  # 10 - 4
    assert attack.n_components == 0


def test_figures_that_contradict_each_other_are_refused() -> None:
    with pytest.raises(DataError, match="contradict"):
        _attack([[1, 0], [1, 0]], [3, 4])  # one unknown, two values
    with pytest.raises(DataError, match="contradict"):
        _attack([[1, 1], [1, 0], [0, 1]], [10, 3, 4])  # 3 + 4 is not 10


def test_a_sum_that_pins_an_unknown_outside_its_bounds_is_a_contradiction() -> None:
    # x0 = 8 and x0 + x1 = 5 pin x1 at -3, below its lower bound 0: no values fit, and
    # the interval [-3, -3] it gave was a false certainty
    with pytest.raises(Contradiction, match="outside its bounds"):
        _attack([[1, 0], [1, 1]], [8, 5])
    # within the sums' tolerance of the bound it is the bound's rounding, not a contradiction
    low, high = _attack([[1, 0], [1, 1]], [8, 8 - 1e-7]).interval({1: 1.0})
    assert low.value == pytest.approx(0, abs=1e-6) and high.value == low.value


def test_rounded_redundant_sums_are_not_a_contradiction_with_a_slack() -> None:
    # x0 + x1 published twice, rounded differently in the last digits
    rows, b = [[1, 1], [1, 1]], [1e9, 1e9 + 1e-5]  # 1e-14 apart: the last digits
    with pytest.raises(DataError):
        _attack(rows, b).interval({0: 1.0})
    low, high = _attack(rows, b, slack=1e-11).interval({0: 1.0})
    assert low.value == pytest.approx(0) and high.value == pytest.approx(1e9)


def test_known_true_values_are_substituted_as_given() -> None:
    attack = _attack([[1, 1, 1], [0, 0, 1]], [10, 3.0000000001], truth=np.array([2.0, 5.0, 3.0]))
    assert attack.fixed[2] == 3.0  # the true value, not the published rounding
    assert attack.residual[0] == 7.0


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(3, 9),
    m=st.integers(1, 6),
)
@pytest.mark.parametrize("cold_ipm_above", [linear_attack.COLD_IPM_ABOVE, 0])
def test_warm_started_models_agree_with_solving_each_lp_alone(
    seed: int, n: int, m: int, cold_ipm_above: int
) -> None:
    """Every solve of one warm-started model, also after bounds change, as from scratch
    (also when the first solve is by interior point, as on large components)."""
    with patch.object(linear_attack, "COLD_IPM_ABOVE", cold_ipm_above):
        _compare_with_linprog(seed, n, m)


def _compare_with_linprog(seed: int, n: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    dense = (rng.random((m, n)) < 0.5).astype(float)
    x_true = rng.integers(0, 20, size=n).astype(float)
    attack = _attack(dense.tolist(), (dense @ x_true).tolist())
    for comp in range(attack.n_components):
        cells = attack.cells(comp)
        model = attack.model(comp)
        for step in range(4):
            lower = np.zeros(n)
            upper = np.full(n, INF)
            if step >= 2:  # a contributor knows one cell exactly (the singleton check)
                j = int(step % cells.size)
                model.set_bounds(j, x_true[cells[j]], x_true[cells[j]])
                lower[cells[j]] = upper[cells[j]] = x_true[cells[j]]
            for k, cell in enumerate(cells):
                for maximize in (False, True):
                    got, _ = model.extreme(k, maximize=maximize)
                    sign = -1.0 if maximize else 1.0
                    limits = [None if u == INF else u for u in upper]
                    ref = linprog(
                        sign * np.eye(n)[cell],
                        A_eq=dense,
                        b_eq=dense @ x_true,
                        bounds=list(zip(lower, limits, strict=True)),
                        method="highs",
                    )
                    if ref.status == 3:
                        assert got == (INF if maximize else -INF)
                    else:
                        assert ref.status == 0
                        assert got == pytest.approx(sign * ref.fun, abs=1e-6)
            if step >= 2:
                model.set_bounds(j, 0.0, INF)
