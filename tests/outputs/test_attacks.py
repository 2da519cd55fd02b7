"""A careless or malicious researcher's outputs that passed the checks but disclosed.

Each test is an attack that once gave a ``pass`` (or kept an unchecked status) for an
output revealing one unit: a mode of a cell of one record, a regression whose dummy
is one unit, two tables over rows that differ by one unit, a histogram whose edges
are the data's minimum and maximum, an extreme of a cell, non-finite values that
switch the dominance checks off, and a results file written by hand and imported.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fivesafes.errors import DataError
from fivesafes.outputs import Session, Verdict


@pytest.fixture
def df() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 600
    frame = pd.DataFrame(
        {
            "region": rng.choice(list("ABCD"), n),
            "sex": rng.choice(["f", "m"], n),
            "income": rng.lognormal(8, 0.5, n).round(2),
            "age": rng.integers(18, 80, n),
        }
    )
    frame.loc[0, ["region", "sex", "income"]] = ["Z", "f", 123456.78]  # alone in region Z
    return frame


def _last(s: Session) -> object:
    return list(s.outputs.values())[-1]


def test_a_mode_of_a_cell_of_one_record_is_its_value_and_fails(df: pd.DataFrame) -> None:
    """The mode of a cell with one record is that record's value: the threshold applies."""
    df.loc[1, ["region", "sex"]] = ["Z", "m"]  # no empty cell: the zero check cannot catch it
    s = Session()
    s.crosstab(df.region, df.sex, values=df.income, aggfunc="mode")
    out = s.outputs["output_0"]
    assert out.status is Verdict.FAIL
    assert "mode MinimumThresholdCheck: 2 cell(s)" in out.summary
    s = Session(suppress=True)
    table = s.crosstab(df.region, df.sex, values=df.income, aggfunc="mode")
    assert np.isnan(table.loc["Z", "f"])  # hidden, not 123456.78


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(
    ("formula", "why"),
    [
        ("income ~ C(region)", "C(region)[T.Z]"),  # intercept + dummy = the unit's income
        ("income ~ C(region, Treatment('Z')) + age", "fitted exactly"),  # Z the reference
    ],
)
def test_a_regression_whose_category_is_one_unit_fails(
    df: pd.DataFrame, formula: str, why: str
) -> None:
    """Plenty of residual DoF, yet a coefficient is one unit's value: a dummy (or the
    reference level) of a category with fewer records than the threshold fails."""
    s = Session()
    fitted = s.olsr(formula, data=df)
    out = s.outputs["output_0"]
    assert fitted.df_resid >= 10
    assert out.status is Verdict.FAIL, out.summary
    assert why in out.summary


@pytest.mark.filterwarnings("ignore")
def test_a_regression_dummy_of_a_few_records_fails_and_a_plain_model_passes(
    df: pd.DataFrame,
) -> None:
    df.loc[1:3, "region"] = "Y"  # three records in Y: their mean is a coefficient
    s = Session()
    s.olsr("income ~ age + C(region)", data=df[df.region != "Z"])
    assert s.outputs["output_0"].status is Verdict.FAIL
    assert "C(region)[T.Y]: 3 record(s)" in s.outputs["output_0"].summary
    s.olsr("income ~ age + C(sex)", data=df)
    assert s.outputs["output_1"].status is Verdict.PASS, s.outputs["output_1"].summary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s.logitr(
            "y ~ age + C(region)",
            data=df[df.region != "Z"].assign(y=lambda d: (d.sex == "f").astype(int)),
        )
    assert s.outputs["output_2"].status is Verdict.FAIL


@pytest.mark.parametrize("reset", [False, True])
def test_two_tables_over_rows_that_differ_by_one_unit_fail(df: pd.DataFrame, reset: bool) -> None:
    """The same table over every row and over every row but one: their difference is the
    one unit's cell. Each passes alone; the second fails, naming the first."""
    df = df[df.region != "Z"]
    less = df.drop(index=df.index[5])
    if reset:  # relabelled rows: the row labels no longer say which unit went
        less = less.reset_index(drop=True)
    s = Session()
    s.crosstab(df.region, df.sex)
    assert s.outputs["output_0"].status is Verdict.PASS
    s.crosstab(less.region, less.sex)
    out = s.outputs["output_1"]
    assert out.status is Verdict.FAIL, out.summary
    assert "output_0" in out.summary and "differ by" in out.summary
    s = Session(suppress=True)  # a sum (mean) table too, and with suppression on
    s.crosstab(df.region, df.sex, values=df.income, aggfunc="mean")
    s.crosstab(less.region, less.sex, values=less.income, aggfunc="mean")
    assert s.outputs["output_1"].status is Verdict.FAIL


