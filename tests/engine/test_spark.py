"""The Spark engine gives DuckDB's cells, and DuckDB's errors, for every spec the tests use."""

from __future__ import annotations

import gzip
import itertools
import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from engine_helpers import assert_same_cells
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fivesafes.demo.run import DEMO_ENTERPRISES, DEMO_ROWS, DEMO_SEED, SPEC_TEMPLATE
from fivesafes.demo.survey import generate_survey, write_hierarchies
from fivesafes.errors import DataError, FivesafesError, HierarchyError
from fivesafes.sdc import NumericCodesWarning
from fivesafes.sdc import cells as C
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.spec import DimensionSpec, RuleSet, TableSpec, load_spec
from fivesafes.sdc.tabulate import default_top_k, tabulate

# each tabulation is a few Spark jobs in one shared local session: seconds, not milliseconds
pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REGION = Hierarchy.from_pairs(
    "region", [("UK", None), ("ENG", "UK"), ("E1", "ENG"), ("E2", "ENG"), ("W", "UK")]
)
SIC = Hierarchy.flat("sic", ["01", "1", "001"])
SPEC = TableSpec(
    "t",
    (DimensionSpec("region"), DimensionSpec("sic")),
    response="y",
    contributor="ent",
    weight="w",
)


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["E1", "E2", "W", "E1", "W", "E2"],
            "sic": ["01", "1", "01", "001", "1", "01"],
            "ent": ["007", "7", "007", "x", "7", "y"],
            "grp": ["g1", "g2", "g1", "g3", "g2", "g1"],
            "y": [10.0, 20.0, 30.0, 1.5, 0.0, 100.0],
            "w": [1.0, 2.0, 1.0, 3.0, 1.0, 1.5],
        }
    )


def same(spark: Any, spec: TableSpec, data: Any, hiers: Any = None, **kw: Any) -> pd.DataFrame:
    """Tabulate with both engines, assert the cells are the same, return them."""
    want = tabulate(spec, data, hiers, **kw)
    got = spark.tabulate(spec, data, hiers, **kw)
    assert_same_cells(got.cells, want.cells)
    assert [h.order for h in got.hierarchies] == [h.order for h in want.hierarchies]
    return got.cells


# --- the specs of tests/sdc/test_tabulate.py ------------------------------------------


def _two_region() -> Hierarchy:
    return Hierarchy.from_pairs("region", [("UK", None), ("R1", "UK"), ("R2", "UK")])


