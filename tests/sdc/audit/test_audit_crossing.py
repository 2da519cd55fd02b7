"""The audit's singleton check and the insider rule (issue 15 §1), on hand-made patterns.

Region ENG has children WM and EM (and SCO is a sibling); industry Q has children D86
and D87 (and C is a sibling).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.contributors import InsiderRule
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import build_structure

REGION = Hierarchy.from_pairs(
    "region", [("T", None), ("ENG", "T"), ("SCO", "T"), ("WM", "ENG"), ("EM", "ENG")]
)
INDUSTRY = Hierarchy.from_pairs(
    "industry", [("T", None), ("Q", "T"), ("C", "T"), ("D86", "Q"), ("D87", "Q")]
)
HS = [REGION, INDUSTRY]


def _table(values: dict[tuple[str, str], float], contributors: dict[tuple[str, str], int]):  # type: ignore[no-untyped-def]
    """Every cell from the leaves; a total's contributors are the sum of its leaves' unless
    ``contributors`` names the total itself."""
    rows = []
    for r, i in itertools.product(REGION.order, INDUSTRY.order):
        leaves = list(itertools.product(REGION.leaves_under(r), INDUSTRY.leaves_under(i)))
        v = sum(values.get(k, 0.0) for k in leaves)
        n = sum(contributors.get(k, 0) for k in leaves if k in values)
        rec = sum(1 for k in leaves if k in values)
        rows.append({"region": r, "industry": i, "records": rec, "value": v, "contributors": n})
    df = pd.DataFrame(rows)
    for (r, i), n in contributors.items():
        if (r, i) not in values:
            df.loc[(df["region"] == r) & (df["industry"] == i), "contributors"] = n
    df["status"] = "safe"
    df["rule"] = ""
    df["lower_protection"] = 0.0
    df["upper_protection"] = 0.0
    return df


def _at(df: pd.DataFrame, r: str, i: str) -> int:
    return int(np.flatnonzero((df["region"] == r).to_numpy() & (df["industry"] == i).to_numpy())[0])


def _own_contributor_table() -> pd.DataFrame:
    """ENG x D86 has one enterprise, with units in WM (100) and EM (5); (WM, D87) is empty,
    so (WM, Q) has that enterprise alone: a crossing cell of the primary's own contributor."""
    values = {
        ("WM", "D86"): 100.0,
        ("EM", "D86"): 5.0,
        ("EM", "D87"): 30.0,
        ("SCO", "D86"): 40.0,
        ("SCO", "D87"): 50.0,
        ("WM", "C"): 60.0,
        ("EM", "C"): 70.0,
        ("SCO", "C"): 80.0,
    }
    contributors = {k: 4 for k in values}
    contributors[("WM", "D86")] = 1
    contributors[("EM", "D86")] = 1
    df = _table(values, contributors)
    for r, i in (("ENG", "D86"), ("WM", "Q")):  # the same enterprise in both
        df.loc[_at(df, r, i), "contributors"] = 1
    p = _at(df, "ENG", "D86")
    df.loc[p, ["status", "lower_protection", "upper_protection"]] = ["primary", 10.0, 10.0]
    # everything else that is not empty hidden: the outsider moves ENG x D86 down to 0
    df.loc[(df["records"] > 0) & (df["status"] == "safe"), "status"] = "secondary"
    return df


def test_a_crossing_cell_of_the_primarys_own_contributor_is_no_insider() -> None:
    df = _own_contributor_table()
    result = audit_table(df, HS, singleton=True)
    # knowing (WM, Q) = 100 only tells the enterprise its own value: not a failure
    assert result.safe, result.failures.to_dict("records")


