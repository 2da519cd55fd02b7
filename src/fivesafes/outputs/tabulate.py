"""One DuckDB pass over the microdata: every cell of a table and of all its margins, with evidence.

ACRO computes its evidence with about nine ``pd.crosstab`` calls (several with Python
aggregation functions) and suppresses by deleting records and re-running the table.
Here one ``GROUP BY`` over the finest cells gives the counts, sums, the N largest
values, minima, negatives and the parts of the variance; every margin (the whole cube:
each dimension at a code or at its total) is then rolled up from those leaf cells in
numpy, exactly, because each record sits in one leaf cell. Medians and modes cannot be
rolled up and are computed by DuckDB with ``GROUPING SETS`` for the cells shown.

Arrays are dense over the cube: axis ``i`` has one slot per code of dimension ``i`` and
a last slot for its total.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from fivesafes.errors import DataError
from fivesafes.sdc.tabulate import engine_errors, one_thread, private_connection

FloatArray = npt.NDArray[np.float64]
Reducer = Callable[[FloatArray, tuple[int, ...]], FloatArray]

ADDITIVE = ("count", "sum", "mean")
STATISTICS = ("count", "sum", "mean", "median", "std", "min", "max", "mode")


@dataclass(frozen=True)
class Axis:
    """One dimension: its name and its codes in display order (as the data hold them)."""

    name: str
    codes: tuple[Any, ...]
    categorical: bool = False

    @property
    def labels(self) -> tuple[str, ...]:
        """The codes as strings (how ``sdc`` addresses cells)."""
        return tuple(str(c) for c in self.codes)

    @property
    def size(self) -> int:
        """Number of codes (the total not counted)."""
        return len(self.codes)


@dataclass(frozen=True)
class Cube:
    """Every cell of a table and its margins: evidence and statistics as dense arrays."""

    axes: tuple[Axis, ...]
    count: FloatArray  # records in the cell
    values: FloatArray  # non-missing values in the cell
    sum: FloatArray
    abs_sum: FloatArray  # sum of absolute values (the dominance rules' total)
    negatives: FloatArray  # records with a negative value
    tops: FloatArray  # shape + (top_n,): the largest absolute values, descending, 0 if fewer
    stats: dict[str, FloatArray] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        """The cube's shape (each axis: its codes and the total)."""
        return tuple(a.size + 1 for a in self.axes)

    def top_sum(self, n: int) -> FloatArray:
        """Sum of the ``n`` largest values per cell."""
        out: FloatArray = self.tops[..., :n].sum(axis=-1)
        return out


@dataclass(frozen=True)
class Request:
    """What to tabulate: dimension and value columns of ``frame`` and the statistics needed."""

    frame: pd.DataFrame  # columns k0..kD-1 (dimensions) and, with values, v
    names: tuple[str, ...]  # display names of k0..kD-1
    has_values: bool
    statistics: tuple[str, ...]
    top_n: int
    shown: tuple[tuple[int, ...], ...]  # the cube subsets shown (axes at their total)


def tabulate(request: Request, connection: duckdb.DuckDBPyConnection | None = None) -> Cube:
    """Compute the cube of ``request`` (one pass for the leaf cells, numpy for the margins)."""
    con = connection if connection is not None else private_connection()
    try:
        # one thread: the same frame gives the same cube, bit for bit (see one_thread);
        # its values feed the checks, the suppression and the differencing against the
        # register
        with engine_errors(own=connection is None), one_thread(con):
            return _tabulate(con, request)
    finally:
        if connection is None:
            con.close()


def _tabulate(con: duckdb.DuckDBPyConnection, request: Request) -> Cube:
    frame = request.frame
    dims = [f"k{i}" for i in range(len(request.names))]
    counted = _counted_categories(frame, dims, request)
    if counted is not None:
        leaf, key_of = counted
        axes, positions = _axes(request.names, leaf, dims, key_of)
        shape = tuple(a.size for a in axes)
        return _roll_up(axes, _dense(leaf, positions, shape, request), request)
    codes_in, key_of = _prepare_keys(frame, dims)
    view = f"fivesafes_outputs_{id(request):x}"
    con.register(view, codes_in)
    try:
        where = _where(dims, key_of)
        leaf = _leaf_query(con, view, dims, request, where)
        axes, positions = _axes(request.names, leaf, dims, key_of)
        shape = tuple(a.size for a in axes)
        arrays = _dense(leaf, positions, shape, request)
        cube = _roll_up(axes, arrays, request)
        for name in ("median", "mode"):
            if name in request.statistics:
                cube.stats[name] = _positional(con, view, dims, axes, key_of, request, name, where)
    finally:
        con.unregister(view)
    return cube


