"""The figure of an answer: the cell parsed, groups expanded, statistics against brute force."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fivesafes.errors import ValidationError
from fivesafes.requests.figure import (
    NO_VALUE,
    answer_population,
    answer_table,
    dimension_codes,
    figure_cells,
    leaves_of,
    parse_cell,
    primary_reasons,
)
from fivesafes.sdc import Hierarchy, RuleSet

REGIONS = Hierarchy.from_pairs(
    "region", [("T", None), ("N", "T"), ("S", "T"), ("a", "N"), ("b", "N"), ("c", "S")]
)


def test_cells_parse_and_groups_expand_to_leaves() -> None:
    cell = parse_cell("region=N+c, industry=01")
    assert cell.dimensions == ("region", "industry")
    assert cell.text() == "region=N+c,industry=01"
    assert leaves_of(cell, [REGIONS]) == {"region": ("a", "b", "c"), "industry": ("01",)}
    for bad in ("region", "region=", "=a", "region=a,region=b", "region=a++b"):
        with pytest.raises(ValidationError):
            parse_cell(bad)


def test_the_answer_table_keeps_its_leaves_among_every_code_of_the_column() -> None:
    data = pd.DataFrame({"region": ["a", "b", "c", None], "sector": ["s", "s", "t", "t"]})
    codes = dimension_codes(data, ["region", "sector"])
    assert codes == {"region": ("a", "b", "c", NO_VALUE), "sector": ("s", "t")}
    population = answer_population({"region": ("a", "c"), "sector": ("s", "t")}, codes)
    table = answer_table("request-1-new", population, 5.0)
    region, sector = table.hierarchies
    # every code under the total, the figure's under its own code: the check knows that
    # b and the rows without a region lie outside the figure
    assert set(region.leaves) == {"a", "b", "c", NO_VALUE}
    assert set(region.leaves_under("region:a|c")) == {"a", "c"}
    assert table.filters == ("region", "sector")  # the check reads their zeros, any pair
    assert table.cells.to_dict("records") == [
        {"value": 5.0, "status": "safe", "region": "region:a|c", "sector": sector.root}
    ]
    # the plain register's form: the figure's own codes only
    assert set(population.public_hierarchy("region").leaves) == {"a", "c"}
    clashing = pd.DataFrame({"region": ["a", NO_VALUE, None]})
    with pytest.raises(ValidationError, match="stands for no value"):
        dimension_codes(clashing, ["region"])


rows = st.lists(
    st.tuples(st.sampled_from("abc"), st.integers(0, 4), st.integers(-5, 50)),
    min_size=1,
    max_size=40,
)


@given(rows, st.sets(st.sampled_from("abc"), min_size=1))
def test_figure_statistics_match_brute_force(
    data: list[tuple[str, int, int]], codes: set[str]
) -> None:
    frame = pd.DataFrame(data, columns=["region", "unit", "pay"])
    present = tuple(sorted(c for c in codes if c in set(frame["region"])))
    if not present:
        return
    cells = figure_cells(frame, "pay", {"region": present}, contributor="unit")
    chosen = frame[frame["region"].isin(present)]
    per_unit = chosen.groupby("unit")["pay"].sum().abs().sort_values(ascending=False)
    (got,) = cells.to_dict("records")
    assert got["value"] == chosen["pay"].sum()
    assert got["records"] == len(chosen)
    assert got["contributors"] == chosen["unit"].nunique()
    assert got["top1"] == per_unit.iloc[0]
    assert got["top2"] == (per_unit.iloc[1] if len(per_unit) > 1 else 0.0)
    counted = figure_cells(frame, "count", {"region": present})
    assert counted["value"].iloc[0] == len(chosen)


def test_primary_rules_name_what_the_figure_breaks() -> None:
    frame = pd.DataFrame({"region": ["a"] * 3 + ["b"] * 9, "pay": [5] * 3 + [1] * 9})
    few = figure_cells(frame, "pay", {"region": ("a",)})
    many = figure_cells(frame, "pay", {"region": ("b",)})
    rules = RuleSet(threshold=5)
    assert primary_reasons(few, rules, frequency=False) == ("threshold",)
    assert primary_reasons(many, rules, frequency=False) == ()


def test_unknown_codes_and_columns_are_refused() -> None:
    frame = pd.DataFrame({"region": ["a"], "pay": [1]})
    with pytest.raises(ValidationError, match="occur nowhere"):
        figure_cells(frame, "pay", {"region": ("z",)})
    with pytest.raises(ValidationError, match="no column 'wage'"):
        figure_cells(frame, "wage", {"region": ("a",)})


def test_a_weighted_figure_is_the_value_a_weighted_table_publishes() -> None:
    """Without the weight a figure clashes with the published weighted table (the
    differencing check could not compare them); with it, the two agree to the cent."""
    from pathlib import Path

    from fivesafes.sdc import tables

    examples = Path(__file__).resolve().parents[2] / "examples"
    data = pd.read_csv(examples / "survey.csv", dtype={"industry": str})
    result = tables(examples / "turnover.toml", data, secondary="none")
    cells = result.cells
    uk = cells[(cells["region"] == "K02000001") & (cells["industry"] == "ALL")]
    leaves = {dim: tuple(sorted(set(data[dim]))) for dim in ("region", "industry")}
    weighted = figure_cells(data, "turnover", leaves, contributor="enterprise_id", weight="w")
    unweighted = figure_cells(data, "turnover", leaves, contributor="enterprise_id")
    assert weighted["value"].iloc[0] == pytest.approx(float(uk["value"].iloc[0]), rel=1e-9)
    assert unweighted["value"].iloc[0] != pytest.approx(float(uk["value"].iloc[0]), rel=1e-3)
    # the rules read the contributors' own (unweighted) figures either way
    assert weighted["top1"].iloc[0] == unweighted["top1"].iloc[0]


def test_a_measure_that_is_not_a_number_is_refused_without_quoting_it() -> None:
    data = pd.DataFrame({"region": ["a", "a", "b"], "pay": ["10", "SECRET-77", "5"]})
    with pytest.raises(ValidationError) as caught:
        figure_cells(data, "pay", {"region": ("a",)})
    assert "not a number" in str(caught.value)
    assert "SECRET" not in str(caught.value) and "SECRET" not in repr(caught.value.__cause__)
    data["w"], data["pay"] = ["1", "SECRET-2", "1"], ["1", "2", "3"]
    with pytest.raises(ValidationError, match="'w' is not a number") as caught:
        figure_cells(data, "pay", {"region": ("a",)}, weight="w")
    assert "SECRET" not in str(caught.value)
