"""``fivesafes.sdc.tables`` (sdc/pipeline.py): the whole pipeline on small hand-made data."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fivesafes.errors import DataError, SpecError
from fivesafes.sdc import TableResult, load_spec, tables

SPEC = """\
[table]
name = "sales"
response = "turnover"
contributor = "ent"
{weight}

[[dimension]]
name = "region"
hierarchy = "region.csv"
[[dimension]]
name = "industry"

[rules]
threshold = 3
dominance = [[1, 50]]
p_percent = 10

[suppression]
method = "{method}"
"""

# Region N: enterprises a (50 + 40 = 90 over two rows, one contributor) and b (10):
#   2 contributors -> threshold; x1 = 90 > 50% of 100 -> dominance(1,50) with
#   protection 2*90 - 100 = 80; p%: 0.1*90 - (100 - 90 - 10) = 9 -> p%(10).
# Region S: c, d, e with 30 each in industry "01": safe (3 contributors, 30/90 < 50%,
#   remainder 30 >= 0.1*30).
ROWS = [
    ("a", "N", "01", 50.0, 2.0),
    ("a", "N", "01", 40.0, 2.0),
    ("b", "N", "01", 10.0, 2.0),
    ("c", "S", "01", 30.0, 1.0),
    ("d", "S", "01", 30.0, 1.0),
    ("e", "S", "01", 30.0, 1.0),
    ("c", "S", "1", 5.0, 1.0),
]
REGION_CSV = "code,parent\nUK,\nN,UK\nS,UK\n"


def write_case(tmp_path: Path, *, weight: bool = False, method: str = "none") -> tuple[Path, Path]:
    spec = tmp_path / "sales.toml"
    spec.write_text(SPEC.format(weight='weight = "w"' if weight else "", method=method))
    (tmp_path / "region.csv").write_text(REGION_CSV)
    data = tmp_path / "data.csv"
    frame = pd.DataFrame(ROWS, columns=["ent", "region", "industry", "turnover", "w"])
    frame.to_csv(data, index=False)
    return spec, data


def cell(result: TableResult, region: str, industry: str) -> pd.Series:
    c = result.cells
    hits = c[(c["region"] == region) & (c["industry"] == industry)]
    assert len(hits) == 1
    return hits.iloc[0]


def test_tables_flags_the_hand_checked_cells(tmp_path: Path) -> None:
    spec, data = write_case(tmp_path)
    result = tables(spec, data)
    north = cell(result, "N", "01")
    assert north["contributors"] == 2 and north["records"] == 3
    assert north["rule"] == "threshold;dominance(1,50);p%(10)"
    assert north["upper_protection"] == pytest.approx(80.0)
    south = cell(result, "S", "01")
    assert south["status"] == "safe" and south["value"] == pytest.approx(90.0)
    # "01" and "1" are different codes, and both survive as strings
    assert {"01", "1", "Total"} <= set(result.cells["industry"])
    assert cell(result, "S", "1")["rule"] == "threshold;dominance(1,50);p%(10)"


def test_report_describes_spec_source_rules_and_counts(tmp_path: Path) -> None:
    spec, data = write_case(tmp_path)
    result = tables(spec, data)
    report = json.loads(json.dumps(result.report))  # plain JSON all the way down
    assert report["spec"]["sha256"] == hashlib.sha256(spec.read_bytes()).hexdigest()
    assert report["source"]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert report["source"]["rows"] == len(ROWS)
    assert report["rules"]["in_force"] == ["threshold", "dominance(1,50)", "p%(10)"]
    assert report["rules"]["threshold_protection_percent"] == 10.0  # a default, recorded
    primary = int((result.cells["status"] == "primary").sum())
    assert report["cells"]["by_status"]["primary"] == primary
    assert report["cells"]["total"] == len(result.cells) == 3 * 3
    assert report["cells"]["by_rule"]["dominance(1,50)"] == int(
        result.cells["rule"].str.contains("dominance", regex=False).sum()
    )
    assert {"tabulate", "primary_rules", "total"} <= set(report["timings"])
    assert any("secondary" in n for n in report["notes"])


def test_weighted_values_scale_the_protection(tmp_path: Path) -> None:
    spec, data = write_case(tmp_path, weight=True)
    north = cell(tables(spec, data), "N", "01")
    # published value = 2 * 100 = 200; dominance need 80 on the unweighted basis -> 160
    assert north["value"] == pytest.approx(200.0)
    assert north["upper_protection"] == pytest.approx(160.0)


def test_tables_takes_a_spec_object_and_a_dataframe(tmp_path: Path) -> None:
    spec, data = write_case(tmp_path)
    frame = pd.read_csv(data, dtype={"industry": str})
    result = tables(load_spec(spec), frame)
    assert result.report["source"]["kind"] == "pandas.DataFrame"
    assert cell(result, "N", "01")["status"] == "primary"


def test_secondary_override_is_recorded(tmp_path: Path) -> None:
    spec, data = write_case(tmp_path, method="optimal")
    result = tables(spec, data, secondary="none")
    assert result.spec.suppression.method == "none"
    assert result.report["suppression"]["method"] == "none"
    with pytest.raises(SpecError, match="unknown secondary"):
        tables(spec, data, secondary="magic")


def test_secondary_suppression_is_called(tmp_path: Path) -> None:
    spec, data = write_case(tmp_path, method="fast")
    spec.write_text(spec.read_text() + "singleton = false\n")
    result = tables(spec, data)
    assert set(result.cells["status"]) <= {"safe", "primary", "secondary"}
    assert result.report["secondary"]["method"] == "fast"
    assert "secondary" in result.report["timings"]


def test_bad_data_paths_are_clear_errors(tmp_path: Path) -> None:
    spec, _ = write_case(tmp_path)
    with pytest.raises(DataError, match="not found"):
        tables(spec, tmp_path / "nope.csv")
    odd = tmp_path / "data.dat"
    odd.write_text("x")
    with pytest.raises(DataError, match="format"):
        tables(spec, odd)


@pytest.mark.parametrize("suffix", [".tsv", ".txt"])
def test_delimited_text_named_tsv_or_txt_is_read_as_csv_is(tmp_path: Path, suffix: str) -> None:
    # the tabulation reads them; the check before it refused them ("cannot tell the format")
    spec, data = write_case(tmp_path)
    text = tmp_path / f"data{suffix}"
    pd.read_csv(data, dtype=str).to_csv(text, sep="\t", index=False)
    want, got = tables(spec, data), tables(spec, text)
    pd.testing.assert_frame_equal(got.cells, want.cells)
    assert got.report["source"]["format"] == "csv"
    assert got.report["source"]["path"] == str(text.resolve())


@pytest.mark.parametrize("suffix", [".csv.gz", ".tsv.gz", ".txt.gz"])
def test_gzipped_delimited_text_is_read_as_the_plain_file_is(tmp_path: Path, suffix: str) -> None:
    # DuckDB reads gzip as it goes (in memory); the check before it refused ".gz"
    spec, data = write_case(tmp_path)
    packed = tmp_path / f"data{suffix}"
    sep = "," if suffix.startswith(".csv") else "\t"
    with gzip.open(packed, "wt", encoding="utf-8", newline="") as fh:
        pd.read_csv(data, dtype=str).to_csv(fh, sep=sep, index=False)
    want, got = tables(spec, data), tables(spec, packed)
    pd.testing.assert_frame_equal(got.cells, want.cells)
    source = got.report["source"]
    assert source["format"] == "csv" and source["compression"] == "gzip"
    assert source["sha256"] == hashlib.sha256(packed.read_bytes()).hexdigest()  # the file given
    assert "compression" not in want.report["source"]


@pytest.mark.parametrize("name", ["data.gz", "data.parquet.gz", "data.csv.bz2"])
def test_other_compressed_files_are_refused_with_what_is_read(tmp_path: Path, name: str) -> None:
    spec, data = write_case(tmp_path)
    odd = tmp_path / name
    odd.write_bytes(gzip.compress(data.read_bytes()))
    with pytest.raises(DataError, match="format") as refused:
        tables(spec, odd)
    assert ".csv.gz" in str(refused.value.hint)


def test_write_puts_every_output_in_the_folder(tmp_path: Path) -> None:
    spec, data = write_case(tmp_path)
    files = tables(spec, data).write(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(files)
    text = (tmp_path / "out" / "cells.csv").read_text()
    assert ",01," in text  # the code written exactly


def test_a_holding_counts_as_one_contributor(tmp_path: Path) -> None:
    spec, data = write_case(tmp_path)
    spec.write_text(
        spec.read_text().replace('contributor = "ent"', 'contributor = "ent"\nholding = "grp"')
    )
    frame = pd.read_csv(data, dtype=str)
    # c and d belong to one group: region S, industry 01 now has 2 contributors, not 3
    frame["grp"] = frame["ent"].replace({"d": "c"})
    frame.to_csv(data, index=False)
    south = cell(tables(spec, data), "S", "01")
    assert south["contributors"] == 2
    assert "threshold" in south["rule"].split(";")


def test_negative_contributions_error_or_use_absolute_values(tmp_path: Path) -> None:
    spec, data = write_case(tmp_path)
    frame = pd.read_csv(data, dtype=str)
    frame.loc[3, "turnover"] = "-30"
    frame.to_csv(data, index=False)
    with pytest.raises(DataError, match="negative"):
        tables(spec, data)
    spec.write_text(
        spec.read_text().replace("p_percent = 10", 'p_percent = 10\nnegatives = "absolute"')
    )
    result = tables(spec, data)
    south = cell(result, "S", "01")
    assert south["value"] == pytest.approx(30.0)  # the published value keeps its sign
    assert "absolute" in result.report["rules"]["basis"]


def test_three_dimensions_and_a_frequency_table(tmp_path: Path) -> None:
    spec, data = write_case(tmp_path)
    text = spec.read_text()
    text = text.replace('response = "turnover"\n', "")
    text = text.replace("dominance = [[1, 50]]\np_percent = 10\n", "frequency_threshold = 2\n")
    text = text.replace('name = "industry"', 'name = "industry"\n[[dimension]]\nname = "size"')
    spec.write_text(text)
    frame = pd.read_csv(data, dtype=str)
    frame["size"] = ["s", "l", "s", "l", "s", "l", "s"]
    frame.to_csv(data, index=False)
    result = tables(spec, data)
    assert len(result.cells) == 3 * 3 * 3
    files = result.write(tmp_path / "out")
    body = files["table.csv"].read_text()
    assert "size = Total" in body and "size = s" in body and "size = l" in body
    header = files["cells.csv"].read_text().splitlines()[0]
    assert header.startswith("region,industry,size,records,contributors,status")


row_strategy = st.tuples(
    st.sampled_from(["a", "b", "c", "d", "e"]),
    st.sampled_from(["N", "S"]),
    st.sampled_from(["01", "1"]),
    st.integers(0, 1000).map(float),
)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(row_strategy, min_size=1, max_size=25))
def test_pipeline_flags_match_a_brute_force_reference(
    tmp_path: Path, rows: list[tuple[str, str, str, float]]
) -> None:
    # the rules see contributor totals within each cell, margins included
    spec, _ = write_case(tmp_path)
    frame = pd.DataFrame(rows, columns=["ent", "region", "industry", "turnover"])
    result = tables(spec, frame)
    for _, got in result.cells.iterrows():
        inside = frame[
            frame["region"].isin(["N", "S"] if got["region"] == "UK" else [got["region"]])
            & frame["industry"].isin(
                ["01", "1"] if got["industry"] == "Total" else [got["industry"]]
            )
        ]
        xs = [*sorted(inside.groupby("ent")["turnover"].sum(), reverse=True), 0.0, 0.0]
        total, c = sum(xs), len(inside["ent"].unique())
        want = []
        if 1 <= c < 3:
            want.append("threshold")
        if xs[0] > 0.5 * total:
            want.append("dominance(1,50)")
        if total - xs[0] - xs[1] < 0.1 * xs[0]:
            want.append("p%(10)")
        assert got["rule"] == ";".join(want), (got.to_dict(), xs)
        needs = [0.0]
        if "threshold" in want:
            needs.append(0.1 * total)
        if "dominance(1,50)" in want:
            needs.append(2 * xs[0] - total)
        if "p%(10)" in want:
            needs.append(0.1 * xs[0] - (total - xs[0] - xs[1]))
        assert got["upper_protection"] == pytest.approx(max(needs))