NUMPY_STATISTICS = frozenset({"count", "sum", "mean"})  # what the numpy pass computes


def _counted_categories(
    frame: pd.DataFrame, dims: Sequence[str], request: Request
) -> tuple[dict[str, Any], dict[str, tuple[Any, ...] | None]] | None:
    """A count, sum or mean table over categorical dimensions, in numpy: the leaf rows
    DuckDB's GROUP BY would give, in a fraction of its time (bincounts of the combined
    category codes; the largest values by rounds of ``maximum.at``). None: another table
    (other statistics, or a dimension that is not categorical)."""
    if not dims or not set(request.statistics) <= NUMPY_STATISTICS:
        return None
    columns = [frame[d] for d in dims]
    if not all(isinstance(c.dtype, pd.CategoricalDtype) for c in columns):
        return None
    values = None
    if request.has_values:
        raw = frame["v"]
        if not pd.api.types.is_numeric_dtype(raw.dtype) or isinstance(
            raw.dtype, pd.CategoricalDtype
        ):
            return None
        values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
    codes = [c.cat.codes.to_numpy() for c in columns]
    shape = tuple(len(c.cat.categories) for c in columns)
    size = int(np.prod(shape, dtype=np.float64))
    if not all(shape) or size > 50_000_000:
        return None
    # in place on one int64 array: each 1M-row temporary costs about a millisecond
    flat = codes[0].astype(np.int64)
    for c, n in zip(codes[1:], shape[1:], strict=True):
        flat *= n
        flat += c
    if any(c.min() < 0 for c in codes if c.size):
        present = np.ones(len(frame), dtype=bool)
        for c in codes:
            present &= c >= 0  # a missing category (-1) is left out, as pandas does
        flat = flat[present]
        values = values[present] if values is not None else None
    counts = np.bincount(flat, minlength=size)
    seen = np.flatnonzero(counts)  # GROUP BY gives only the combinations that occur
    leaf: dict[str, Any] = dict(zip(dims, np.unravel_index(seen, shape), strict=True))
    leaf["n"] = counts[seen].astype(np.float64)
    if values is not None:
        missing = np.isnan(values)  # a missing value is not counted (count(v) in SQL)
        some_missing = bool(missing.any())
        at, v = (flat[~missing], values[~missing]) if some_missing else (flat, values)
        absolute = np.abs(v)
        known = np.bincount(at, minlength=size) if some_missing else counts
        leaf["nv"] = known[seen].astype(np.float64)
        leaf["s"] = np.bincount(at, weights=v, minlength=size)[seen]
        leaf["sa"] = np.bincount(at, weights=absolute, minlength=size)[seen]
        negative = v < 0
        leaf["neg"] = (
            np.bincount(at[negative], minlength=size)[seen].astype(np.float64)
            if negative.any()
            else np.zeros(seen.size)
        )
        for i, top in enumerate(_largest(at, absolute, size, request.top_n), start=1):
            leaf[f"t{i}"] = top[seen]
    return leaf, {d: tuple(c.cat.categories) for d, c in zip(dims, columns, strict=True)}


PREFILTER_ABOVE = 100_000  # records above which the candidates are narrowed first


def _largest(
    at: npt.NDArray[np.int64], absolute: FloatArray, size: int, n: int
) -> list[FloatArray]:
    """Per cell, the ``n`` largest of ``absolute`` (0 when fewer), as DuckDB's max(x, n).

    Many records: the records are cut into ``n`` runs and each run's maximum per cell
    taken (one ``maximum.at`` over all, in pieces). Those are ``n`` distinct records of
    the cell, so its n-th largest value is at least the smallest of them: only records
    at or above that bound can be among the ``n`` largest (a cell missing from a run
    gets bound 0 and keeps every record). The exact rounds then run on those few.
    """
    if at.size <= PREFILTER_ABOVE or n < 1:
        return _largest_exact(at, absolute, size, n)
    runs = np.zeros((n, size))
    edges = np.linspace(0, at.size, n + 1).astype(np.int64)
    for k in range(n):
        np.maximum.at(runs[k], at[edges[k] : edges[k + 1]], absolute[edges[k] : edges[k + 1]])
    bound = runs.min(axis=0)
    keep = np.flatnonzero(absolute >= bound[at])
    return _largest_exact(at[keep], absolute[keep], size, n)