def _cases() -> dict[str, tuple[TableSpec, pd.DataFrame, list[Hierarchy] | None, int | None]]:
    spread = pd.DataFrame(
        {
            "region": ["R1", "R2", "R1", "R2"],
            "ent": ["e1", "e1", "e2", "e3"],
            "y": [30.0, 30, 50, 5],
        }
    )
    held = pd.DataFrame(
        {
            "region": ["R1", "R1", "R1", "R2"],
            "ent": ["e1", "e2", "e3", "e4"],
            "grp": ["g1", "g1", "g2", "g1"],
            "y": [10.0, 20.0, 5.0, 1.0],
        }
    )
    industry = Hierarchy.from_pairs("industry", [("ALL", None), ("01", "ALL"), ("1", "ALL")])
    ragged = Hierarchy.from_pairs(
        "region", [("UK", None), ("B", "UK"), ("B2", "B"), ("B1", "B"), ("A", "UK")]
    )
    names = [f"d{i}" for i in range(6)]
    rng = np.random.default_rng(3)
    six = pd.DataFrame({n: rng.choice(["01", "1"], size=50) for n in names})
    six["y"] = rng.integers(0, 100, size=50).astype(float)
    six["ent"] = [f"e{i % 7}" for i in range(50)]
    region = (DimensionSpec("region"),)
    return {
        "contributor spread over cells": (
            TableSpec("t", region, response="y", contributor="ent"),
            spread,
            [_two_region()],
            None,
        ),
        "holdings": (
            TableSpec("t", region, response="y", contributor="ent", holding="grp"),
            held,
            [_two_region()],
            None,
        ),
        "zero cells": (
            TableSpec("t", (*region, DimensionSpec("industry")), response="y"),
            pd.DataFrame({"region": ["R1"], "industry": ["01"], "y": [7.0]}),
            [_two_region(), industry],
            None,
        ),
        "ragged display order": (
            TableSpec("t", (*region, DimensionSpec("size")), response="y"),
            pd.DataFrame({"region": ["A", "B1"], "size": ["small", "large"], "y": [1.0, 2.0]}),
            [ragged, Hierarchy.flat("size", ["small", "large"])],
            None,
        ),
        "flat from the data": (
            TableSpec("t", (DimensionSpec("sex", total_code="All"),), response="y"),
            pd.DataFrame({"sex": ["2", "1", "02", "1"], "y": [1.0, 2.0, 3.0, 4.0]}),
            None,
            None,
        ),
        "frequency with weights": (
            TableSpec("t", (DimensionSpec("sex"),), weight="w"),
            pd.DataFrame({"sex": ["f", "f", "m"], "w": [2.0, 3.0, 4.0]}),
            None,
            None,
        ),
        "top 4 from the rules": (
            TableSpec(
                "t", (DimensionSpec("sex"),), response="y", rules=RuleSet(dominance=((4, 90.0),))
            ),
            pd.DataFrame({"sex": ["f"] * 5, "y": [5.0, 1.0, 4.0, 2.0, 3.0]}),
            None,
            None,
        ),
        "top 6 asked for": (
            TableSpec("t", (DimensionSpec("sex"),), response="y"),
            pd.DataFrame({"sex": ["f"] * 5, "y": [5.0, 1.0, 4.0, 2.0, 3.0]}),
            None,
            6,
        ),
        "six dimensions": (
            TableSpec("t", tuple(DimensionSpec(n) for n in names), response="y", contributor="ent"),
            six,
            None,
            None,
        ),
        "weights on the rules, negatives absolute, holdings": (
            TableSpec(
                "t",
                SPEC.dimensions,
                response="y",
                contributor="ent",
                holding="grp",
                weight="w",
                rules=RuleSet(negatives="absolute", apply_weights=True, dominance=((3, 80.0),)),
            ),
            frame().assign(y=[10.0, -20.0, 30.0, -1.5, 0.0, 100.0]),
            [REGION, SIC],
            None,
        ),
    }


CASES = _cases()


@pytest.mark.parametrize("case", list(CASES))
def test_the_tabulation_specs_give_duckdbs_cells(spark_tabulator: Any, case: str) -> None:
    spec, data, hiers, top_k = CASES[case]
    same(spark_tabulator, spec, data, hiers, top_k=top_k)


def test_a_spread_contributor_adds_up_in_the_margin(spark_tabulator: Any) -> None:
    # e1 has 30 in R1 and 30 in R2: one contributor of 60 in the total (not two of 30)
    spec, data, hiers, _ = CASES["contributor spread over cells"]
    cells = spark_tabulator.tabulate(spec, data, hiers).cells.set_index("region")
    assert cells.loc["UK", C.CONTRIBUTORS] == 3
    assert cells.loc["UK", "top1"] == 60.0 and cells.loc["UK", "top2"] == 50.0


def test_only_the_non_empty_cells_leave_spark(spark_tabulator: Any) -> None:
    from fivesafes.engine.spark_plan import SparkPlan
    from fivesafes.engine.spark_source import read

    spec, data, hiers, _ = CASES["zero cells"]
    source = read(spark_tabulator.session, spec, data)
    plan = SparkPlan(spark_tabulator.session, spec, source.frame, hiers, 2, has_unit=False)
    came_back = plan.cells().toArrow()
    # R1 x 01 and its margins: (R1, UK) x (01, ALL); the other 5 of the 9 cells are zeros
    assert came_back.num_rows == 4
    assert len(spark_tabulator.tabulate(spec, data, hiers).cells) == 9


# --- inputs -----------------------------------------------------------------------------


def test_every_kind_of_input_gives_duckdbs_cells(spark_tabulator: Any, tmp_path: Path) -> None:
    df = frame()
    csv_path = tmp_path / "data.csv"
    csv_path.write_text(df.to_csv(index=False), encoding="utf-8")
    parquet_path = tmp_path / "data.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), parquet_path)
    con = duckdb.connect()
    relation = con.sql(f"SELECT * FROM read_parquet('{parquet_path}')")
    hiers = [REGION, SIC]
    want = tabulate(SPEC, df, hiers).cells
    for data in (df, csv_path, str(csv_path), parquet_path, pa.Table.from_pandas(df), relation):
        assert_same_cells(spark_tabulator.tabulate(SPEC, data, hiers).cells, want)
    spark_frame = spark_tabulator.session.read.parquet(str(parquet_path))
    assert_same_cells(spark_tabulator.tabulate(SPEC, spark_frame, hiers).cells, want)
    con.close()


