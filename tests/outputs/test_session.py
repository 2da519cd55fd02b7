"""The session's ACRO surface: records, regressions, survival, plots, custom files, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from fivesafes.errors import DataError, NotFoundError, ValidationError
from fivesafes.outputs import Session, Verdict


@pytest.fixture
def df() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 400
    return pd.DataFrame(
        {
            "a": rng.choice(["x", "y", "z"], n, p=[0.6, 0.38, 0.02]),
            "b": rng.choice(["p", "q"], n),
            "v": rng.lognormal(3, 1, n),
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "y": rng.integers(0, 2, n),
            "t": rng.integers(1, 40, n),
            "e": rng.integers(0, 2, n),
        }
    )


def test_records_comments_exceptions_rename_remove(df: pd.DataFrame) -> None:
    s = Session()
    s.crosstab(df.a, df.b)
    s.crosstab(df.a, df.b, values=df.v, aggfunc="mean")
    s.add_comments("output_0", "first")
    s.add_exception("output_0", "needed for the paper")
    s.rename_output("output_1", "means")
    assert list(s.outputs) == ["output_0", "means"]
    assert s.outputs["output_0"].comments == ("first",)
    assert s.outputs["output_0"].exception == "needed for the paper"
    assert s.outputs["means"].uid == "means"
    s.remove_output("output_0")
    assert list(s.outputs) == ["means"]
    assert "uid: means" in s.print_outputs()
    with pytest.raises(NotFoundError):
        s.remove_output("output_0")
    with pytest.raises(ValidationError):
        s.rename_output("means", "../escape")


def test_command_is_the_researchers_line(df: pd.DataFrame) -> None:
    s = Session()
    s.crosstab(df.a, df.b)  # the line ACRO records
    assert s.outputs["output_0"].command == "s.crosstab(df.a, df.b)  # the line ACRO records"


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.SingularMatrixWarning")
def test_regression_dof_comes_from_statsmodels(df: pd.DataFrame) -> None:
    s = Session()
    exog = sm.add_constant(df[["x1", "x2"]].iloc[:13])
    exog["x1_again"] = exog["x1"]  # rank deficient: statsmodels knows, a hand count would not
    s.ols(df["v"].iloc[:13], exog)
    out = s.outputs["output_0"]
    fitted = sm.OLS(df["v"].iloc[:13], exog).fit()
    assert out.properties["dof"] == fitted.df_resid == 10.0
    assert out.status is Verdict.PASS
    s.olsr("v ~ x1 + x2", data=df.iloc[:12])
    assert s.outputs["output_1"].properties["dof"] == 9.0
    assert s.outputs["output_1"].status is Verdict.FAIL
    res = s.logitr("y ~ x1", data=df)
    assert s.outputs["output_2"].status is Verdict.PASS and res.df_resid == len(df) - 2


def test_survival_table_accumulates_when_suppressing(df: pd.DataFrame) -> None:
    s = Session(suppress=True)
    table = s.surv_func(df.t, df.e, output="table")
    out = s.outputs["output_0"]
    assert out.status is Verdict.REVIEW and "accumulated" in out.exception
    shown = table["rounded_survival_fun"].to_numpy()
    assert np.all(np.diff(shown) <= 1e-12)  # still a survival function
    # each reported drop comes from at least the threshold of changes since the last one
    risk = table["num at risk"].to_numpy()
    steps = np.flatnonzero(np.diff(shown) < 0) + 1
    last = 0
    for i in steps:
        assert risk[last] - risk[i] >= 10
        last = i


def test_histogram_withheld_when_disclosive_and_suppressing(df: pd.DataFrame) -> None:
    s = Session(suppress=True)
    assert s.hist(df, "v", bins=30) is None  # sparse tail bins
    out = s.outputs["output_0"]
    assert out.status is Verdict.FAIL and out.output == () and "withheld" in out.summary
    path = Session().hist(df, "x1", bins=4)
    assert path is not None and Path(path).read_bytes().startswith(b"\x89PNG")


def test_pie_counts_every_slice(df: pd.DataFrame) -> None:
    s = Session()
    s.pie(df, "a")
    out = s.outputs["output_0"]
    assert out.status is Verdict.FAIL and out.checks["flagged_slices"] == ["z"]


def test_custom_output_and_blocked_types(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("a note")
    s = Session()
    assert s.custom_output(str(note), "please check") is True
    assert s.outputs["output_0"].status is Verdict.REVIEW
    assert s.custom_output(str(tmp_path / "chart.svg")) is False
    with pytest.raises(DataError):
        s.custom_output(str(tmp_path / "missing.txt"))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda s, d: s.crosstab(d.a, d.b, normalize=True), "normalize"),
        (lambda s, d: s.crosstab(d.a, d.b, values=d.v, aggfunc="var"), "not supported"),
        (lambda s, d: s.crosstab(d.a, d.b, values=d.v), "without an aggfunc"),
        (lambda s, d: s.crosstab(d.a, d.b, aggfunc="mean"), "needs values"),
        (lambda s, d: s.crosstab(d.a, d.b, values=d.a, aggfunc="sum"), "not numbers"),
        (lambda s, d: s.crosstab(d.a.rename("value"), d.b), "reserved"),
        (lambda s, d: s.pivot_table(d, values=["v", "x1"], index="a"), "exactly one"),
        (lambda s, d: s.pivot_table(d, values="nope", index="a"), "not in the data"),
    ],
)
def test_bad_input_gets_a_clear_error(df: pd.DataFrame, call, match: str) -> None:  # type: ignore[no-untyped-def]
    s = Session()
    with pytest.raises(DataError, match=match):
        call(s, df)
    assert s.outputs == {}  # nothing half-recorded


def test_suppression_can_be_switched(df: pd.DataFrame) -> None:
    s = Session()
    s.crosstab(df.a, df.b)
    s.enable_suppression()
    t = s.crosstab(df.a, df.b)
    s.disable_suppression()
    assert s.outputs["output_0"].status is Verdict.FAIL
    assert s.outputs["output_1"].status is Verdict.REVIEW and t.isna().to_numpy().any()
