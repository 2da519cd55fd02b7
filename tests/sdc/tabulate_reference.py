"""A slow, obviously-correct tabulation in plain pandas, for testing the DuckDB one.

Brute force: for every cell (every combination of codes), select the rows under it,
sum each contributor's rows, sort the contributor totals. No cleverness anywhere.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from fivesafes.sdc import cells as C
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.spec import TableSpec


def reference_cells(
    spec: TableSpec, data: pd.DataFrame, hierarchies: tuple[Hierarchy, ...], k: int
) -> pd.DataFrame:
    """Every cell of the table, computed one cell at a time."""
    df = data.reset_index(drop=True)
    weight = df[spec.weight].astype(float) if spec.weight else pd.Series(1.0, index=df.index)
    if spec.response is None:
        x = pd.Series(0.0, index=df.index)
        value = weight
        basis = weight if spec.rules.apply_weights else pd.Series(1.0, index=df.index)
    else:
        x = df[spec.response].astype(float)
        value = x * weight
        basis = x.abs() if spec.rules.negatives == "absolute" else x
        if spec.weight and spec.rules.apply_weights:
            basis = basis * weight
    unit_col = spec.holding or spec.contributor
    unit = df[unit_col] if unit_col else pd.Series(df.index, index=df.index)
    unit_ids, _ = pd.factorize(unit)
    # Rows under each code of each dimension (the code's leaves).
    under = [
        {code: df[dim].isin(set(h.leaves_under(code))).to_numpy() for code in h.order}
        for dim, h in zip(spec.dimension_names, hierarchies, strict=True)
    ]
    x_arr, value_arr, basis_arr = x.to_numpy(), value.to_numpy(), basis.to_numpy()
    rows = []
    for combo in itertools.product(*(h.order for h in hierarchies)):
        mask = np.ones(len(df), dtype=bool)
        for masks, code in zip(under, combo, strict=True):
            mask &= masks[code]
        # Each contributor's total in the cell, then the largest first.
        per_unit = np.bincount(unit_ids[mask], weights=basis_arr[mask], minlength=1)
        present = np.bincount(unit_ids[mask], minlength=1) > 0
        totals = sorted(per_unit[present], reverse=True)
        top = totals[:k] + [0.0] * max(0, k - len(totals))
        row: dict[str, object] = dict(zip(spec.dimension_names, combo, strict=True))
        row[C.RECORDS] = int(mask.sum())
        row[C.CONTRIBUTORS] = int(present.sum())
        row[C.VALUE] = float(value_arr[mask].sum())
        row[C.RULE_TOTAL] = float(basis_arr[mask].sum())
        for i in range(k):
            row[C.top_column(i + 1)] = float(top[i])
        row[C.NEGATIVES] = int((x_arr[mask] < 0).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def order_sensitive_rows(n: int = 600_000, seed: int = 5) -> pd.DataFrame:
    """Rows whose cell sums depend on the order of adding (a reproducibility test's data).

    Two dimensions ``a`` and ``b`` of 8 codes, a value ``x`` spread over many orders of
    magnitude, a contributor ``u``: with DuckDB's parallel ``sum`` on two threads most
    repeats of a tabulation of them differed in the last bits of some cell.
    """
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.integers(0, 8, n).astype(str),
            "b": rng.integers(0, 8, n).astype(str),
            "x": rng.lognormal(0.0, 4.0, n),
            "u": rng.integers(0, 50_000, n).astype(str),
        }
    )
