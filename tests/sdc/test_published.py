"""The library's public face: spec classes, the table as published, exports, warnings."""

from __future__ import annotations

import inspect
from pathlib import Path

import pandas as pd
import pytest

import fivesafes.sdc as sdc
from fivesafes.sdc import (
    DimensionSpec,
    Hierarchy,
    NumericCodesWarning,
    RuleSet,
    TableResult,
    TableSpec,
    tables,
)


def result() -> TableResult:
    region = Hierarchy.from_pairs("region", [("UK", None), ("N", "UK"), ("S", "UK")])
    data = pd.DataFrame(
        {
            "ent": ["a", "b", "c", "d", "e", "f", "g"],
            "region": ["N", "N", "S", "S", "S", "S", "S"],
            "turnover": [10.0, 12.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        }
    )
    spec = TableSpec(
        "t",
        (DimensionSpec("region"),),
        response="turnover",
        contributor="ent",
        rules=RuleSet(threshold=3),
    )
    return tables(spec, data, secondary="optimal", hierarchies=[region])


def test_spec_classes_are_exported():
    for name in ("TableSpec", "DimensionSpec", "RuleSet", "Hierarchy", "load_hierarchy"):
        assert name in sdc.__all__ and hasattr(sdc, name)


def test_published_hides_values_in_hierarchy_order():
    r = result()
    pub = r.published()
    assert list(pub["region"]) == ["UK", "N", "S"]
    assert list(pub.columns) == ["region", "value", "status"]
    hidden = pub["status"] == "confidential"
    assert hidden.sum() == (r.cells["status"] != "safe").sum() >= 2
    assert pub.loc[hidden, "value"].isna().all()
    assert not pub.loc[~hidden, "value"].isna().any()
    shown = r.published(symbols=True)
    assert set(shown.loc[hidden, "value"]) == {"[c]"}
    # nothing confidential rides along: no top contributions, no rule, no protection
    assert not {"top1", "top2", "rule", "lower_protection"} & set(pub.columns)


def test_the_cells_docstring_warns_they_are_confidential():
    source = inspect.getsource(TableResult)
    doc = source.split("cells: pd.DataFrame", 1)[1].split("hierarchies:", 1)[0]
    assert "CONFIDENTIAL" in doc and "top1" in doc and "published" in doc


def test_a_numeric_dimension_column_warns():
    data = pd.DataFrame({"code": [1, 1, 2], "y": [1.0, 2.0, 3.0]})
    spec = TableSpec("t", (DimensionSpec("code"),), response="y", rules=RuleSet(threshold=None))
    with pytest.warns(NumericCodesWarning, match="leading zeros"):
        tables(spec, data, secondary="none")
    as_text = data.assign(code=data["code"].astype(str))
    tables(spec, as_text, secondary="none")  # no warning: warnings are errors in the tests


def test_export_writes_the_other_tools_files(tmp_path: Path):
    written = result().export("argus", tmp_path / "a")
    assert sorted(written) == ["t.rda", "t.tab"]
    written = result().export("sdctable", tmp_path / "s")
    assert sorted(written) == ["t_fivesafes.csv", "t_hier_region.csv", "t_sdctable.csv"]


def test_published_view_of_a_two_way_table_marks_missing_cells_confidential():
    from fivesafes.sdc.pipeline import published_view

    a = Hierarchy.from_pairs("a", [("T", None), ("x", "T"), ("y", "T")])
    b = Hierarchy.flat("b", ["01", "1"])
    cells = pd.DataFrame(
        {
            "a": ["T", "T", "T", "x", "x", "x", "y", "y"],  # (y, 1) is missing
            "b": ["Total", "01", "1"] * 2 + ["Total", "01"],
            "value": [6.0, 3.0, 3.0, 2.0, 1.0, 1.0, 4.0, 2.0],
            "status": ["safe"] * 4 + ["primary", "secondary", "safe", "safe"],
        }
    )
    pub = published_view(cells, (a, b))
    assert list(zip(pub["a"], pub["b"], strict=True))[:3] == [
        ("T", "Total"),
        ("T", "01"),
        ("T", "1"),
    ]
    assert list(pub["status"]) == ["published"] * 4 + ["confidential"] * 2 + ["published"] * 2 + [
        "confidential"
    ]
    assert pub["value"].iloc[0] == 6.0 and pd.isna(pub["value"].iloc[8])
