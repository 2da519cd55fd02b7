"""Every solver instance shares one thread set-up, so solves in any order keep working."""

import numpy as np
import scipy.sparse as sp
from audit_helpers import aggregate, make_cells, tree  # noqa: F401

from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.lp.attack import LinearAttack
from fivesafes.sdc.lp.highs import new_highs


def test_an_audit_after_another_solve_still_runs():
    # A differencing-style solve first (it once started HiGHS's scheduler with two
    # threads, after which every single-threaded audit model failed with "Not Set").
    a = sp.csr_matrix(np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]))
    low, high = LinearAttack(a, np.array([3.0, 5.0]), np.zeros(3), np.full(3, np.inf)).interval(
        {0: 1.0}
    )
    assert low.value == 0.0 and abs(high.value - 3.0) < 1e-9
    hs = [tree("a", [2, 2]), tree("b", [3])]
    leaf = np.arange(1, 13, dtype=float).reshape(4, 3)
    hidden = [("a0.1", "b0"), ("a0.0", "b1"), ("a0.1", "b1")]
    cells = make_cells(hs, leaf, primary={("a0.0", "b0"): (1.0, 1.0)}, secondary=hidden)
    assert audit_table(cells, hs).safe


def test_solver_instances_are_quiet_and_single_threaded():
    h = new_highs()
    assert h.getOptionValue("output_flag")[1] is False
    assert h.getOptionValue("threads")[1] == 1