def _largest_exact(
    at: npt.NDArray[np.int64], absolute: FloatArray, size: int, n: int
) -> list[FloatArray]:
    """Per cell, the ``n`` largest of ``absolute`` (0 when fewer), by rounds.

    Each round finds each cell's largest remaining value (one ``maximum.at``) and how
    often it occurs there: a value tied k times fills k slots. The values found are then
    masked (not removed: a copy of the survivors costs more than a ``where``), and the
    last round needs no count, as at most one slot per cell is left by then.
    """
    tops = np.zeros((n, size))
    filled = np.zeros(size, dtype=np.int64)  # slots already holding a value, per cell
    current = absolute
    for r in range(n):
        level = np.zeros(size)
        if at.size:
            np.maximum.at(level, at, current)
        if r == n - 1:
            free = np.flatnonzero(filled < n)
            tops[filled[free], free] = level[free]
            break
        found = current == level[at]
        times = np.bincount(at[found], minlength=size)
        for k in range(n):
            slot = (filled <= k) & (k < filled + times)
            tops[k, slot] = level[slot]
        filled = filled + times
        # absolute values are >= 0: -1 is below all of them, and a cell left with only
        # masked values gets level 0 (the slot's value when a cell has fewer than n)
        current = np.where(found, -1.0, current)
    return list(tops)


def _prepare_keys(
    frame: pd.DataFrame, dims: Sequence[str]
) -> tuple[pa.Table, dict[str, tuple[Any, ...] | None]]:
    """The columns as an Arrow table (DuckDB scans it without a copy); categorical
    dimensions as their integer codes (all categories shown, -1 for missing)."""
    out: dict[str, pa.Array] = {}
    key_of: dict[str, tuple[Any, ...] | None] = {}
    for d in dims:
        col = frame[d]
        if isinstance(col.dtype, pd.CategoricalDtype):
            out[d] = pa.array(col.cat.codes.to_numpy())
            key_of[d] = tuple(col.cat.categories)
        else:
            out[d] = pa.Array.from_pandas(col)
            key_of[d] = None
    if "v" in frame.columns:
        # from_pandas: NaN is missing (null), as pandas counts it
        out["v"] = pa.Array.from_pandas(frame["v"])
    return pa.table(out), key_of


def _not_missing(d: str, categorical: bool) -> str:
    return f"{d} >= 0" if categorical else f"{d} IS NOT NULL"


def _where(dims: Sequence[str], key_of: dict[str, tuple[Any, ...] | None]) -> str:
    return " AND ".join(_not_missing(d, key_of[d] is not None) for d in dims)


def _leaf_query(
    con: duckdb.DuckDBPyConnection,
    view: str,
    dims: Sequence[str],
    request: Request,
    where: str,
) -> dict[str, Any]:
    stats = set(request.statistics)
    cols = ["count(*)::DOUBLE AS n"]
    if request.has_values:
        v = "v::DOUBLE"
        cols += [
            f"count({v})::DOUBLE AS nv",
            f"coalesce(sum({v}), 0) AS s",
            f"coalesce(sum(abs({v})), 0) AS sa",
            # a cell of missing values only has no negatives (count_if gives NULL there,
            # which would turn every margin over it into NaN and hide its negatives)
            f"coalesce(count_if({v} < 0), 0)::DOUBLE AS neg",
        ]
        cols += [
            f"coalesce(list_extract(max(abs({v}), {request.top_n}), {i}), 0) AS t{i}"
            for i in range(1, request.top_n + 1)
        ]
        if "min" in stats:
            cols.append(f"min({v}) AS mn")
        if "max" in stats:
            cols.append(f"max({v}) AS mx")
        if "std" in stats:
            cols.append(f"coalesce(var_samp({v}) * (count({v}) - 1), 0) AS m2")
    keys = ", ".join(dims)
    sql = f"SELECT {keys}, {', '.join(cols)} FROM {view} WHERE {where} GROUP BY {keys}"
    result = con.execute(sql).fetchnumpy()
    return {k: np.ma.filled(v, np.nan) if np.ma.isMaskedArray(v) else v for k, v in result.items()}


