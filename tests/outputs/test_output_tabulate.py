"""The DuckDB cube equals pandas on every cell and margin, for every statistic."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tabulate_reference import order_sensitive_rows

from fivesafes.errors import DataError
from fivesafes.outputs.tabulate import Request, tabulate

ALL = ("count", "sum", "mean", "median", "std", "min", "max", "mode")
SHOWN = ((), (0,), (1,), (0, 1))


def cube_of(df: pd.DataFrame, stats: tuple[str, ...] = ALL, top_n: int = 2):
    frame = pd.DataFrame({"k0": df["a"], "k1": df["b"], "v": df["v"]})
    return tabulate(Request(frame, ("a", "b"), True, stats, top_n, SHOWN))


def pandas_table(df: pd.DataFrame, agg: str) -> np.ndarray:
    table = pd.crosstab(df["a"], df["b"], values=df["v"], aggfunc=agg, margins=True, dropna=False)
    return table.to_numpy(dtype=float)


frames = st.integers(1, 60).flatmap(
    lambda n: st.builds(
        lambda a, b, v: pd.DataFrame({"a": a, "b": b, "v": v}),
        st.lists(st.sampled_from(["x", "y", "z"]), min_size=n, max_size=n),
        st.lists(st.sampled_from(["p", "q"]), min_size=n, max_size=n),
        st.lists(st.integers(-50, 1000).map(float), min_size=n, max_size=n),
    )
)


@settings(max_examples=40, deadline=None)
@given(frames)
def test_every_statistic_matches_pandas(df: pd.DataFrame) -> None:
    cube = cube_of(df)
    observed = pd.crosstab(df["a"], df["b"], margins=True, dropna=False)
    # pandas shows observed codes only (strings, not categoricals): compare on those
    rows = [cube.axes[0].codes.index(c) for c in observed.index[:-1]] + [cube.axes[0].size]
    cols = [cube.axes[1].codes.index(c) for c in observed.columns[:-1]] + [cube.axes[1].size]
    pick = np.ix_(rows, cols)
    assert np.array_equal(cube.count[pick], observed.to_numpy(dtype=float))
    for agg in ("sum", "mean", "median", "std", "min", "max"):
        want = pandas_table(df, agg)
        got = cube.stats[agg][pick]
        if agg == "sum":  # pandas shows an empty cell's sum as NaN, we keep 0 (and hide it)
            want = np.where(np.isnan(want), 0.0, want)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, equal_nan=True)


def test_top_values_and_negatives_roll_up_exactly() -> None:
    df = pd.DataFrame(
        {
            "a": ["x", "x", "x", "y", "y"],
            "b": ["p", "q", "p", "p", "q"],
            "v": [5.0, 9.0, 1.0, -7.0, 2.0],
        }
    )
    cube = cube_of(df, ("sum",), top_n=3)
    total = (cube.axes[0].size, cube.axes[1].size)
    assert list(cube.tops[total]) == [9.0, 7.0, 5.0]  # largest absolute values of all rows
    assert cube.negatives[total] == 1
    assert cube.abs_sum[total] == 24.0
    assert cube.sum[total] == 10.0


def test_mode_is_the_smallest_most_frequent_value() -> None:
    df = pd.DataFrame({"a": ["x"] * 5, "b": ["p"] * 5, "v": [3.0, 3.0, 1.0, 1.0, 7.0]})
    cube = cube_of(df, ("mode",))
    assert cube.stats["mode"][0, 0] == 1.0


def test_missing_keys_are_left_out_and_missing_values_do_not_count() -> None:
    df = pd.DataFrame({"a": ["x", None, "x"], "b": ["p", "p", "p"], "v": [1.0, 2.0, np.nan]})
    cube = cube_of(df, ("count", "mean"))
    assert cube.axes[0].codes == ("x",)
    assert cube.count[0, 0] == 2  # records
    assert cube.values[0, 0] == 1  # values
    assert cube.stats["mean"][0, 0] == 1.0


def test_categorical_shows_every_category_and_drops_missing() -> None:
    a = pd.Categorical(["x", "x", None], categories=["x", "w"])
    df = pd.DataFrame({"a": a, "b": ["p", "p", "p"], "v": [1.0, 2.0, 3.0]})
    cube = cube_of(df, ("count",))
    assert cube.axes[0].codes == ("x", "w")
    assert list(cube.count[:, 0]) == [2.0, 0.0, 2.0]


def test_codes_of_mixed_types_are_refused() -> None:
    from fivesafes.outputs import Session

    a = pd.Series([1, "1", 2], dtype=object, name="a")
    with pytest.raises(DataError, match="mixes types"):
        Session().crosstab(a, pd.Series(["p", "p", "q"], name="b"))


cat_frames = st.integers(1, 80).flatmap(
    lambda n: st.tuples(
        st.lists(st.sampled_from(["x", "y", None]), min_size=n, max_size=n),
        st.lists(st.sampled_from(["p", "q", "r", None]), min_size=n, max_size=n),
        st.lists(st.sampled_from(["u", "v"]), min_size=n, max_size=n),
        st.lists(
            st.sampled_from([-3.0, 0.0, 1.0, 2.0, 2.0, 7.5, float("nan")]), min_size=n, max_size=n
        ),
    )
)


def _both(request: Request) -> tuple[object, object]:
    from fivesafes.outputs import tabulate as module

    fast = tabulate(request)
    original = module._counted_categories
    try:
        module._counted_categories = lambda *a: None  # type: ignore[assignment]
        slow = tabulate(request)
    finally:
        module._counted_categories = original
    return fast, slow


@settings(max_examples=60, deadline=None)
@given(cat_frames, st.booleans(), st.integers(1, 3))
def test_tables_over_categories_equal_the_duckdb_pass(
    columns: tuple[list, ...], with_values: bool, top_n: int
) -> None:
    # a count, sum or mean table of categoricals is made in numpy: the same cube as DuckDB's
    from fivesafes.outputs import tabulate as module

    frame = pd.DataFrame(
        {
            "k0": pd.Categorical(columns[0], categories=["y", "x", "w"]),  # w never occurs
            "k1": pd.Categorical(columns[1], categories=["p", "q", "r"]),
            "k2": pd.Categorical(columns[2], categories=["u", "v"]),
        }
    )
    if with_values:
        frame["v"] = columns[3]
    stats = ("count", "sum", "mean") if with_values else ("count",)
    request = Request(frame, ("a", "b", "c"), with_values, stats, top_n, ((), (0, 1, 2)))
    assert module._counted_categories(frame, ["k0", "k1", "k2"], request) is not None
    fast, slow = _both(request)
    assert fast.axes == slow.axes  # type: ignore[attr-defined]
    for name in ("count", "values", "sum", "abs_sum", "negatives", "tops"):
        np.testing.assert_allclose(getattr(fast, name), getattr(slow, name), rtol=1e-12)
    for name in stats:
        np.testing.assert_allclose(
            fast.stats[name],
            slow.stats[name],
            rtol=1e-12,
            equal_nan=True,  # type: ignore[attr-defined]
        )
    assert fast.count[-1, -1, -1] == len(frame.dropna(subset=["k0", "k1", "k2"]))  # type: ignore[attr-defined]


def test_other_statistics_or_dimensions_go_to_duckdb() -> None:
    from fivesafes.outputs import tabulate as module

    cat = pd.Categorical(["x", "y"])
    frame = pd.DataFrame({"k0": cat, "v": [1.0, 2.0]})
    for stats in (("median",), ("std",), ("min",), ("mode",)):
        request = Request(frame, ("a",), True, stats, 2, ((),))
        assert module._counted_categories(frame, ["k0"], request) is None
    plain = pd.DataFrame({"k0": ["x", "y"], "v": [1.0, 2.0]})
    request = Request(plain, ("a",), True, ("mean",), 2, ((),))
    assert module._counted_categories(plain, ["k0"], request) is None


def test_a_cell_of_missing_values_keeps_the_margins_negatives() -> None:
    # DuckDB's count_if is NULL over missing values only: the margin's negative was lost
    df = pd.DataFrame({"a": ["x", "y"], "b": ["p", "p"], "v": [float("nan"), -5.0]})
    cube = cube_of(df, ("count", "sum", "mean", "median"))  # median: the DuckDB pass
    assert cube.negatives[:, 0].tolist() == [0.0, 1.0, 1.0]
    assert cube.negatives[-1, -1] == 1.0


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 6)), max_size=60),
    st.integers(1, 4),
)
def test_the_largest_values_narrowed_first_are_the_exact_ones(
    rows: list[tuple[int, int]], n: int
) -> None:
    # many records: candidates are narrowed by the runs' maxima first; same answer,
    # ties and zeros included, whatever the order of the records
    from fivesafes.outputs import tabulate as module

    at = np.array([r[0] for r in rows], dtype=np.int64)
    values = np.array([float(r[1]) for r in rows])
    exact = module._largest_exact(at, values, 5, n)
    original = module.PREFILTER_ABOVE
    module.PREFILTER_ABOVE = 0
    try:
        narrowed = module._largest(at, values, 5, n)
    finally:
        module.PREFILTER_ABOVE = original
    for a, b in zip(exact, narrowed, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_same_frame_gives_the_same_cube_every_time() -> None:
    """Bit for bit (the cube feeds the checks, the suppression and the differencing).

    With DuckDB's parallel ``sum`` on two threads, 2 of 6 repeats of this cube differed
    in the last bits of 72 cells; the leaf query runs on one thread, and the caller's
    connection gets its own thread count back.
    """
    rows = order_sensitive_rows()
    frame = pd.DataFrame({"k0": rows["a"], "k1": rows["b"], "v": rows["x"]})
    request = Request(
        frame=frame,
        names=("a", "b"),
        has_values=True,
        statistics=("sum",),
        top_n=2,
        shown=((0, 1),),
    )
    with duckdb.connect() as con:
        con.execute("SET threads = 2")
        first = tabulate(request, con)
        for _ in range(5):
            again = tabulate(request, con)
            assert np.array_equal(first.sum, again.sum)
            assert np.array_equal(first.abs_sum, again.abs_sum)
        assert con.execute("SELECT current_setting('threads')").fetchall() == [(2,)]