def test_csv_codes_stay_text_and_the_delimiter_is_found(
    spark_tabulator: Any, tmp_path: Path
) -> None:
    # leading zeros, "007" vs "7", a semicolon file with a byte-order mark
    path = tmp_path / "data.csv"
    path.write_text("\ufeff" + frame().to_csv(index=False, sep=";"), encoding="utf-8")
    spec = TableSpec("t", SPEC.dimensions, response="y", contributor="ent")
    cells = same(spark_tabulator, spec, path)
    assert list(cells["sic"].unique()) == ["Total", "001", "01", "1"]


def test_a_gzipped_csv_is_read_as_duckdb_reads_it(spark_tabulator: Any, tmp_path: Path) -> None:
    # the delimiter is found from the first line decompressed (the raw bytes are gzip's)
    path = tmp_path / "data.csv.gz"
    text = "\ufeff" + frame().to_csv(index=False, sep=";")
    path.write_bytes(gzip.compress(text.encode("utf-8")))
    spec = TableSpec("t", SPEC.dimensions, response="y", contributor="ent")
    cells = same(spark_tabulator, spec, path)
    assert list(cells["sic"].unique()) == ["Total", "001", "01", "1"]


def test_a_numeric_dimension_is_read_as_text_with_a_note(spark_tabulator: Any) -> None:
    df = pd.DataFrame({"year": [2020, 2021, 2021], "y": [1.0, 2.0, 3.0]})
    spec = TableSpec("t", (DimensionSpec("year"),), response="y")
    with pytest.warns(NumericCodesWarning):  # DuckDB's path warns of numeric codes in pandas
        same(spark_tabulator, spec, df)
    notes = spark_tabulator.tabulate(spec, df).notes
    assert any("year" in n and "text" in n for n in notes)


def test_columns_differing_only_in_case_are_refused_as_duckdb_refuses_them(
    spark_tabulator: Any,
) -> None:
    # Spark would keep "Y" and "y" apart, DuckDB cannot: both refuse, with one message,
    # so a table never depends on the engine that made it
    df = pd.DataFrame({"sex": ["f", "m"], "Y": [1000.0, 2000.0], "y": [1.0, 2.0]})
    spec = TableSpec("t", (DimensionSpec("sex"),), response="y")
    assert "2 columns named 'y'" in _both_raise(spark_tabulator, spec, df)


def _with_second_region(tmp_path: Path, kind: str, name: str) -> Any:
    """frame() with a second column called ``name`` (other codes), as ``kind``."""
    df = frame()
    df.insert(len(df.columns), name, ["W", "W", "E1", "E2", "E1", "W"], allow_duplicates=True)
    if kind == "csv":
        (tmp_path / "dup.csv").write_text(df.to_csv(index=False), encoding="utf-8")
        return tmp_path / "dup.csv"
    names = [str(c) for c in df.columns]
    table = pa.Table.from_arrays([pa.array(df.iloc[:, i]) for i in range(df.shape[1])], names)
    if kind == "parquet":
        pq.write_table(table, tmp_path / "dup.parquet")
        return tmp_path / "dup.parquet"
    return table if kind == "arrow" else df


@pytest.mark.parametrize("kind", ["csv", "parquet", "pandas", "arrow"])
@pytest.mark.parametrize("name", ["region", "Region"])
def test_a_spec_column_written_twice_is_refused_as_duckdb_refuses_it(
    spark_tabulator: Any, tmp_path: Path, kind: str, name: str
) -> None:
    # Spark kept the first 'region' (or, from a CSV, renamed the second 'region5'): the
    # table silently used one of two columns
    data = _with_second_region(tmp_path, kind, name)
    message = _both_raise(spark_tabulator, SPEC, data, [REGION, SIC])
    assert message.startswith("the data have 2 columns named 'region' (columns 1 and 7")