def _axes(
    names: Sequence[str],
    leaf: dict[str, Any],
    dims: Sequence[str],
    key_of: dict[str, tuple[Any, ...] | None],
) -> tuple[tuple[Axis, ...], list[npt.NDArray[np.int64]]]:
    """The axes (codes in pandas' display order) and each leaf row's position on them."""
    axes: list[Axis] = []
    positions: list[npt.NDArray[np.int64]] = []
    for name, d in zip(names, dims, strict=True):
        raw = leaf[d]
        categories = key_of[d]
        if categories is not None:
            keep = np.asarray(raw, dtype=np.int64)
            # a categorical's missing values have code -1 (pandas drops them)
            axes.append(Axis(name, categories, categorical=True))
            positions.append(keep)
            continue
        values = list(pd.unique(pd.Series(raw, dtype=object)))
        try:
            ordered = sorted(values)
        except TypeError as exc:
            raise DataError(
                f"dimension {name!r} mixes values that cannot be ordered ({exc})",
                hint="give the dimension one type (e.g. .astype(str))",
            ) from None
        labels = [str(v) for v in ordered]
        if len(set(labels)) != len(labels):
            raise DataError(
                f"dimension {name!r} has codes that read the same as text (e.g. 1 and '1')",
                hint="give the dimension one type (e.g. .astype(str))",
            )
        lookup = {v: i for i, v in enumerate(ordered)}
        axes.append(Axis(name, tuple(ordered)))
        positions.append(np.fromiter((lookup[v] for v in raw), dtype=np.int64, count=len(raw)))
    return tuple(axes), positions


def _dense(
    leaf: dict[str, Any],
    positions: list[npt.NDArray[np.int64]],
    shape: tuple[int, ...],
    request: Request,
) -> dict[str, FloatArray]:
    keep = np.ones(len(leaf["n"]), dtype=bool)
    for p in positions:
        keep &= p >= 0
    flat = (
        np.ravel_multi_index(tuple(p[keep] for p in positions), shape)
        if shape
        else np.zeros(int(keep.sum()), dtype=np.int64)
    )
    size = int(np.prod(shape)) if shape else 1

    def fill(column: str, empty: float) -> FloatArray:
        out = np.full(size, empty, dtype=np.float64)
        out[flat] = np.asarray(leaf[column], dtype=np.float64)[keep]
        return out.reshape(shape)

    arrays = {"n": fill("n", 0.0)}
    if request.has_values:
        for col in ("nv", "s", "sa", "neg"):
            arrays[col] = fill(col, 0.0)
        arrays["tops"] = np.stack(
            [fill(f"t{i}", 0.0) for i in range(1, request.top_n + 1)], axis=-1
        )
        for col in ("mn", "mx", "m2"):
            if col in leaf:
                arrays[col] = fill(col, np.nan if col != "m2" else 0.0)
    return arrays


def cube_of(leaf: FloatArray, reduce: Reducer, *, extra: int = 0) -> FloatArray:
    """The leaf grid extended by every margin: axis i gets its total as a last slot.

    ``reduce(array, axes)`` aggregates over ``axes`` keeping them (size 1); ``extra``
    trailing axes (e.g. the top-N list) are carried along, not aggregated.
    """
    dims = leaf.ndim - extra
    shape = leaf.shape[:dims]
    out = np.empty(tuple(n + 1 for n in shape) + leaf.shape[dims:], dtype=np.float64)
    for mask in range(2**dims):
        axes = tuple(i for i in range(dims) if mask >> i & 1)
        part = reduce(leaf, axes) if axes else leaf
        where = tuple(slice(n, n + 1) if i in axes else slice(0, n) for i, n in enumerate(shape))
        out[where] = part
    return out


def _sum(a: FloatArray, axes: tuple[int, ...]) -> FloatArray:
    out: FloatArray = a.sum(axis=axes, keepdims=True)
    return out


def _fmin(a: FloatArray, axes: tuple[int, ...]) -> FloatArray:
    out: FloatArray = np.fmin.reduce(a, axis=axes, keepdims=True)
    return out


def _fmax(a: FloatArray, axes: tuple[int, ...]) -> FloatArray:
    out: FloatArray = np.fmax.reduce(a, axis=axes, keepdims=True)
    return out


def _tops(k: int) -> Reducer:
    def reduce(a: FloatArray, axes: tuple[int, ...]) -> FloatArray:
        dims = a.ndim - 1
        moved = np.moveaxis(a, axes, tuple(range(dims - len(axes), dims)))
        keep = moved.shape[: dims - len(axes)]
        merged = moved.reshape((*keep, -1))
        top: FloatArray = -np.sort(-merged, axis=-1)[..., :k]
        for ax in sorted(axes):
            top = np.expand_dims(top, ax)
        return top

    return reduce