def test_tables_of_a_subset_whose_difference_is_safe_pass(df: pd.DataFrame) -> None:
    """Every row, then the women only: the difference is the men's table, whose cells
    all pass the threshold, so neither output fails."""
    df = df[df.region != "Z"]
    women = df[df.sex == "f"]
    s = Session()
    s.crosstab(df.region, df.age > 40)
    s.crosstab(women.region, women.age > 40)
    assert [o.status for o in s.outputs.values()] == [Verdict.PASS, Verdict.PASS]


def test_a_histogram_whose_edges_are_the_data_extremes_is_for_review(df: pd.DataFrame) -> None:
    """With ``bins=10`` the outer edges are the smallest and largest values (one unit
    each): never ``pass``. Edges the researcher chose show no one's value."""
    s = Session()
    s.hist(df, "age", bins=5)
    assert s.outputs["output_0"].status is Verdict.REVIEW
    s.hist(df, "age", bins=[0, 30, 45, 60, 100])
    assert s.outputs["output_1"].status is Verdict.PASS


def test_minima_and_maxima_are_a_units_value_and_never_pass(df: pd.DataFrame) -> None:
    df = df[df.region != "Z"]
    s = Session()
    for stat in ("min", "max"):
        s.pivot_table(df, values="income", index="region", aggfunc=stat)
    s.pivot_table(df, values="income", index="region", aggfunc="median")
    assert [o.status for o in s.outputs.values()] == [
        Verdict.REVIEW,
        Verdict.REVIEW,
        Verdict.PASS,
    ]
    assert s.outputs["output_0"].summary.startswith("review; ")
    assert "a unit's own value" in s.outputs["output_0"].summary


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_non_finite_values_are_refused(df: pd.DataFrame, bad: float) -> None:
    """An infinite value makes a cell's sum and its largest values infinite, and the
    dominance shares inf/inf are NaN: no cell would ever fail N-k or p-ratio."""
    df.loc[3, "income"] = bad
    with pytest.raises(DataError, match="infinite"):
        Session().crosstab(df.region, df.sex, values=df.income, aggfunc="sum")


def test_an_imported_results_file_is_reviewed_not_passed(df: pd.DataFrame, tmp_path: Path) -> None:
    """A results.json is a file the researcher's process wrote (or the researcher did):
    its 'pass' is not a check made here, so the output goes to a human."""
    folder = tmp_path / "acro"
    folder.mkdir()
    df.groupby("region").income.max().to_csv(folder / "t.csv")
    doc = {
        "version": "1.0.2",
        "results": {"output_0": {"status": "pass", "type": "table", "files": [{"name": "t.csv"}]}},
    }
    (folder / "results.json").write_text(json.dumps(doc))
    s = Session()
    s.import_results(folder)
    out = s.outputs["output_0"]
    assert out.status is Verdict.REVIEW
    assert out.checks["imported_status"] == "pass"


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    drop=st.integers(0, 299),
    reset=st.booleans(),
    suppress=st.booleans(),
)
def test_dropping_any_one_row_never_gives_two_releasable_tables(
    seed: int, drop: int, reset: bool, suppress: bool
) -> None:
    """Whatever row is dropped, however the rows are labelled after: the pair never both
    pass (nor both get a mere review after suppression)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.choice(list("xyz"), 300), "b": rng.choice(list("pq"), 300)})
    less = frame.drop(index=drop)
    if reset:
        less = less.reset_index(drop=True)
    s = Session(suppress=suppress)
    s.crosstab(frame.a, frame.b, margins=True)
    s.crosstab(less.a, less.b, margins=True)
    assert s.outputs["output_1"].status is Verdict.FAIL