def test_a_duplicate_column_the_spec_does_not_use_is_harmless(
    spark_tabulator: Any, tmp_path: Path
) -> None:
    same(spark_tabulator, SPEC, _with_second_region(tmp_path, "csv", "grp"), [REGION, SIC])


def test_a_categorical_dimension(spark_tabulator: Any) -> None:
    df = pd.DataFrame({"sex": pd.Categorical(["f", "m", "f"]), "y": [1.0, 2.0, 3.0]})
    got = spark_tabulator.tabulate(TableSpec("t", (DimensionSpec("sex"),), response="y"), df)
    assert got.cells[C.VALUE].tolist() == [6.0, 4.0, 2.0]


# --- the same errors ---------------------------------------------------------------------


def _both_raise(spark: Any, spec: TableSpec, data: Any, hiers: Any = None) -> str:
    with pytest.raises(FivesafesError) as duck:
        tabulate(spec, data, hiers)
    with pytest.raises(FivesafesError) as sparks:
        spark.tabulate(spec, data, hiers)
    assert type(sparks.value) is type(duck.value)
    # DuckDB also names the first failing rows; Spark cannot number a file's rows
    assert str(sparks.value) == _without_rows(str(duck.value))
    assert sparks.value.hint
    return str(sparks.value)


def _without_rows(message: str) -> str:
    return re.sub(r" \((the first )?at rows? [^()]*(\([^)]*\))?\)", "", message)


def _bad(change: str) -> tuple[TableSpec, pd.DataFrame, list[Hierarchy] | None]:
    df, hiers, spec = frame(), [REGION, SIC], SPEC
    if change == "unknown codes":
        df.loc[0, "region"], df.loc[1, "region"] = "E9", "e1"
    elif change == "internal codes":
        df.loc[[0, 3], "region"] = "ENG"
    elif change == "internal and unknown codes":
        df.loc[0, "region"], df.loc[1, "sic"] = "ENG", "9"
    elif change == "missing column":
        df = df.drop(columns=["w"])
    elif change in ("missing code", "missing contributor"):
        col = "region" if change == "missing code" else "ent"
        df[col] = df[col].astype(object)
        df.loc[[1, 2], col] = None
    elif change == "negative response":
        df.loc[[0, 4], "y"] = -5.0
    elif change == "negative weight":
        df.loc[2, "w"] = -1.0
    elif change == "infinite response":
        df.loc[2, "y"] = np.inf
    elif change == "missing response":
        df.loc[2, "y"] = np.nan
    elif change == "date as weight":
        df["w"] = pd.to_datetime("2024-01-01")
    elif change == "contributor in two holdings":
        df["grp"] = ["g1", "g2", "g3", "g4", "g5", "g6"]  # "007" is in g1 and g3
        spec = TableSpec("t", SPEC.dimensions, response="y", contributor="ent", holding="grp")
    elif change == "flat total code in the data":
        df.loc[0, "sic"], hiers = "Total", None
    else:  # pragma: no cover
        raise AssertionError(change)
    return spec, df, hiers


@pytest.mark.parametrize(
    "change",
    [
        "unknown codes",
        "internal codes",
        "internal and unknown codes",
        "missing column",
        "missing code",
        "missing contributor",
        "negative response",
        "negative weight",
        "infinite response",
        "missing response",
        "date as weight",
        "contributor in two holdings",
        "flat total code in the data",
    ],
)
def test_bad_data_raise_duckdbs_error(spark_tabulator: Any, change: str) -> None:
    spec, df, hiers = _bad(change)
    _both_raise(spark_tabulator, spec, df, hiers)


def test_bad_numbers_in_a_csv_are_named_as_duckdb_names_them(
    spark_tabulator: Any, tmp_path: Path
) -> None:
    path = tmp_path / "data.csv"
    lines = [f"W,01,c{i},{v},1" for i, v in enumerate(["1 234", "n/a", "", "7", "1.5d", "0x10"])]
    lines += [f"E1,01,d{i},bad{i:02d},1" for i in range(12)]  # more than 10 distinct: "..."
    path.write_text("region,sic,ent,y,w\n" + "\n".join(lines) + "\n", encoding="utf-8")
    message = _both_raise(spark_tabulator, SPEC, path, [REGION, SIC])
    assert "'1 234'" in message and "'1.5d'" in message and "..." in message
    missing = tmp_path / "missing.csv"
    missing.write_text("region,sic,ent,y,w\nE1,01,a,,1\nE2,01,b,5,1\n", encoding="utf-8")
    assert "missing in 1 row(s)" in _both_raise(spark_tabulator, SPEC, missing, [REGION, SIC])