def _roll_up(axes: tuple[Axis, ...], a: dict[str, FloatArray], request: Request) -> Cube:
    count = cube_of(a["n"], _sum)
    if not request.has_values:
        zeros = np.zeros_like(count)
        return Cube(axes, count, count, zeros, zeros, zeros, zeros[..., None], {"count": count})
    values = cube_of(a["nv"], _sum)
    total = cube_of(a["s"], _sum)
    abs_total = cube_of(a["sa"], _sum)
    negatives = cube_of(a["neg"], _sum)
    tops = cube_of(a["tops"], _tops(request.top_n), extra=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(values > 0, total / np.where(values > 0, values, 1), np.nan)
    stats: dict[str, FloatArray] = {"count": values, "sum": total, "mean": mean}
    if "mn" in a:
        stats["min"] = cube_of(a["mn"], _fmin)
    if "mx" in a:
        stats["max"] = cube_of(a["mx"], _fmax)
    if "m2" in a:
        stats["std"] = _std(a["nv"], a["s"], a["m2"])
    return Cube(axes, count, values, total, abs_total, negatives, tops, stats)


def _std(n: FloatArray, s: FloatArray, m2: FloatArray) -> FloatArray:
    """Sample standard deviation of every margin from the leaf cells' parts (Chan et al.)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, s / np.where(n > 0, n, 1), 0.0)
        count = cube_of(n, _sum)

        def reduce_m2(a: FloatArray, axes: tuple[int, ...]) -> FloatArray:
            del a
            g_n = n.sum(axis=axes, keepdims=True)
            g_mean = np.where(
                g_n > 0, s.sum(axis=axes, keepdims=True) / np.where(g_n > 0, g_n, 1), 0
            )
            out: FloatArray = (m2 + n * (mean - g_mean) ** 2).sum(axis=axes, keepdims=True)
            return out

        m2_all = cube_of(m2, reduce_m2)
        std: FloatArray = np.where(count > 1, np.sqrt(np.maximum(m2_all, 0) / (count - 1)), np.nan)
    return std


def _positional(
    con: duckdb.DuckDBPyConnection,
    view: str,
    dims: Sequence[str],
    axes: tuple[Axis, ...],
    key_of: dict[str, tuple[Any, ...] | None],
    request: Request,
    name: str,
    where: str,
) -> FloatArray:
    """Median or mode of the cells shown, by GROUPING SETS (they cannot be rolled up)."""
    out = np.full(tuple(a.size + 1 for a in axes), np.nan)
    sets = ", ".join(
        "(" + ", ".join(d for i, d in enumerate(dims) if i not in subset) + ")"
        for subset in request.shown
    )
    flags = ", ".join(f"grouping({d}) AS g{i}" for i, d in enumerate(dims))
    keys = ", ".join(dims)
    where = f"{where} AND v IS NOT NULL"
    if name == "median":
        sql = (
            f"SELECT {keys}, {flags}, median(v::DOUBLE) AS x FROM {view} WHERE {where} "
            f"GROUP BY GROUPING SETS ({sets})"
        )
    else:
        # the smallest of the most frequent values (ACRO picks one of them at random)
        sets_v = ", ".join(
            "(" + ", ".join([*(d for i, d in enumerate(dims) if i not in subset), "v"]) + ")"
            for subset in request.shown
        )
        sql = (
            f"WITH f AS (SELECT {keys}, {flags}, v::DOUBLE AS v, count(*) AS c FROM {view} "
            f"WHERE {where} GROUP BY GROUPING SETS ({sets_v})) "
            f"SELECT {keys}, {', '.join(f'g{i}' for i in range(len(dims)))}, "
            f"arg_min(v, [-c::DOUBLE, v]) AS x FROM f "
            f"GROUP BY {keys}, {', '.join(f'g{i}' for i in range(len(dims)))}"
        )
    rows = con.execute(sql).fetchnumpy()
    total = len(rows["x"])
    index: list[npt.NDArray[np.int64]] = []
    for i, (axis, d) in enumerate(zip(axes, dims, strict=True)):
        at_total = np.asarray(rows[f"g{i}"], dtype=np.int64) == 1
        raw = np.ma.filled(rows[d], -1) if np.ma.isMaskedArray(rows[d]) else rows[d]
        if key_of[d] is not None:
            pos = np.asarray(raw, dtype=np.int64)
        else:
            lookup = {c: j for j, c in enumerate(axis.codes)}
            pos = np.fromiter(
                (lookup.get(c, -1) if not t else -1 for c, t in zip(raw, at_total, strict=True)),
                dtype=np.int64,
                count=total,
            )
        index.append(np.where(at_total, axis.size, pos))
    x = np.ma.filled(rows["x"], np.nan) if np.ma.isMaskedArray(rows["x"]) else rows["x"]
    ok = np.all([i >= 0 for i in index], axis=0) if index else np.ones(total, dtype=bool)
    out[tuple(i[ok] for i in index)] = np.asarray(x, dtype=np.float64)[ok]
    return out


def subsets(n_dims: int) -> tuple[tuple[int, ...], ...]:
    """Every subset of axes (as the axes at their total), the empty one first."""
    return tuple(c for r in range(n_dims + 1) for c in itertools.combinations(range(n_dims), r))
