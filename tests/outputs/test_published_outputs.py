"""A session over a whole dataset is checked against the dataset's releases in the register."""

from __future__ import annotations

import pandas as pd
import pytest
from parity_data import make_data

from fivesafes.outputs import PublishedOutputs, Session, Verdict
from fivesafes.sdc import OutputTable, tables
from fivesafes.sdc.spec import parse_spec


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    frame = make_data(20_000, seed=3, rare=(6, 25))
    for col in ("region", "industry"):
        frame[col] = frame[col].astype(str)
    return frame


def _release(df: pd.DataFrame) -> OutputTable:
    """region x industry counts as a release of survey:count (threshold 10), as the register
    holds it: published cells with their values, hidden ones with value and protection."""
    spec = parse_spec(
        {
            "table": {"name": "by region and industry"},
            "dimension": [{"name": "region"}, {"name": "industry"}],
            "rules": {"frequency_threshold": 10},
        }
    )
    result = tables(spec, df[["region", "industry"]])
    assert (result.cells["status"] != "safe").any()
    return OutputTable("REL-0001", result.hierarchies, result.cells)


def test_an_output_that_reveals_a_released_hidden_cell_fails(df: pd.DataFrame) -> None:
    register = PublishedOutputs("survey", len(df), {"survey:count": [_release(df)]})
    weak = Session(suppress=True, rules={"safe_threshold": 3}, dataset="survey", earlier=[register])
    weak.crosstab(df.region, df.industry, margins=True)
    out = weak.outputs["output_0"]
    assert out.status is Verdict.FAIL
    diff = out.checks["differencing"]
    assert not diff["safe"] and "REL-0001" in diff["disclosures"][0]["explanation"]


def test_only_a_session_over_the_whole_dataset_and_measure_is_compared(df: pd.DataFrame) -> None:
    register = PublishedOutputs("survey", len(df), {"survey:count": [_release(df)]})
    part = df.iloc[:15_000]
    sub = Session(suppress=True, rules={"safe_threshold": 3}, dataset="survey", earlier=[register])
    sub.crosstab(part.region, part.industry, margins=True)
    assert sub.outputs["output_0"].checks["differencing"] is None  # another population
    other = Session(suppress=True, rules={"safe_threshold": 3}, dataset="lfs", earlier=[register])
    other.crosstab(df.region, df.industry, margins=True)
    assert other.outputs["output_0"].checks["differencing"] is None  # another dataset
