"""Real protection: secondary suppression proven by the independent audit, true margins, and
the differencing check across a session's outputs (ACRO's known miss caught)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from parity_data import make_data

from fivesafes.outputs import Session, Verdict
from fivesafes.outputs.differencing import SourceKey, population_key
from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.differencing import check_differencing
from fivesafes.sdc.hierarchy import Hierarchy


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return make_data(20_000, seed=3, rare=(6, 25))


def _hierarchies(cells: pd.DataFrame, dims: list[str]) -> tuple[Hierarchy, ...]:
    return tuple(Hierarchy.flat(d, [c for c in cells[d].unique() if c != "Total"]) for d in dims)


def test_suppressed_table_passes_the_independent_audit(df: pd.DataFrame) -> None:
    s = Session(suppress=True)
    table = s.crosstab(df.region, df.industry, margins=True)
    out = s.outputs["output_0"]
    (evidence,) = out.tables
    cells = evidence.cells
    hidden = cells["status"] != "safe"
    assert (cells["status"] == "primary").sum() > 0 and (cells["status"] == "secondary").sum() > 0
    audit = audit_table(
        cells, _hierarchies(cells, ["region", "industry"]), frequency=True,
        dimensions=("region", "industry"),
    )  # fmt: skip
    assert audit.safe, audit.summary()
    # what the researcher sees hides exactly the shown hidden cells
    shown_hidden = int(table.isna().to_numpy().sum())
    assert shown_hidden == int(hidden.sum())
    assert out.status is Verdict.REVIEW


def test_without_secondary_cells_the_audit_recovers_the_primaries(df: pd.DataFrame) -> None:
    """The same pattern less its secondary cells (what ACRO would hide) fails the audit:
    the secondary cells are what protects."""
    s = Session(suppress=True)
    s.crosstab(df.region, df.industry, margins=True)
    cells = s.outputs["output_0"].tables[0].cells.copy()
    cells.loc[cells["status"] == "secondary", "status"] = "safe"
    audit = audit_table(
        cells, _hierarchies(cells, ["region", "industry"]), frequency=True,
        dimensions=("region", "industry"),
    )  # fmt: skip
    assert not audit.safe


def test_margins_are_true_totals(df: pd.DataFrame) -> None:
    s = Session(suppress=True)
    table = s.crosstab(df.region, df.industry, values=df.income, aggfunc="sum", margins=True)
    truth = df.groupby("region", observed=False)["income"].sum()
    shown = table["All"].drop("All").dropna()
    assert len(shown) > 0
    np.testing.assert_allclose(shown.to_numpy(), truth[shown.index].to_numpy(), rtol=1e-12)


def test_status_says_what_was_hidden_and_why(df: pd.DataFrame) -> None:
    s = Session(suppress=True)
    s.crosstab(df.region, df.industry, margins=True)
    out = s.outputs["output_0"]
    hidden = out.checks["hidden"]
    whys = {w for h in hidden for w in h["why"]}
    assert {"MinimumThresholdCheck", "SecondarySuppression"} <= whys
    assert "primary" in out.summary and "secondary" in out.summary
    assert out.exception == "Suppression automatically applied where needed"
    assert out.checks["protection"]["ok"] is True


def test_acros_known_miss_is_caught(df: pd.DataFrame) -> None:
    """A cell hidden in a first crosstab is not recoverable from a second crosstab's margins:
    the first hid secondary cells, and the check of both together finds no disclosure."""
    s = Session(suppress=True)
    first = s.crosstab(df.region, df.industry, margins=True)
    second = s.crosstab(df.region, df.sex, margins=True)
    assert first.isna().to_numpy().any()
    assert not second.isna().to_numpy().any()  # nothing in it needs hiding
    assert s.outputs["output_1"].status is Verdict.REVIEW
    diff = s.outputs["output_1"].checks["differencing"]
    assert diff is not None and diff["safe"] and diff["checked_cells"] > 0
    # the ACRO attack: region totals (second table) minus the cells shown in the first
    for region, row in first.drop(index="All").drop(columns="All").iterrows():
        if row.isna().sum() == 1 and not np.isnan(first.loc[region, "All"]):
            pytest.fail(f"row {region} hides a single cell beside a shown total")


def test_a_later_output_that_reveals_a_hidden_cell_fails_with_the_combination(
    df: pd.DataFrame,
) -> None:
    """A second session sharing the first one's outputs (the provider hook) publishes, under a
    weaker threshold, cells the first hid: it fails the differencing check."""
    first = Session(suppress=True)
    first.crosstab(df.region, df.industry, margins=True)
    weak = Session(suppress=True, rules={"safe_threshold": 3}, earlier=[first.history])
    weak.crosstab(df.region, df.industry, margins=True)
    out = weak.outputs["output_0"]
    assert out.status is Verdict.FAIL
    diff = out.checks["differencing"]
    assert not diff["safe"] and diff["disclosures"]
    text = diff["disclosures"][0]["explanation"]
    assert "output_0 cell (region=" in text and "determined" in text
    assert "differencing:" in out.summary
    # a failing output is not kept: later outputs are not checked against it
    assert not weak.history.earlier(SourceKey(population_key(df.index, None), "count"))


def test_removed_output_is_not_checked_against(df: pd.DataFrame) -> None:
    first = Session(suppress=True)
    first.crosstab(df.region, df.industry, margins=True)
    first.remove_output("output_0")
    weak = Session(suppress=True, rules={"safe_threshold": 3}, earlier=[first.history])
    weak.crosstab(df.region, df.industry, margins=True)
    assert weak.outputs["output_0"].checks["differencing"] is None


def test_different_rows_are_a_different_source(df: pd.DataFrame) -> None:
    """Outputs of different rows (a subset) are not differenced against each other; the same
    rows in another order are the same source."""
    sub = df.iloc[:1000]
    assert population_key(sub.index, None) != population_key(df.index, None)
    shuffled = df.sample(frac=1.0, random_state=1)
    assert population_key(shuffled.index, None) == population_key(
        pd.Index(np.arange(len(df))), None
    )


def test_session_outputs_together_are_safe_by_an_independent_check(df: pd.DataFrame) -> None:
    s = Session(suppress=True)
    s.crosstab(df.region, df.industry, margins=True)
    s.crosstab(df.region, df.sex, margins=True)
    s.crosstab(df.industry, df.sex, margins=True)
    tables = [t for tables in s.history._tables.values() for _, t in tables]
    assert len(tables) == 3
    result = check_differencing(tables[-1], tables[:-1])
    assert result.safe and result.checked_cells > 0


def test_mean_tables_are_protected_on_their_sums(df: pd.DataFrame) -> None:
    s = Session(suppress=True)
    table = s.crosstab(df.region, df.industry, values=df.income, aggfunc="mean", margins=True)
    out = s.outputs["output_0"]
    report = out.checks["protection"]["income"]
    assert report["audit"]["safe"]
    assert table.isna().to_numpy().sum() >= len([h for h in out.checks["hidden"]])
    assert out.tables == ()  # a mean goes to the checkers as a file, not as its sums
