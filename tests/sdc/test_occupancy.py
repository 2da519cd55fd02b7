"""Empty combinations of a filter and a dimension: zeros the differencing attacker knows.

Regions a1 and a2 lie in country X, a3 in Y. A release by region hides a3 (and a2 as
its complement); a table of the units of country X then publishes a1 + a2, so a3 is the
total minus it. Without the data's zeros the model lets (a3, X) hold units and passes
it; with them it must find a3 exactly, as scipy's LP over region x country does.
"""

from __future__ import annotations

import itertools

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from fivesafes.errors import SpecError
from fivesafes.sdc import (
    DimensionSpec,
    Hierarchy,
    OutputsContradictData,
    OutputTable,
    Population,
    RuleSet,
    SuppressionSpec,
    TableSpec,
    check_differencing,
    restrict,
    tables,
)
from fivesafes.sdc.occupancy import Occupancy, filter_pairs
from fivesafes.sdc.tabulate import data_occupancy, sources

REGIONS = ("a1", "a2", "a3")
COUNTRY = {"a1": "X", "a2": "X", "a3": "Y"}
VALUES = {"a1": 40.0, "a2": 45.0, "a3": 15.0}
BY_REGION = Hierarchy.flat("region", list(REGIONS), total="T")


def _release() -> OutputTable:
    cells = pd.DataFrame(
        {
            "region": ["T", "a1", "a2", "a3"],
            "value": [100.0, 40.0, 45.0, 15.0],
            "status": ["safe", "safe", "secondary", "primary"],
            "lower": [0.0, 0.0, 0.0, 3.0],
            "upper": [0.0, 0.0, 0.0, 3.0],
        }
    )
    return OutputTable("REL-0001", (BY_REGION,), cells)


def _country_x() -> OutputTable:
    """The units of country X, one cell: their total (no dimension of its own)."""
    cells = pd.DataFrame({"value": [85.0], "status": ["safe"]})
    population = Population.of({"country": ["X"]}, {"country": ["X", "Y"]})
    return restrict(OutputTable("new", (), cells), population)


def _occupancy() -> Occupancy:
    return Occupancy.of({("region", "country"): [(r, c) for r, c in COUNTRY.items()]})


def test_a_filter_that_follows_from_a_dimension_is_caught() -> None:
    new = _country_x()
    assert new.filters == ("country",)
    blind = check_differencing(new, [_release()])
    assert blind.safe  # the gap: (a3, X) may hold units as far as the model knows
    seen = check_differencing(new, [_release()], occupancy=_occupancy())
    assert not seen.safe and seen.empty_atoms == 3
    (found,) = seen.disclosures
    assert found.codes == {"region": "a3"} and found.exact
    assert found.attacker_min == found.attacker_max == 15.0
    # independently: scipy over the region x country leaves, the empty ones at zero
    leaves = list(itertools.product(REGIONS, ("X", "Y")))
    rows = [
        ([1.0] * len(leaves), 100.0),  # T
        ([1.0 if r == "a1" else 0.0 for r, _ in leaves], 40.0),
        ([1.0 if c == "X" else 0.0 for _, c in leaves], 85.0),  # the new table
    ]
    bounds = [(0, None) if COUNTRY[r] == c else (0, 0) for r, c in leaves]
    a3 = np.array([1.0 if r == "a3" else 0.0 for r, _ in leaves])
    a_eq = np.array([r for r, _ in rows])
    b_eq = np.array([b for _, b in rows])
    low = linprog(a3, A_eq=a_eq, b_eq=b_eq, bounds=bounds)
    high = linprog(-a3, A_eq=a_eq, b_eq=b_eq, bounds=bounds)
    assert low.status == high.status == 0
    assert round(low.fun, 6) == round(-high.fun, 6) == 15.0


def test_the_same_population_named_through_two_columns_is_caught() -> None:
    # an earlier release of the units of regions a1 and a2 (a region filter) and now
    # one of country X: the same units, so nothing new; but a table of country Y
    # besides a release of the whole by region tells a3 too
    release = _release()
    only_y = restrict(
        OutputTable("new", (), pd.DataFrame({"value": [15.0], "status": ["safe"]})),
        Population.of({"country": ["Y"]}, {"country": ["X", "Y"]}),
    )
    assert check_differencing(only_y, [release]).safe
    assert not check_differencing(only_y, [release], occupancy=_occupancy()).safe


