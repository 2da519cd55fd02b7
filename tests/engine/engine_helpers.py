"""Helpers of the engine tests: comparing two engines' cells."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fivesafes.sdc import cells as C


def assert_same_cells(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Same columns, dtypes, rows and order; counts exact, sums to 1e-9 relative."""
    assert list(got.columns) == list(want.columns)
    assert list(got.dtypes) == list(want.dtypes)
    assert got.index.equals(want.index)
    for col in want.columns:
        if col in (C.VALUE, C.RULE_TOTAL) or col.startswith(C.TOP_PREFIX):
            # sums in another order differ in their last bits; relative to the column's scale
            # so that a margin summing to 0 with cancelling negatives compares too
            scale = float(np.abs(want[col]).max()) if len(want) else 0.0
            np.testing.assert_allclose(
                got[col], want[col], rtol=1e-9, atol=1e-12 * max(scale, 1.0), err_msg=col
            )
        else:
            assert got[col].tolist() == want[col].tolist(), col
