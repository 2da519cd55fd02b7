"""What researchers pass (Series, lists of Series, DataFrames, arrays) as named columns.

Mirrors how ACRO (and pandas' ``crosstab``) read their arguments: a Series keeps its
name, anything unnamed is called ``row_var0``, ``col_var0``, ... and values
``dependent_var``; Series are aligned on their index, as pandas does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fivesafes.errors import DataError


def as_series_list(axis: Any, prefix: str) -> list[pd.Series]:
    """One Series per dimension, each with a name."""
    if axis is None:
        items: list[pd.Series] = []
    elif isinstance(axis, pd.Series):
        items = [axis]
    elif isinstance(axis, pd.DataFrame):
        items = [axis[c] for c in axis.columns]
    elif isinstance(axis, list | tuple):
        if all(_scalar(x) for x in axis):
            items = [pd.Series(list(axis))]
        else:
            items = [s for x in axis for s in as_series_list(x, prefix)]
    elif isinstance(axis, np.ndarray):
        arr = axis if axis.ndim > 1 else axis.reshape(-1, 1)
        items = [pd.Series(arr[:, i]) for i in range(arr.shape[1])]
    elif isinstance(axis, pd.Categorical):
        items = [pd.Series(axis)]
    else:
        raise DataError(
            f"cannot use a {type(axis).__name__} as a table dimension",
            hint="give a pandas Series (e.g. df.region) or a list of them",
        )
    out = []
    for i, s in enumerate(items):
        out.append(s if s.name is not None else s.rename(f"{prefix}_var{i}"))
    return out


def _scalar(x: Any) -> bool:
    return isinstance(x, str | int | float | bool)


def values_series(values: Any) -> pd.Series | None:
    """The values as a named Series (``dependent_var`` when unnamed), or None."""
    if values is None:
        return None
    if isinstance(values, pd.Series):
        s = values
    elif isinstance(values, np.ndarray):
        s = pd.Series(values if values.ndim == 1 else values[:, 0])
    else:
        s = pd.Series(values)
    return s if s.name is not None else s.rename("dependent_var")


def table_frame(dims: list[pd.Series], values: pd.Series | None) -> pd.DataFrame:
    """The columns ``k0``.. and ``v`` of one table, aligned on their index."""
    columns: dict[str, pd.Series] = {f"k{i}": s for i, s in enumerate(dims)}
    for s in dims:
        # DuckDB reads a mixed object column as text: 1 and "1" would become one code
        if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True).startswith("mixed"):
            raise DataError(
                f"dimension {s.name!r} mixes types (e.g. 1 and '1')",
                hint="give the dimension one type (e.g. .astype(str))",
            )
    if values is not None:
        if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(
            values.dtype
        ):
            raise DataError(
                f"values {values.name!r} are not numbers ({values.dtype})",
                hint="aggregate a numeric column (convert it with pd.to_numeric)",
            )
        if np.isinf(values.to_numpy(dtype=float, na_value=np.nan)).any():
            # a cell's sum and largest values become infinite, and the dominance shares
            # inf/inf are NaN: no cell would ever fail N-k or p-ratio
            raise DataError(
                f"values {values.name!r} hold infinite numbers",
                hint="drop or recode them (e.g. values.replace([np.inf, -np.inf], np.nan))",
            )
        columns["v"] = values
    indexes = [s.index for s in columns.values()]
    if all(ix is indexes[0] or ix.equals(indexes[0]) for ix in indexes[1:]):
        # one index: no alignment needed (the common case, and free of copies)
        return pd.DataFrame({k: s.array for k, s in columns.items()}, index=indexes[0], copy=False)
    return pd.DataFrame(columns)
