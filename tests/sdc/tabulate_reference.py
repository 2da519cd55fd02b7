"""A slow, obviously-correct tabulation in plain pandas, for testing the DuckDB one.

Brute force: for every cell (every combination of codes), select the rows under it,
sum each contributor's rows, sort the contributor totals. No cleverness anywhere.
"""

from __future__ import annotations

import itertools

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
    rows = []
    for combo in itertools.product(*(h.order for h in hierarchies)):
        mask = pd.Series(True, index=df.index)
        for dim, h, code in zip(spec.dimension_names, hierarchies, combo, strict=True):
            mask &= df[dim].isin(set(h.leaves_under(code)))
        per_unit = basis[mask].groupby(unit[mask]).sum().sort_values(ascending=False)
        top = list(per_unit.iloc[:k]) + [0.0] * max(0, k - len(per_unit))
        row = dict(zip(spec.dimension_names, combo, strict=True))
        row[C.RECORDS] = int(mask.sum())
        row[C.CONTRIBUTORS] = int(unit[mask].nunique())
        row[C.VALUE] = float(value[mask].sum())
        row[C.RULE_TOTAL] = float(basis[mask].sum())
        for i in range(k):
            row[C.top_column(i + 1)] = float(top[i])
        row[C.NEGATIVES] = int((x[mask] < 0).sum())
        rows.append(row)
    return pd.DataFrame(rows)
