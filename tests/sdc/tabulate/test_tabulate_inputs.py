"""Every kind of input gives the same cells; codes stay strings; bad input is a clear error."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fivesafes.errors import DataError, FivesafesError, HierarchyError
from fivesafes.sdc import NumericCodesWarning
from fivesafes.sdc import cells as C
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.spec import DimensionSpec, RuleSet, TableSpec
from fivesafes.sdc.tabulate import load_hierarchies, tabulate

REGION = Hierarchy.from_pairs(
    "region", [("UK", None), ("ENG", "UK"), ("E1", "ENG"), ("E2", "ENG"), ("W", "UK")]
)
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
            "y": [10.0, 20.0, 30.0, 1.5, 0.0, 100.0],
            "w": [1.0, 2.0, 1.0, 3.0, 1.0, 1.5],
        }
    )


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    path.write_text(df.to_csv(index=False), encoding="utf-8")
    return path


def test_csv_parquet_pandas_arrow_and_relation_give_identical_cells(tmp_path: Path) -> None:
    df = frame()
    csv_path = write_csv(df, tmp_path / "data.csv")
    parquet_path = tmp_path / "data.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), parquet_path)
    con = duckdb.connect()
    relation = con.sql(f"SELECT * FROM read_parquet('{parquet_path}')")
    hiers = [REGION, Hierarchy.flat("sic", ["01", "1", "001"])]
    want = tabulate(SPEC, df, hiers).cells
    for data in (
        csv_path,
        str(csv_path),
        parquet_path,
        pa.Table.from_pandas(df, preserve_index=False),
    ):
        pd.testing.assert_frame_equal(tabulate(SPEC, data, hiers).cells, want)
    pd.testing.assert_frame_equal(tabulate(SPEC, relation, hiers, connection=con).cells, want)
    materialised = tabulate(SPEC, relation, hiers)
    pd.testing.assert_frame_equal(materialised.cells, want)
    assert any("materialised" in n for n in materialised.notes)
    con.close()


def test_codes_with_leading_zeros_stay_distinct_from_csv(tmp_path: Path) -> None:
    path = write_csv(frame(), tmp_path / "data.csv")
    spec = TableSpec("t", (DimensionSpec("region"), DimensionSpec("sic")), response="y")
    hiers = load_hierarchies(spec, path)
    assert hiers[1].leaves == ("001", "01", "1")
    tab = tabulate(spec, path)
    at_total = tab.cells[tab.cells["region"] == "Total"].set_index("sic")
    assert at_total.loc["01", C.VALUE] == 140.0
    assert at_total.loc["1", C.VALUE] == 20.0
    assert at_total.loc["001", C.VALUE] == 1.5
    # Contributors "007" and "7" are two different enterprises.
    all_cells = tab.cells[(tab.cells["region"] == "Total") & (tab.cells["sic"] == "Total")]
    assert all_cells[C.CONTRIBUTORS].iloc[0] == 6  # no contributor column: rows


def test_numeric_contributor_ids_are_text(tmp_path: Path) -> None:
    path = write_csv(frame(), tmp_path / "data.csv")
    hiers = [REGION, Hierarchy.flat("sic", ["01", "1", "001"])]
    cells = tabulate(SPEC, path, hiers).cells
    total = cells[(cells["region"] == "UK") & (cells["sic"] == "Total")].iloc[0]
    assert total[C.CONTRIBUTORS] == 4  # 007, 7, x, y


def test_a_numeric_dimension_column_is_read_as_text_with_a_note_and_a_warning() -> None:
    df = pd.DataFrame({"year": [2020, 2021, 2021], "y": [1.0, 2.0, 3.0]})
    with pytest.warns(NumericCodesWarning, match=r"dtype=\{'year': str\}"):
        tab = tabulate(TableSpec("t", (DimensionSpec("year"),), response="y"), df)
    assert list(tab.cells["year"]) == ["Total", "2020", "2021"]
    assert any("year" in n and "text" in n for n in tab.notes)


def error_of(spec: TableSpec, data: object, hiers: list[Hierarchy] | None = None) -> DataError:
    with pytest.raises(DataError) as info:
        tabulate(spec, data, hiers)  # type: ignore[arg-type]
    assert info.value.hint, "every data error says what to do"
    return info.value


def test_unknown_codes_are_named_with_their_row_count() -> None:
    df = frame()
    df.loc[0, "region"] = "E9"
    df.loc[1, "region"] = "e1"
    err = error_of(SPEC, df, [REGION, Hierarchy.flat("sic", ["01", "1", "001"])])
    assert "region" in err.message and "'E9'" in err.message and "'e1'" in err.message
    assert "2 row(s)" in err.message


def test_internal_codes_in_the_data_are_refused() -> None:
    df = frame()
    df.loc[[0, 3], "region"] = "ENG"
    err = error_of(SPEC, df, [REGION, Hierarchy.flat("sic", ["01", "1", "001"])])
    assert "ENG" in err.message and "internal" in err.message and "2 row(s)" in err.message


def test_a_missing_column_is_named() -> None:
    err = error_of(SPEC, frame().drop(columns=["w"]))
    assert "weight 'w'" in err.message


@pytest.mark.parametrize("column", ["region", "ent"])
def test_missing_codes_or_contributors_are_errors(column: str) -> None:
    df = frame()
    df[column] = df[column].astype(object)
    df.loc[[1, 2], column] = None
    err = error_of(SPEC, df)
    assert column in err.message and "2 row(s)" in err.message


def test_missing_response_is_an_error_by_default(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("region,sic,ent,y,w\nE1,01,a,,1\nE2,01,b,5,1\n", encoding="utf-8")
    err = error_of(SPEC, path, [REGION, Hierarchy.flat("sic", ["01"])])
    assert "'y'" in err.message and "missing in 1 row(s)" in err.message


def test_non_numeric_response_names_the_values(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(
        "region,sic,ent,y,w\nE1,01,a,1 234,1\nE2,01,b,5,1\nW,01,c,n/a,1\nW,01,d,,1\n",
        encoding="utf-8",
    )
    err = error_of(SPEC, path, [REGION, Hierarchy.flat("sic", ["01"])])
    assert "not a number in 2 row(s)" in err.message
    assert "'1 234'" in err.message and "'n/a'" in err.message


def test_non_numeric_weight_type_is_refused() -> None:
    df = frame()
    df["w"] = pd.to_datetime("2024-01-01")
    err = error_of(SPEC, df)
    assert "weight column 'w'" in err.message


def test_negative_responses_need_the_absolute_policy() -> None:
    df = frame()
    df.loc[[0, 4], "y"] = -5.0
    err = error_of(SPEC, df)
    assert "negative in 2 row(s)" in err.message and 'negatives = "absolute"' in str(err)
    spec = TableSpec(
        "t",
        SPEC.dimensions,
        response="y",
        contributor="ent",
        rules=RuleSet(negatives="absolute"),
    )
    cells = tabulate(spec, df).cells
    total = cells[(cells["region"] == "Total") & (cells["sic"] == "Total")].iloc[0]
    assert total[C.NEGATIVES] == 2
    assert total[C.VALUE] == pytest.approx(df["y"].sum())
    assert total[C.RULE_TOTAL] == pytest.approx(df["y"].abs().sum())


def test_negative_weights_are_refused() -> None:
    df = frame()
    df.loc[2, "w"] = -1.0
    err = error_of(SPEC, df)
    assert "weight column 'w' is negative in 1 row(s)" in err.message


def test_a_contributor_in_two_holdings_is_refused() -> None:
    df = frame()
    df["grp"] = ["g1", "g2", "g3", "g4", "g5", "g6"]  # "007" is in g1 and g3
    spec = TableSpec("t", SPEC.dimensions, response="y", contributor="ent", holding="grp")
    err = error_of(spec, df)
    assert "'007'" in err.message and "more than one holding" in err.message


def test_a_flat_total_code_clashing_with_a_data_code_is_refused() -> None:
    df = pd.DataFrame({"sex": ["Total", "f"], "y": [1.0, 2.0]})
    with pytest.raises(HierarchyError):
        tabulate(TableSpec("t", (DimensionSpec("sex"),), response="y"), df)


def test_unsupported_inputs_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        tabulate(SPEC, tmp_path / "nope.csv")
    with pytest.raises(DataError, match="type list"):
        tabulate(SPEC, [1, 2, 3])  # type: ignore[arg-type]
    odd = tmp_path / "data.xyz"
    odd.write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(FivesafesError, match="format"):
        tabulate(SPEC, odd)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("data.parquet", b"this is not a parquet file\n"),
        ("data.csv", bytes(range(256)) * 8),
    ],
)
def test_an_unreadable_file_is_a_data_error_naming_it(
    tmp_path: Path, name: str, content: bytes
) -> None:
    # regression: DuckDB's own exception escaped as a traceback
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=f"cannot read .*{name}") as caught:
        tabulate(SPEC, path)
    assert caught.value.hint


def test_bad_input_leaves_no_temporary_objects_in_the_callers_connection() -> None:
    con = duckdb.connect()
    df = frame()
    df.loc[0, "region"] = "nowhere"
    hiers = [REGION, Hierarchy.flat("sic", ["01", "1", "001"])]
    with pytest.raises(DataError):
        tabulate(SPEC, df, hiers, connection=con)
    with pytest.raises(DataError):
        tabulate(SPEC, frame().drop(columns=["ent"]), hiers, connection=con)
    left = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'fs_tab_%'"
    ).fetchone()
    views = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE view_name LIKE 'fs_tab_%'"
    ).fetchone()
    assert left == (0,) and views == (0,)
    con.close()


def _with_second_region(tmp_path: Path, kind: str, name: str = "region") -> object:
    """The frame with a second column called ``name`` (other codes), as ``kind``."""
    df = frame()
    df.insert(len(df.columns), name, ["W", "W", "E1", "E2", "E1", "W"], allow_duplicates=True)
    if kind == "csv":
        return write_csv(df, tmp_path / "dup.csv")
    table = pa.Table.from_arrays([pa.array(df.iloc[:, i]) for i in range(df.shape[1])],
                                 names=[str(c) for c in df.columns])  # fmt: skip
    if kind == "parquet":
        pq.write_table(table, tmp_path / "dup.parquet")
        return tmp_path / "dup.parquet"
    return table if kind == "arrow" else df


@pytest.mark.parametrize("kind", ["csv", "parquet", "pandas", "arrow"])
@pytest.mark.parametrize("name", ["region", "Region"])
def test_a_spec_column_written_twice_is_refused_not_picked(
    tmp_path: Path, kind: str, name: str
) -> None:
    # a careless export with two 'region' columns: DuckDB would rename the second and the
    # table would use the first, silently
    data = _with_second_region(tmp_path, kind, name)
    with pytest.raises(DataError) as err:
        tabulate(SPEC, data, [REGION, Hierarchy.flat("sic", ["01", "1", "001"])])
    assert err.value.message.startswith("the data have 2 columns named 'region' (columns 1 and 6")
    assert err.value.value_free and "rename or remove" in (err.value.hint or "")


def test_a_duplicate_column_the_spec_does_not_use_is_harmless(tmp_path: Path) -> None:
    hiers = [REGION, Hierarchy.flat("sic", ["01", "1", "001"])]
    want = tabulate(SPEC, frame(), hiers).cells
    data = _with_second_region(tmp_path, "csv", "notes")  # 'notes' twice once more below
    text = data.read_text().splitlines()  # type: ignore[attr-defined]
    doubled = [f"{line},{line.rsplit(',', 1)[1]}" for line in text]
    (tmp_path / "notes.csv").write_text("\n".join(doubled) + "\n")
    pd.testing.assert_frame_equal(tabulate(SPEC, tmp_path / "notes.csv", hiers).cells, want)


def test_the_name_duckdb_gives_a_duplicate_is_not_a_column(tmp_path: Path) -> None:
    data = _with_second_region(tmp_path, "csv")
    spec = TableSpec("t", (DimensionSpec("region_1"), DimensionSpec("sic")), response="y",
                     contributor="ent", weight="w")  # fmt: skip
    with pytest.raises(DataError, match="no column written 'region_1'"):
        tabulate(spec, data, [REGION, Hierarchy.flat("sic", ["01", "1", "001"])])


@pytest.mark.parametrize("code", ["01\n", "0\t1", "\x1b[31m01"])
def test_a_data_code_with_a_control_character_is_refused(tmp_path: Path, code: str) -> None:
    df = frame()
    df.loc[2, "sic"] = code
    for data in (df, write_csv(df, tmp_path / "data.csv")):
        with pytest.raises(DataError) as err:
            tabulate(SPEC, data)
        assert "dimension 'sic': 1 code(s) in the data hold control characters" in str(err.value)
        assert err.value.redacted is not None and code not in err.value.redacted
