"""Crossing single-contributor cells (issue 15 §1): the primary's own contributor is no attacker.

The shape of the refused business-survey tables: region WM is a child of ENG, industry
Q the parent of D86, and the cells of Q other than D86 in WM are structural zeros. The
cell (WM, Q) then has one contributor, the same as (WM, D86), which lies inside the
primary (ENG, D86): knowing (WM, Q) tells that contributor its own value, which the
primary's protection level already allows for. Before the fix every method refused
these tables ("cannot be protected ... singleton/insider knowledge").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import independent_audit, make_table
from fivesafes.errors import InfeasibleProtectionError
from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.secondary import protect_secondary
from fivesafes.sdc.spec import SuppressionSpec

METHODS = ["optimal", "modular", "fast"]


def _region(n_sub: int = 2) -> Hierarchy:
    subs = ["WM", "EM", "NW", "NE"][:n_sub]
    return Hierarchy.from_pairs(
        "region",
        [("T", None), ("ENG", "T"), ("SCO", "T"), *[(s, "ENG") for s in subs]],
    )


def _industry(n_sub: int = 2) -> Hierarchy:
    subs = ["D86", "D87", "D88", "D89"][:n_sub]
    return Hierarchy.from_pairs(
        "industry", [("T", None), ("Q", "T"), ("C", "T"), *[(s, "Q") for s in subs]]
    )


def _size() -> Hierarchy:
    return Hierarchy.from_pairs("size", [("T", None), ("S", "T"), ("L", "T")])


def _mark(df: pd.DataFrame, where: dict[str, str], share: float) -> int:
    hit = np.ones(len(df), dtype=bool)
    for dim, code in where.items():
        hit &= (df[dim] == code).to_numpy()
    p = int(np.flatnonzero(hit)[0])
    req = share * float(df.loc[p, "value"])
    df.loc[p, ["status", "rule", "lower_protection", "upper_protection"]] = [
        "primary",
        "test",
        req,
        req,
    ]
    return p


def _at(df: pd.DataFrame, **codes: str) -> int:
    hit = np.ones(len(df), dtype=bool)
    for dim, code in codes.items():
        hit &= (df[dim] == code).to_numpy()
    return int(np.flatnonzero(hit)[0])


def crossing_2d() -> tuple[pd.DataFrame, list[Hierarchy]]:
    """ENG x D86 dominated by one enterprise in WM; (WM, D87) empty, so (WM, Q) is its alone."""
    hs = [_region(), _industry()]
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
    df = make_table(hs, values, leaf_contributors=contributors)
    _mark(df, {"region": "ENG", "industry": "D86"}, 0.1)  # dominance: protect 10.5
    _mark(df, {"region": "WM", "industry": "D86"}, 0.1)  # one contributor
    _mark(df, {"region": "WM", "industry": "Q"}, 0.1)  # the same one
    return df, hs


def crossing_3d() -> tuple[pd.DataFrame, list[Hierarchy]]:
    """The refused survey's shape: primary ENG x D86 x L, insider WM x Q x L."""
    hs = [_region(), _industry(), _size()]
    rng = np.random.default_rng(3)
    values: dict[tuple[str, ...], float] = {}
    contributors: dict[tuple[str, ...], int] = {}
    for r in ("WM", "EM", "SCO"):
        for i in ("D86", "D87", "C"):
            for s in ("S", "L"):
                values[(r, i, s)] = float(rng.integers(200, 900))
                contributors[(r, i, s)] = int(rng.integers(3, 7))
    values[("WM", "D86", "L")] = 7000.0  # one large enterprise
    contributors[("WM", "D86", "L")] = 1
    del values[("WM", "D87", "L")]  # structural zero: WM x Q x L is that enterprise alone
    del contributors[("WM", "D87", "L")]
    values[("EM", "D86", "L")] = 53.0
    df = make_table(hs, values, leaf_contributors=contributors)
    _mark(df, {"region": "ENG", "industry": "D86", "size": "L"}, 0.15)
    _mark(df, {"region": "WM", "industry": "D86", "size": "L"}, 0.1)
    _mark(df, {"region": "WM", "industry": "Q", "size": "L"}, 0.1)
    return df, hs


def _check(df: pd.DataFrame, hs: Sequence[Hierarchy], method: str) -> pd.DataFrame:
    res = protect_secondary(df, hs, SuppressionSpec(method=method, singleton=True))
    cells = res.cells
    assert independent_audit(cells, hs) == []
    assert audit_table(cells, hs, singleton=True).safe
    return cells


@pytest.mark.parametrize("method", METHODS)
def test_a_crossing_cell_of_the_primarys_own_contributor_does_not_refuse_2d(method: str) -> None:
    df, hs = crossing_2d()
    _check(df, hs, method)


@pytest.mark.parametrize("method", METHODS)
def test_a_crossing_cell_of_the_primarys_own_contributor_does_not_refuse_3d(method: str) -> None:
    df, hs = crossing_3d()
    _check(df, hs, method)