def test_leaves_the_data_never_show_stay_unconstrained() -> None:
    # a4 is in the hierarchy but no row carries it: not known to be empty anywhere
    hierarchy = Hierarchy.flat("region", [*REGIONS, "a4"], total="T")
    classes = {
        "region": {leaf: i for i, leaf in enumerate(hierarchy.leaves)},
        "country": {"X": 0, "Y": 1},
    }
    empty = _occupancy().empty_atoms(("region", "country"), classes, (4, 2)).reshape(4, 2)
    assert empty.tolist() == [[False, True], [False, True], [True, False], [False, False]]


def test_a_missing_value_leaves_its_partners_combinations_unknown() -> None:
    # a3 has a unit with no country: it may be in X as far as anyone knows
    rows = [*COUNTRY.items(), ("a3", None), (None, "Y")]
    classes = {"region": {r: i for i, r in enumerate(REGIONS)}, "country": {"X": 0, "Y": 1}}
    empty = Occupancy.of({("region", "country"): rows}).empty_atoms(
        ("region", "country"), classes, (3, 2)
    )
    assert empty.reshape(3, 2).tolist() == [[False, False], [False, False], [False, False]]
    rows = [*COUNTRY.items(), ("a3", None)]
    empty = Occupancy.of({("region", "country"): rows}).empty_atoms(
        ("region", "country"), classes, (3, 2)
    )
    assert empty.reshape(3, 2).tolist() == [[False, True], [False, True], [False, False]]


def test_pairs_asked_are_those_with_a_filter() -> None:
    outputs = [(("region", "industry"), ()), (("industry",), ("country",))]
    pairs = filter_pairs(outputs)
    assert pairs == [("country", "industry"), ("country", "region")]
    con = duckdb.connect()
    con.register("rows", pd.DataFrame({"region": ["a1"], "industry": ["A"]}))
    assert data_occupancy(con, "rows", {"region", "industry"}, pairs) is None  # no 'country'
    con.register("rows", pd.DataFrame({"region": ["a1"], "country": ["X"]}))
    found = data_occupancy(con, "rows", {"region", "country"}, pairs)
    assert found is not None and set(found.occupied) == {("country", "region")}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(REGIONS), st.sampled_from(("X", "Y")), st.integers(1, 50)),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(("X", "Y")),
    st.sampled_from(REGIONS),
)
def test_the_zeros_of_the_data_keep_the_truth_feasible(
    units: list[tuple[str, str, int]], kept: str, hidden: str
) -> None:
    """Any data: the region release and the country table with the data's own zeros are
    checked without error, each interval holds the true value, and it is never wider
    than the interval without the zeros."""
    frame = pd.DataFrame(units, columns=["region", "country", "v"])
    by_region = frame.groupby("region")["v"].sum().reindex(list(REGIONS), fill_value=0)
    statuses = ["primary" if r == hidden else "safe" for r in REGIONS]
    release = OutputTable(
        "REL-0001",
        (BY_REGION,),
        pd.DataFrame(
            {
                "region": ["T", *REGIONS],
                "value": [float(by_region.sum()), *map(float, by_region)],
                "status": ["safe", *statuses],
                "lower": [0.0, *(1.0 if s == "primary" else 0.0 for s in statuses)],
                "upper": [0.0, *(1.0 if s == "primary" else 0.0 for s in statuses)],
            }
        ),
    )
    total = float(frame.loc[frame["country"] == kept, "v"].sum())
    new = restrict(
        OutputTable("new", (), pd.DataFrame({"value": [total], "status": ["safe"]})),
        Population.of({"country": [kept]}, {"country": ["X", "Y"]}),
    )
    occupancy = Occupancy.of(
        {("region", "country"): frame[["region", "country"]].itertuples(index=False, name=None)}
    )
    blind = check_differencing(new, [release])
    seen = check_differencing(new, [release], occupancy=occupancy)
    truth = float(by_region[hidden])
    for d in seen.disclosures:
        assert d.attacker_min - 1e-6 <= truth <= d.attacker_max + 1e-6
    # stricter, never weaker: whatever the blind model finds, the one with zeros finds too
    assert {tuple(d.codes.items()) for d in blind.disclosures} <= {
        tuple(d.codes.items()) for d in seen.disclosures
    }


