"""The data's zeros through a hierarchy of more than two levels.

Regions a1 and a3 make the north N, a2 and a4 the south S (the release's hierarchy: T,
N and S, the regions); a1 and a2 lie in country X, a3 and a4 in Y (a column of the
data, not a level of that hierarchy). The release hides a3 (two enterprises, under the
threshold of 3) and a1, its only sibling. A table of country X publishes a1 + a2, so a1
and then a3 = N - a1; a table of region a1 (a leaf) publishes a1 itself. Each must be
protected with the release, with the zeros the data give, so that a3 keeps its
protection: scipy's LP over region x country x sector, each pair of values the data
never show together held at zero, says so on its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from fivesafes.errors import SpecError
from fivesafes.sdc import (
    DimensionSpec,
    Hierarchy,
    Occupancy,
    OutputTable,
    Population,
    RuleSet,
    SuppressionSpec,
    TableSpec,
    check_differencing,
    pairs_for,
    restrict,
    tables,
)
from fivesafes.sdc.tabulate import data_occupancy

COUNTRY = {"a1": "X", "a2": "X", "a3": "Y", "a4": "Y"}
PART = {"a1": "N", "a2": "S", "a3": "N", "a4": "S"}
GEOGRAPHY = Hierarchy.from_pairs(
    "region", [("T", None), ("N", "T"), ("S", "T"), *((r, p) for r, p in PART.items())]
)
BY_SECTOR = Hierarchy.flat("sector", ["A", "B"], total="T")
COLUMNS = ("region", "country", "sector")


def _survey() -> pd.DataFrame:
    """Six enterprises in each region but a3, which has two; sectors alternate."""
    rows = []
    for region, n in {"a1": 6, "a2": 6, "a3": 2, "a4": 6}.items():
        for k in range(n):
            sector = "AB"[k % 2]
            turnover = 10.0 + 3 * k
            rows.append((f"{region}-{k}", region, COUNTRY[region], sector, turnover))
    return pd.DataFrame(rows, columns=["ent", *COLUMNS, "turnover"])


def _spec(
    name: str, dimension: str, where: tuple[tuple[str, tuple[str, ...]], ...] = ()
) -> TableSpec:
    return TableSpec(
        name,
        (DimensionSpec(dimension, total_code="T"),),
        response="turnover",
        contributor="ent",
        rules=RuleSet(threshold=3),
        suppression=SuppressionSpec(method="optimal", singleton=False),
        where=where,
    )


def _release(data: pd.DataFrame) -> OutputTable:
    whole = tables(_spec("regions", "region"), data, hierarchies=(GEOGRAPHY,))
    status = whole.cells.set_index("region")["status"]
    assert status["a3"] == "primary" and status["a1"] == "secondary"  # N is published
    assert (status[["T", "N", "S", "a2", "a4"]] == "safe").all()
    return OutputTable("REL-0001", whole.hierarchies, whole.cells)


def _zeros_of(data: pd.DataFrame, new: OutputTable, release: OutputTable) -> Occupancy | None:
    con = duckdb.connect()
    con.register("rows", data)
    return data_occupancy(con, "rows", set(data.columns), pairs_for(new, [release]))


def _a3_interval(data: pd.DataFrame, release: OutputTable, new: OutputTable) -> tuple[float, float]:
    """scipy's min and max of a3 over region x country x sector, from the safe cells of
    both outputs, every pair of values the data never show together held at zero."""
    leaves = list(itertools.product(COUNTRY, ("X", "Y"), ("A", "B")))
    seen = {
        pair: set(data[list(pair)].itertuples(index=False, name=None))
        for pair in itertools.combinations(COLUMNS, 2)
    }

    def held(leaf: tuple[str, str, str]) -> bool:
        value = dict(zip(COLUMNS, leaf, strict=True))
        return all((value[a], value[b]) in s for (a, b), s in seen.items())

    def row(codes: dict[str, str]) -> list[float]:
        region = codes.get("region", "T")
        regions = GEOGRAPHY.leaves_under(region) if region in GEOGRAPHY.order else (region,)
        if region == "*":
            regions = tuple(COUNTRY)
        country = codes.get("country", "*")
        sector = codes.get("sector", "T")
        return [
            float(r in regions and country in (c, "*") and sector in (s, "T")) for r, c, s in leaves
        ]

    a_eq, b_eq = [], []
    for table in (release, new):
        safe = table.cells[table.cells["status"] == "safe"]
        for _, cell in safe.iterrows():
            a_eq.append(row({d: str(cell[d]) for d in table.dimensions}))
            b_eq.append(float(cell["value"]))
    bounds = [(0, None) if held(leaf) else (0, 0) for leaf in leaves]
    target = np.array(row({"region": "a3"}))
    low = linprog(target, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds)
    high = linprog(-target, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds)
    assert low.status == 0 and high.status in (0, 3)
    return float(low.fun), float("inf") if high.status == 3 else -float(high.fun)


def _filtered(
    data: pd.DataFrame, release: OutputTable, where: dict[str, Sequence[str]], published: bool
) -> OutputTable:
    spec = _spec("part", "sector", tuple((c, tuple(v)) for c, v in where.items()))
    result = tables(spec, data, hierarchies=(BY_SECTOR,), published=[release] if published else ())
    domains = {c: sorted(data[c].unique()) for c in where}
    population = Population.of(where, domains)
    return restrict(OutputTable("new", result.hierarchies, result.cells), population)


@pytest.mark.parametrize("where", [{"country": ["X"]}, {"region": ["a1"]}])
def test_a_filter_through_a_hierarchy_of_three_levels_is_protected_with_the_zeros(
    where: dict[str, Sequence[str]],
) -> None:
    data = _survey()
    release = _release(data)
    a3 = release.cells.set_index("region").loc["a3"]
    need_lo = float(a3["value"]) - float(a3["lower_protection"])
    need_hi = float(a3["value"]) + float(a3["upper_protection"])

    alone = _filtered(data, release, where, published=False)
    zeros = _zeros_of(data, alone, release)
    assert zeros is not None
    found = check_differencing(alone, [release], occupancy=zeros)
    assert {"region": "a3"} in [d.codes for d in found.disclosures]
    if "country" in where:  # only the zeros tell that country X is a1 + a2
        assert zeros.occupied and check_differencing(alone, [release]).safe
    low, high = _a3_interval(data, release, alone)
    assert low > need_lo or high < need_hi  # scipy agrees: too narrow

    protected = _filtered(data, release, where, published=True)
    assert check_differencing(protected, [release], occupancy=zeros).safe
    low, high = _a3_interval(data, release, protected)
    assert low <= need_lo + 1e-6 and high >= need_hi - 1e-6


def test_a_subtotal_code_is_not_a_value_of_the_data() -> None:
    # `where` compares the data's own values: the rows carry leaf codes, never N
    with pytest.raises(SpecError, match="not among its values") as refused:
        tables(_spec("part", "sector", (("region", ("N",)),)), _survey(),
               hierarchies=(BY_SECTOR,))  # fmt: skip
    assert "codes under it" in str(refused.value)