# Text DuckDB reads as a number (TRY_CAST ... AS DOUBLE), and text it refuses.
NUMBER_TEXTS = [
    *("1", " 1e3 ", "1_000", "+5", ".5", "5.", "1E+3", "+.5e-3", "0001", "1.5_5", "1e1_0"),
    *("\t7\t", "\u00a01", "-0", "12.50"),
    *("1.5d", "0x10", "1,5", "1e", "e3", "- 5", "1.5f", "١٢", "0b11", "  ", "1__0", "_1"),
    *("1_", "1_.5", "1._5", "1_e3", "1e+", ".", "+", "-", "1d", "inf", "-Infinity", "nan"),
]


def test_text_is_read_as_a_number_exactly_where_duckdb_reads_one(spark_tabulator: Any) -> None:
    from fivesafes.engine.spark_source import numeric, quiet_pyspark

    spark = spark_tabulator.session
    con = duckdb.connect()
    duck = [
        con.execute("SELECT TRY_CAST(trim(?) AS DOUBLE)", [t]).fetchone()[0]  # type: ignore[index]
        for t in NUMBER_TEXTS
    ]
    con.close()
    with quiet_pyspark():  # PySpark leaves the socket it shipped the table on to the GC
        texts = spark.createDataFrame(pa.table({"r0": NUMBER_TEXTS}))
    got = [r[0] for r in texts.select(numeric("r0", texts.schema["r0"].dataType)).collect()]
    finite = [v if v is not None and np.isfinite(v) else None for v in duck]
    assert got == finite, [
        (t, g, d) for t, g, d in zip(NUMBER_TEXTS, got, finite, strict=True) if g != d
    ]