def _survey() -> pd.DataFrame:
    """Enterprises by region (a1, a2 in country X; a3, with two, in Y) and industry."""
    rows = []
    counts = {"a1": 6, "a2": 6, "a3": 2}
    for region, n in counts.items():
        for k in range(n):
            industry = "A" if k % 2 == 0 else "B"
            rows.append((f"{region}-{k}", region, COUNTRY[region], industry, 10.0 + 3 * k))
    return pd.DataFrame(rows, columns=["ent", "region", "country", "industry", "turnover"])


def _table_spec(name: str, dimension: str, where: tuple = ()) -> TableSpec:
    return TableSpec(
        name,
        (DimensionSpec(dimension, total_code="T"),),
        response="turnover",
        contributor="ent",
        rules=RuleSet(threshold=3),
        suppression=SuppressionSpec(method="optimal", singleton=False),
        where=where,
    )


def test_protecting_with_a_release_holds_the_datas_zeros() -> None:
    data = _survey()
    by_industry = Hierarchy.flat("industry", ["A", "B"], total="T")
    whole = tables(_table_spec("regions", "region"), data, hierarchies=(BY_REGION,))
    assert whole.cells.set_index("region").loc["a3", "status"] == "primary"
    release = OutputTable("REL-0001", whole.hierarchies, whole.cells)
    spec = _table_spec("x", "industry", (("country", ("X",)),))
    alone = tables(spec, data, hierarchies=(by_industry,))
    population = Population.of({"country": ["X"]}, {"country": ["X", "Y"]})
    alone_out = restrict(OutputTable("x", alone.hierarchies, alone.cells), population)
    pairs = {("country", "region"): data[["country", "region"]].itertuples(index=False, name=None)}
    occupancy = Occupancy.of(pairs)
    assert check_differencing(alone_out, [release]).safe  # blind to the geography
    assert not check_differencing(alone_out, [release], occupancy=occupancy).safe

    protected = tables(spec, data, hierarchies=(by_industry,), published=[release])
    out = restrict(OutputTable("x", protected.hierarchies, protected.cells), population)
    assert check_differencing(out, [release], occupancy=occupancy).safe
    assert protected.report["published"]["hidden_for_releases"] >= 1
    assert protected.report["published"]["union_check"]["empty_atoms"] > 0
    # independently: scipy over region x country x industry, impossible pairs at zero
    leaves = list(itertools.product(REGIONS, ("X", "Y"), ("A", "B")))

    def cover(region: str, country: str, industry: str) -> list[float]:
        return [
            float(region in (r, "T") and country in (c, "*") and industry in (i, "T"))
            for r, c, i in leaves
        ]

    a_eq, b_eq = [], []
    for _, row in whole.cells.iterrows():
        if row["status"] == "safe":
            a_eq.append(cover(row["region"], "*", "T"))
            b_eq.append(float(row["value"]))
    for _, row in protected.cells.iterrows():
        if row["status"] == "safe":
            a_eq.append(cover("T", "X", row["industry"]))
            b_eq.append(float(row["value"]))
    bounds = [(0, None) if COUNTRY[r] == c else (0, 0) for r, c, _ in leaves]
    a3 = whole.cells.set_index("region").loc["a3"]
    c = np.array(cover("a3", "*", "T"))
    low = linprog(c, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds)
    high = linprog(-c, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds)
    assert low.status == 0
    hi = float("inf") if high.status == 3 else -float(high.fun)
    assert low.fun <= float(a3["value"]) - float(a3["lower_protection"]) + 1e-6
    assert hi >= float(a3["value"]) + float(a3["upper_protection"]) - 1e-6