@pytest.mark.parametrize("method", METHODS)
def test_a_crossing_cell_sharing_no_records_is_still_an_attacker(method: str) -> None:
    # the careless fix: ignore every crossing cell. Here the one enterprise of (WM, Q)
    # trades in D87 only: (WM, D86) is empty, so it is no contributor of (ENG, D86), and
    # a pattern must keep (ENG, D86) protected against what it knows.
    hs = [_region(), _industry()]
    values = {
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
    df = make_table(hs, values, leaf_contributors=contributors)
    _mark(df, {"region": "WM", "industry": "D87"}, 0.2)
    _mark(df, {"region": "EM", "industry": "D86"}, 0.2)
    cells = _check(df, hs, method)
    hidden = cells["status"] != "safe"
    single = np.flatnonzero(hidden & (cells["contributors"] == 1))
    p = _at(cells, region="EM", industry="D86")
    for q in single.tolist():
        bad = independent_audit(cells, hs, pinned=[q])
        assert not [b for b in bad if b.startswith(f"row {p} ")], (q, bad)


def _random_crossing(
    rng: np.random.Generator, n_region: int, n_industry: int, three_d: bool
) -> tuple[pd.DataFrame, list[Hierarchy]]:
    """Random values around the crossing shape; the only single-contributor cells are the
    dominant enterprise's, all sharing records with the primary."""
    hs = [_region(n_region), _industry(n_industry)] + ([_size()] if three_d else [])
    regions = [c for c in hs[0].leaves]
    industries = [c for c in hs[1].leaves]
    sizes = ["S", "L"] if three_d else []
    values: dict[tuple[str, ...], float] = {}
    contributors: dict[tuple[str, ...], int] = {}
    for r in regions:
        for i in industries:
            for rest in [(s,) for s in sizes] or [()]:
                key = (r, i, *rest)
                if rng.random() < 0.15:
                    continue  # a random empty cell
                values[key] = float(rng.integers(5, 400))
                contributors[key] = int(rng.integers(2, 8))
    big = ("WM", "D86", *(["L"] if three_d else []))
    values[big] = float(rng.integers(1_000, 20_000))
    contributors[big] = 1
    for i in industries:  # the other cells of Q in WM are structural zeros
        key = ("WM", i, *big[2:])
        if i != "D86" and i != "C" and key in values:
            del values[key], contributors[key]
    df = make_table(hs, values, leaf_contributors=contributors)
    share = float(rng.uniform(0.05, 0.6))
    p_codes = {"region": "ENG", "industry": "D86", **({"size": "L"} if three_d else {})}
    _mark(df, p_codes, share)
    q_codes = {"region": "WM", "industry": "D86", **({"size": "L"} if three_d else {})}
    _mark(df, q_codes, float(rng.uniform(0.05, 0.6)))
    return df, hs


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 100_000),
    n_region=st.integers(2, 4),
    n_industry=st.integers(2, 4),
    three_d=st.booleans(),
    method=st.sampled_from(METHODS),
)
def test_only_own_contributor_insiders_never_refuse(
    seed: int, n_region: int, n_industry: int, three_d: bool, method: str
) -> None:
    """Property: when every pinning insider is a contributor of the primary, no refusal."""
    df, hs = _random_crossing(np.random.default_rng(seed), n_region, n_industry, three_d)
    _check(df, hs, method)


@pytest.mark.parametrize("method", ["optimal", "fast"])
def test_a_table_that_truly_cannot_be_protected_names_the_cells_and_the_options(
    method: str,
) -> None:
    # the records of (WM, D86) are unknown: nothing shows that the enterprise of (WM, Q)
    # trades in (ENG, D86), so it counts as an outside insider and pins the primary
    df, hs = crossing_2d()
    df["records"] = df["records"].astype(float)
    df.loc[_at(df, region="WM", industry="D86"), "records"] = np.nan
    with pytest.raises(InfeasibleProtectionError) as err:
        protect_secondary(df, hs, SuppressionSpec(method=method, singleton=True))
    message, hint = err.value.message, err.value.hint or ""
    assert message.startswith("cell region=ENG, industry=D86 cannot be protected")
    assert "the single contributor of cell region=WM, industry=Q" in message
    assert "structural zeros" in message and "region=WM, industry=D87" in message
    # the options, the one keeping the most information first; turning the insider
    # guarantee off is offered last, never alone
    coarser = hint.index("(1) publish a coarser table")
    higher = hint.index("(2) handle this single contributor at a higher level")
    off = hint.index("singleton = false")
    assert coarser < higher < off
    assert "'region' WM merged into ENG" in hint
    # never weaker rules: the attacker here has no bounds to widen, so no third way but
    # the last resort (issue 15 §1: never "lower the protection")
    assert "lower the protection" not in hint and "[rules]" not in hint
    assert "(3) as a last resort, singleton = false" in hint