def test_unreadable_and_unsupported_inputs(spark_tabulator: Any, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        spark_tabulator.tabulate(SPEC, tmp_path / "nope.csv")
    with pytest.raises(DataError, match="type list"):
        spark_tabulator.tabulate(SPEC, [1, 2, 3])
    odd = tmp_path / "data.xyz"
    odd.write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(DataError, match="format"):
        spark_tabulator.tabulate(SPEC, odd)
    broken = tmp_path / "data.parquet"
    broken.write_bytes(b"this is not a parquet file\n")
    with pytest.raises(DataError, match=r"cannot read .*data\.parquet") as caught:
        spark_tabulator.tabulate(SPEC, broken)
    assert caught.value.hint
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("region,sic,ent,y,w\nE1,01,a,1,1\nE2,01,b,5,1,9,9\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"cannot read .*ragged\.csv"):
        spark_tabulator.tabulate(SPEC, ragged, [REGION, SIC])


def test_hierarchies_must_match_the_dimensions(spark_tabulator: Any) -> None:
    with pytest.raises(FivesafesError, match="1 hierarchies given for 2 dimensions"):
        spark_tabulator.tabulate(SPEC, frame(), [REGION])
    with pytest.raises(FivesafesError, match="top_k"):
        spark_tabulator.tabulate(SPEC, frame(), [REGION, SIC], top_k=0)
    with pytest.raises(HierarchyError):
        spark_tabulator.load_hierarchies(*_bad("flat total code in the data")[:2])


# --- the examples and the demo's survey --------------------------------------------------


@pytest.mark.parametrize("example", ["turnover.toml", "enterprises.toml"])
def test_the_examples_give_duckdbs_cells(spark_tabulator: Any, example: str) -> None:
    spec = load_spec(EXAMPLES / example)
    k = default_top_k(spec)
    cells = same(spark_tabulator, spec, EXAMPLES / "survey.csv", top_k=k)
    assert cells[C.RECORDS].iloc[0] > 0


def test_the_demo_survey_gives_duckdbs_cells(spark_tabulator: Any, tmp_path: Path) -> None:
    write_hierarchies(tmp_path)
    spec_path = tmp_path / "demo.toml"
    spec_path.write_text(SPEC_TEMPLATE.format(name="demo"), encoding="utf-8")
    survey = generate_survey(DEMO_ROWS, DEMO_ENTERPRISES, DEMO_SEED)
    cells = same(spark_tabulator, load_spec(spec_path), survey)
    assert (cells[C.CONTRIBUTORS] < cells[C.RECORDS]).any()  # enterprises report many rows


def test_a_four_dimension_survey_with_holdings_and_negatives(
    spark_tabulator: Any, tmp_path: Path
) -> None:
    dims = ("region", "product", "size_band", "industry")
    paths = write_hierarchies(tmp_path, dims)
    survey = generate_survey(20_000, 2_000, 7, dims, negative_share=0.02)
    path = tmp_path / "survey.parquet"
    pq.write_table(survey, path)
    spec = TableSpec(
        "t",
        tuple(DimensionSpec(d, paths[d]) for d in dims),
        response="turnover",
        contributor="enterprise_id",
        holding="group_id",
        weight="w",
        rules=RuleSet(negatives="absolute", dominance=((1, 50.0), (3, 90.0))),
    )
    cells = same(spark_tabulator, spec, path)
    assert cells[C.NEGATIVES].iloc[0] > 0


# --- generated tables ---------------------------------------------------------------------

CODES = ["01", "1", "001", "10", "A", "a", "Total", *(f"c{i}" for i in range(20))]


@st.composite
def trees(draw: Any, name: str) -> Hierarchy:
    """A random ragged tree of depth 1-3 with text codes that a number parser would mix up."""
    codes = iter(draw(st.permutations(CODES)))
    pairs: list[tuple[str, str | None]] = [(f"T_{name}", None)]
    for kids in draw(st.lists(st.lists(st.integers(0, 2), max_size=2), min_size=1, max_size=3)):
        top = next(codes)
        pairs.append((top, f"T_{name}"))
        for grandkids in kids:
            child = next(codes)
            pairs.append((child, top))
            pairs.extend((next(codes), child) for _ in range(grandkids))
    return Hierarchy.from_pairs(name, pairs)


@st.composite
def tables(draw: Any) -> tuple[TableSpec, pd.DataFrame, tuple[Hierarchy, ...], int]:
    """A spec of 1-3 dimensions (contributor, holding, weight, negatives drawn) and its data."""
    names = [f"dim{i}" for i in range(draw(st.integers(1, 3)))]
    hiers = tuple(draw(trees(n)) for n in names)
    rows = draw(st.integers(0, 40))
    column = st.lists  # one value per row
    data: dict[str, Any] = {
        n: draw(column(st.sampled_from(h.leaves), min_size=rows, max_size=rows))
        for n, h in zip(names, hiers, strict=True)
    }
    units = draw(column(st.integers(0, 6), min_size=rows, max_size=rows))
    negatives = draw(st.sampled_from(["error", "absolute"]))
    data["ent"] = [f"0{u}" for u in units]
    data["grp"] = [f"g{u // 3}" for u in units]
    low = -50 if negatives == "absolute" else 0
    data["y"] = [
        float(v) for v in draw(column(st.integers(low, 999), min_size=rows, max_size=rows))
    ]
    data["w"] = draw(column(st.sampled_from([0.5, 1.0, 2.5]), min_size=rows, max_size=rows))
    frequency = draw(st.booleans()) and draw(st.booleans())
    contributor = draw(st.booleans())
    spec = TableSpec(
        "t",
        tuple(DimensionSpec(n) for n in names),
        response=None if frequency else "y",
        contributor="ent" if contributor else None,
        holding="grp" if contributor and draw(st.booleans()) else None,
        weight="w" if draw(st.booleans()) else None,
        rules=RuleSet(negatives=negatives, apply_weights=draw(st.booleans())),
    )
    frame = pd.DataFrame(data, columns=[*names, "ent", "grp", "y", "w"])
    return spec, frame, hiers, draw(st.integers(1, 4))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_generated_tables_give_duckdbs_cells(spark_tabulator: Any, case: Any) -> None:
    spec, data, hiers, k = case
    cells = same(spark_tabulator, spec, data, hiers, top_k=k)
    assert len(cells) == int(np.prod([len(h.order) for h in hiers]))
    assert list(zip(*(cells[d] for d in spec.dimension_names), strict=True)) == list(
        itertools.product(*(h.order for h in hiers))
    )