def test_a_filtered_release_read_back_from_the_register_counts_too() -> None:
    # the other way round: country X's total is out (as the register gives it back: its
    # filter a dimension whose total is '*'), and now the table by region
    data = _survey()
    by_industry = Hierarchy.flat("industry", ["A", "B"], total="T")
    spec = _table_spec("x", "industry", (("country", ("X",)),))
    x = tables(spec, data, hierarchies=(by_industry,))
    population = Population.of({"country": ["X"]}, {"country": ["X", "Y"]})
    restricted = restrict(OutputTable("REL-0001", x.hierarchies, x.cells), population)
    release = OutputTable(restricted.label, restricted.hierarchies, restricted.cells)
    assert release.filters == ()
    protected = tables(_table_spec("regions", "region"), data, hierarchies=(BY_REGION,),
                       published=[release])  # fmt: skip
    assert protected.report["published"]["hidden_for_releases"] >= 1
    out = OutputTable("new", protected.hierarchies, protected.cells)
    pairs = {("country", "region"): data[["country", "region"]].itertuples(index=False, name=None)}
    assert check_differencing(out, [release], occupancy=Occupancy.of(pairs)).safe


def test_a_table_by_a_column_that_follows_from_a_released_dimension_is_caught() -> None:
    # no filter: a table by country beside a release by region. a3 (primary) and a4 lie
    # in Y, the complement a1 in X; country Y minus the published a4 gives a3 exactly
    country = {"a1": "X", "a2": "X", "a3": "Y", "a4": "Y"}
    rows = []
    for region, n in {"a1": 6, "a2": 6, "a3": 2, "a4": 5}.items():
        for k in range(n):
            base = 100.0 if region == "a4" else 10.0
            rows.append((f"{region}-{k}", region, country[region], base + 3 * k))
    data = pd.DataFrame(rows, columns=["ent", "region", "country", "turnover"])
    regions = Hierarchy.flat("region", list(country), total="T")
    whole = tables(_table_spec("regions", "region"), data, hierarchies=(regions,))
    status = whole.cells.set_index("region")["status"]
    assert status["a3"] == "primary" and status["a1"] == "secondary"
    release = OutputTable("REL-0001", whole.hierarchies, whole.cells)
    by_country = Hierarchy.flat("country", ["X", "Y"], total="T")
    protected = tables(
        _table_spec("c", "country"), data, hierarchies=(by_country,), published=[release]
    )
    assert protected.report["published"]["union_check"]["empty_atoms"] > 0
    # independently: scipy over region x country, the empty pairs at zero
    leaves = list(itertools.product(country, ("X", "Y")))
    a_eq, b_eq = [], []
    for _, row in whole.cells.iterrows():
        if row["status"] == "safe":
            a_eq.append([float(row["region"] in (r, "T")) for r, _ in leaves])
            b_eq.append(float(row["value"]))
    for _, row in protected.cells.iterrows():
        if row["status"] == "safe":
            a_eq.append([float(row["country"] in (c, "T")) for _, c in leaves])
            b_eq.append(float(row["value"]))
    bounds = [(0, None) if country[r] == c else (0, 0) for r, c in leaves]
    target = np.array([float(r == "a3") for r, _ in leaves])
    low = linprog(target, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds)
    high = linprog(-target, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds)
    a3 = whole.cells.set_index("region").loc["a3"]
    hi = float("inf") if high.status == 3 else -float(high.fun)
    assert low.status == 0
    assert low.fun <= float(a3["value"]) - float(a3["lower_protection"]) + 1e-6
    assert hi >= float(a3["value"]) + float(a3["upper_protection"]) - 1e-6


def test_pairs_of_dimensions_no_output_crosses_are_asked() -> None:
    outputs = [(("region",), ()), (("country", "industry"), ())]
    assert filter_pairs(outputs) == [("country", "region"), ("industry", "region")]
    assert filter_pairs([(("region", "country"), ()), (("country",), ())]) == []