def test_without_records_the_crossing_cell_counts_as_an_insider() -> None:
    # nothing says the enterprise of (WM, Q) trades in ENG x D86: the cautious side
    df = _own_contributor_table().drop(columns=["records"])
    result = audit_table(df, HS, singleton=True)
    assert not result.safe
    row = result.failures.iloc[0]
    assert (row["region"], row["industry"], row["failure"]) == ("ENG", "D86", "singleton")
    assert row["singleton_known"] == "region=WM, industry=Q"
    assert row["singleton_min"] == 100.0  # what the insider sees: ENG x D86 >= its own 100


def test_an_outside_insider_against_a_primary_of_many_contributors_fails() -> None:
    # (WM, D87) has one enterprise, which has nothing in (EM, D86): an outside insider.
    # With the rectangle WM/EM x D86/D87 hidden, knowing (WM, D87) gives (WM, D86) from
    # the published (WM, Q), then (EM, D86) from the published (ENG, D86): exactly.
    values = {
        ("WM", "D86"): 40.0,
        ("WM", "D87"): 50.0,
        ("EM", "D86"): 20.0,
        ("EM", "D87"): 30.0,
        ("SCO", "D86"): 40.0,
        ("SCO", "D87"): 45.0,
        ("WM", "C"): 60.0,
        ("EM", "C"): 70.0,
        ("SCO", "C"): 80.0,
    }
    contributors = {k: 4 for k in values}
    contributors[("WM", "D87")] = 1
    df = _table(values, contributors)
    p = _at(df, "EM", "D86")
    df.loc[p, ["status", "lower_protection", "upper_protection"]] = ["primary", 4.0, 4.0]
    for r, i in (("WM", "D86"), ("WM", "D87"), ("EM", "D87")):
        df.loc[_at(df, r, i), "status"] = "secondary"
    assert audit_table(df, HS).safe  # the outsider sees a rectangle
    result = audit_table(df, HS, singleton=True)
    assert not result.safe
    row = result.failures.iloc[0]
    assert (row["region"], row["industry"], row["failure"]) == ("EM", "D86", "singleton")
    assert row["singleton_known"] == "region=WM, industry=D87"
    assert row["singleton_min"] == row["singleton_max"] == 20.0


def test_insider_rule_cases() -> None:
    df = _own_contributor_table()
    structure = build_structure(df, HS)
    rule = InsiderRule.of(structure, df["records"].to_numpy(float))
    p = _at(df, "ENG", "D86")
    cells = {
        name: _at(df, r, i)
        for name, (r, i) in {
            "self": ("ENG", "D86"),
            "below": ("WM", "D86"),
            "above": ("ENG", "Q"),
            "crossing": ("WM", "Q"),
            "crossing_empty_meet": ("WM", "D87"),  # disjoint from D86: no meet
            "disjoint": ("SCO", "C"),
        }.items()
    }
    got = dict(zip(cells, rule.outside(p, np.array(list(cells.values()))).tolist(), strict=True))
    assert got == {
        "self": False,
        "below": False,
        "above": False,
        "crossing": False,
        "crossing_empty_meet": True,
        "disjoint": True,
    }
    # the meet is the cell of the lower code in each dimension
    assert rule.meet(p, np.array([cells["crossing"]])).tolist() == [cells["below"]]
    # (SCO, Q) crosses (ENG, D86) nowhere: regions SCO and ENG are disjoint
    assert rule.meet(p, np.array([_at(df, "SCO", "Q")])).tolist() == [-1]
    # (WM, Q) against (EM, D86): regions WM and EM are disjoint, so they share no unit
    p_em = _at(df, "EM", "D86")
    assert rule.outside(p_em, np.array([cells["crossing"]])).tolist() == [True]
    # records unknown: only nesting counts
    blind = InsiderRule.of(structure, None)
    assert blind.outside(p, np.array([cells["crossing"], cells["below"]])).tolist() == [
        True,
        False,
    ]
    # a meet with no records: the insider's cell and the primary share no unit
    empty = df["records"].to_numpy(float).copy()
    empty[cells["below"]] = 0.0
    assert InsiderRule.of(structure, empty).outside(p, np.array([cells["crossing"]])).tolist() == [
        True
    ]
