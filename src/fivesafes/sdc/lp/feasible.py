"""Whether a system of sums and bounds has any solution at all: one LP without an objective.

The attacker's LPs (sdc/lp/attack.py) take a feasible system for granted (the true figures
are a point of it). When they are not, the differencing check asks this of parts of the
system to find which outputs cannot hold together (sdc/differencing.py).
"""

from __future__ import annotations

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fivesafes.sdc.lp.attack import highs_bounds
from fivesafes.sdc.lp.highs import new_highs

FloatArray = npt.NDArray[np.float64]


def feasible(
    a: sp.csr_matrix, low: FloatArray, high: FloatArray, lower: FloatArray, upper: FloatArray
) -> bool:
    """Whether some ``x`` with ``lower <= x <= upper`` has ``low <= a x <= high``.

    Only a proof of infeasibility answers False: a solver that stops undecided answers
    True (the caller then keeps the error it had)."""
    n_rows, n_cols = a.shape
    if n_rows == 0:
        return bool(np.all(lower <= upper))
    csc = sp.csc_matrix(a)
    lp = highspy.HighsLp()
    lp.num_col_ = int(n_cols)
    lp.num_row_ = int(n_rows)
    lp.col_cost_ = np.zeros(n_cols)
    lp.col_lower_ = highs_bounds(lower)
    lp.col_upper_ = highs_bounds(upper)
    lp.row_lower_ = np.asarray(low, dtype=np.float64)
    lp.row_upper_ = np.asarray(high, dtype=np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(np.float64)
    h = new_highs()
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    return status != highspy.HighsModelStatus.kInfeasible