class _Counting:
    """A DuckDB connection that counts the rows fetched from it."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.fetched = 0

    def execute(self, sql: str) -> _Counting:
        self.con.execute(sql)
        return self

    def fetchall(self) -> list[tuple[object, ...]]:
        rows = self.con.fetchall()
        self.fetched += len(rows)
        return rows

    def fetchone(self) -> tuple[object, ...] | None:
        row = self.con.fetchone()
        self.fetched += row is not None
        return row


def test_a_filter_on_a_unit_identifier_is_refused_before_its_pairs_are_fetched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sources, "MAX_VALUE_PAIRS", 1_000)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE rows AS SELECT 'u' || i AS unit, 'a' || (i % 4) AS region "
        "FROM range(5_000) t(i)"
    )
    spy = _Counting(con)
    with pytest.raises(SpecError, match="'region' and 'unit' take 5,000 distinct") as raised:
        data_occupancy(spy, "rows", {"unit", "region"}, [("region", "unit")])  # type: ignore[arg-type]
    assert spy.fetched <= 1  # the count, no pair
    assert "coarser column" in str(raised.value)
    assert "5,000" not in raised.value.withheld("the check", "see inside").message
    # at the limit the pairs are read whole
    monkeypatch.setattr(sources, "MAX_VALUE_PAIRS", 5_000)
    found = data_occupancy(spy, "rows", {"unit", "region"}, [("region", "unit")])  # type: ignore[arg-type]
    assert found is not None and len(found.occupied[("region", "unit")]) == 5_000


def _by_country(x: float, y: float) -> OutputTable:
    """A release by country, every cell published, of whatever data gave X and Y."""
    by_country = Hierarchy.flat("country", ["X", "Y"], total="T")
    cells = pd.DataFrame({"country": ["T", "X", "Y"], "value": [x + y, x, y], "status": "safe"})
    return OutputTable("REL-0002", (by_country,), cells)


@pytest.mark.parametrize("x", [80.0, 30.0])
def test_a_release_from_other_data_is_named_not_taken_for_a_disclosure(x: float) -> None:
    # REL-0002 (its source only declared) came from other data: X holds 80 (or 30) there,
    # while here a1 + a2 = 85 lie in X. With the zeros, 80 "pins" a3 at 20 (its true value
    # is 15) and 30 pins a2 below zero: false certainties. The check must say that the
    # release cannot be of these data, not that a3 is determined.
    release, new = _by_country(x, 100.0 - x), _release()
    assert check_differencing(new, [release]).safe  # without the zeros nothing clashes
    with pytest.raises(OutputsContradictData) as raised:
        check_differencing(new, [release], occupancy=_occupancy())
    assert raised.value.labels == ("REL-0002", "REL-0001")
    assert raised.value.empty_atoms == 3 and raised.value.value_free
    assert "REL-0002" in str(raised.value) and str(x) not in str(raised.value)
    # independently: scipy over region x country, every cell at its value (the hidden ones
    # at their true values): no data fit with the zeros, some do without them
    leaves = list(itertools.product(REGIONS, ("X", "Y")))
    a_eq = [[1.0] * len(leaves)]
    b_eq = [100.0]
    for region, v in VALUES.items():
        a_eq.append([float(r == region) for r, _ in leaves])
        b_eq.append(v)
    for country, v in (("X", x), ("Y", 100.0 - x)):
        a_eq.append([float(c == country) for _, c in leaves])
        b_eq.append(v)
    zeros = [(0, None) if COUNTRY[r] == c else (0, 0) for r, c in leaves]
    cost = np.zeros(len(leaves))
    assert linprog(cost, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=zeros).status == 2
    assert linprog(cost, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=(0, None)).status == 0


def test_a_release_that_fits_the_data_still_gives_its_disclosures() -> None:
    # the same release with this data's X (85): nothing contradicts, a3 = Y is found
    seen = check_differencing(_release(), [_by_country(85.0, 15.0)], occupancy=_occupancy())
    assert [d.codes for d in seen.disclosures] == [{"region": "a3"}]


def test_a_where_on_a_unit_identifier_is_refused_before_its_values_are_fetched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the filter's domain (every value of the column) is read before the zeros: a unit
    # identifier would fill the memory there first
    monkeypatch.setattr(sources, "MAX_VALUE_PAIRS", 1_000)
    data = pd.DataFrame({"unit": [f"u{i}" for i in range(5_000)], "region": "a1", "v": 1.0})
    spec = TableSpec("part", (DimensionSpec("region"),), response="v", where=(("unit", ("u1",)),))
    with pytest.raises(SpecError, match="column 'unit' takes 5,000 values"):
        tables(spec, data)
    # and the count is all that was fetched
    spy = _Counting(duckdb.connect())
    spy.con.register("rows", data)
    source = type("Source", (), {"columns": {"unit": "VARCHAR"}, "raw": "rows"})()
    with pytest.raises(SpecError, match="coarser column"):
        sources.column_values(spy, source, ["unit"])  # type: ignore[arg-type]
    assert spy.fetched <= 1
