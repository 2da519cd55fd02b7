"""Special cases: lone primaries, singletons, structural zeros, counts, costs, infeasibility."""

from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import independent_audit, make_table, random_table, relations
from fivesafes.errors import InfeasibleProtectionError
from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.secondary import protect_secondary
from fivesafes.sdc.secondary.costs import is_total
from fivesafes.sdc.spec import SuppressionSpec


def _flat(name: str, n: int) -> Hierarchy:
    pairs: list[tuple[str, str | None]] = [("T", None)]
    return Hierarchy.from_pairs(name, pairs + [(f"{name}{i}", "T") for i in range(1, n + 1)])


@pytest.mark.parametrize("method", ["optimal", "modular", "fast"])
def test_no_primary_is_alone_in_a_relation(method: str) -> None:
    rng = np.random.default_rng(11)
    df, hs = random_table(rng, [[2, 2], [3]], n_primary=4)
    res = protect_secondary(df, hs, SuppressionSpec(method=method))
    a = relations(res.cells, hs)
    hidden = res.cells["status"].isin(["primary", "secondary"]).to_numpy()
    primary = (res.cells["status"] == "primary").to_numpy()
    for row in a:
        members = np.flatnonzero(row)
        if primary[members].any():
            assert hidden[members].sum() >= 2


def _singleton_table() -> tuple:  # type: ignore[type-arg]
    r, c = _flat("r", 2), _flat("c", 3)
    grid = [[5.0, 7.0, 100.0], [40.0, 60.0, 80.0]]
    values = {(f"r{i + 1}", f"c{j + 1}"): grid[i][j] for i in range(2) for j in range(3)}
    contributors = {k: 4 for k in values}
    contributors[("r1", "c1")] = 1
    contributors[("r1", "c2")] = 1
    df = make_table([r, c], values, leaf_contributors=contributors)
    for code in ("c1", "c2"):
        p = df.index[(df["r"] == "r1") & (df["c"] == code)][0]
        df.loc[p, ["status", "lower_protection", "upper_protection"]] = ["primary", 1.0, 1.0]
    return df, [r, c]


@pytest.mark.parametrize("method", ["optimal", "modular", "fast"])
def test_singletons_do_not_protect_each_other(method: str) -> None:
    df, hs = _singleton_table()
    res = protect_secondary(df, hs, SuppressionSpec(method=method, singleton=True))
    cells = res.cells
    singles = [int(i) for i in np.flatnonzero(cells["contributors"] == 1)]
    assert independent_audit(cells, hs) == []
    assert audit_table(cells, hs, singleton=True).safe
    # the contributor of each single-contributor cell knows it: the other stays protected
    for s in singles:
        assert independent_audit(cells, hs, pinned=[s]) == []
    # and row r1 has a hidden cell that is not one of the two singletons
    row = cells[(cells["r"] == "r1")]
    assert (row["status"].isin(["primary", "secondary"]) & (row["contributors"] != 1)).any()


def test_without_singleton_option_the_pair_may_protect_each_other() -> None:
    df, hs = _singleton_table()
    res = protect_secondary(df, hs, SuppressionSpec(method="optimal", singleton=False))
    assert independent_audit(res.cells, hs) == []
    singles = [int(i) for i in np.flatnonzero(res.cells["contributors"] == 1)]
    # the cheaper pattern is exposed to the insider: this is what singleton=true prevents
    assert any(independent_audit(res.cells, hs, pinned=[s]) for s in singles)


@pytest.mark.parametrize("method", ["optimal", "fast"])
def test_structural_zeros_are_never_complements(method: str) -> None:
    r, c = _flat("r", 2), _flat("c", 3)
    values = {
        ("r1", "c1"): 30.0,
        ("r1", "c2"): 50.0,
        ("r2", "c1"): 40.0,
        ("r2", "c2"): 70.0,
        ("r2", "c3"): 90.0,
    }  # r1/c3 is empty: a structural zero
    df = make_table([r, c], values, leaf_contributors={k: 4 for k in values})
    p = df.index[(df["r"] == "r1") & (df["c"] == "c1")][0]
    df.loc[p, ["status", "lower_protection", "upper_protection"]] = ["primary", 3.0, 3.0]
    res = protect_secondary(df, [r, c], SuppressionSpec(method=method))
    zero = res.cells["records"] == 0
    assert zero.any()
    assert not (res.cells.loc[zero, "status"] == "secondary").any()
    assert independent_audit(res.cells, [r, c]) == []


def test_infeasible_a_priori_bounds_name_the_cell() -> None:
    rng = np.random.default_rng(2)
    df, hs = random_table(rng, [[2], [2]], n_primary=1, share=0.2)
    with pytest.raises(InfeasibleProtectionError) as err:
        protect_secondary(df, hs, SuppressionSpec(method="optimal", a_priori_percent=5.0))
    p = df.index[df["status"] == "primary"][0]
    assert f"a={df.loc[p, 'a']}" in str(err.value) and f"b={df.loc[p, 'b']}" in str(err.value)
    assert err.value.hint


@pytest.mark.parametrize("method", ["optimal", "fast"])
def test_infeasible_a_priori_bounds_offer_the_options_keeping_most_first(method: str) -> None:
    # issue 15 §1: a coarser table first, then the attacker's bounds; never weaker rules
    rng = np.random.default_rng(2)
    df, hs = random_table(rng, [[2], [2]], n_primary=1, share=0.2)
    with pytest.raises(InfeasibleProtectionError) as err:
        protect_secondary(df, hs, SuppressionSpec(method=method, a_priori_percent=5.0))
    hint = err.value.hint or ""
    assert hint.startswith("(1) publish a coarser table, e.g. ")
    assert hint.index("(1) publish a coarser table") < hint.index("(2) widen [suppression]")
    assert "lower the required protection" not in hint
    # how far: the percentage at which the cell's own bounds would leave it room enough
    needed = re.search(r"a_priori_percent to at least ([0-9.]+) ", hint)
    assert needed is not None and float(needed.group(1)) > 5.0
    p = df.index[df["status"] == "primary"][0]
    req = max(df.loc[p, "upper_protection"], df.loc[p, "lower_protection"])
    assert float(needed.group(1)) >= 100 * req / abs(df.loc[p, "value"]) - 0.05


def test_a_priori_bounds_are_respected_when_feasible() -> None:
    rng = np.random.default_rng(8)
    df, hs = random_table(rng, [[2, 2], [2]], n_primary=2, share=0.1)
    res = protect_secondary(df, hs, SuppressionSpec(method="fast", a_priori_percent=50.0))
    assert independent_audit(res.cells, hs, a_priori_percent=50.0) == []


def test_frequency_table_hidden_counts_are_never_exact() -> None:
    r, c = _flat("r", 3), _flat("c", 3)
    counts = {(f"r{i}", f"c{j}"): float(1 + (i * j) % 4) for i in range(1, 4) for j in range(1, 4)}
    df = make_table([r, c], counts)
    small = df.index[(df["value"] < 2) & (df["r"] != "T") & (df["c"] != "T")]
    df.loc[small, "status"] = "primary"  # no protection level given: must not be pinned
    res = protect_secondary(df, [r, c], SuppressionSpec(method="optimal"), frequency=True)
    check = res.cells.copy()
    check.loc[small, ["lower_protection", "upper_protection"]] = [0.0, 1.0]
    assert independent_audit(check, [r, c]) == []


def test_unit_cost_minimises_the_number_of_cells() -> None:
    rng = np.random.default_rng(21)
    df, hs = random_table(rng, [[2, 2], [3]], n_primary=3)
    by_value = protect_secondary(df, hs, SuppressionSpec(method="optimal", cost="unit"))
    by_cells = protect_secondary(df, hs, SuppressionSpec(method="optimal", cost="value"))
    n_unit = (by_value.cells["status"] == "secondary").sum()
    n_value = (by_cells.cells["status"] == "secondary").sum()
    assert n_unit <= n_value


def test_total_cost_factor_steers_away_from_totals() -> None:
    rng = np.random.default_rng(5)
    df, hs = random_table(rng, [[2, 2], [3]], n_primary=3)
    totals = is_total(build_structure(df, hs))
    plain = protect_secondary(df, hs, SuppressionSpec(method="optimal", total_cost_factor=1.0))
    heavy = protect_secondary(df, hs, SuppressionSpec(method="optimal", total_cost_factor=50.0))
    # exchange argument on two optimal patterns: weighting totals up cannot raise their cost
    value = df["value"].to_numpy()
    v_plain = value[(plain.cells["status"] == "secondary").to_numpy() & totals].sum()
    v_heavy = value[(heavy.cells["status"] == "secondary").to_numpy() & totals].sum()
    assert plain.gap is not None and heavy.gap is not None
    assert v_heavy <= v_plain * (1 + 1e-6) + 1e-6
    assert independent_audit(heavy.cells, hs) == []


@pytest.mark.parametrize("method", ["optimal", "modular", "fast"])
def test_a_single_contributor_total_over_the_primary_is_not_an_insider(method: str) -> None:
    # row r1 has one enterprise, in (r1, c1): the row total (r1, T) has the same single
    # contributor, who already knows his own cell; it must not count as an attacker
    r, c = _flat("r", 2), _flat("c", 3)
    values = {("r1", "c1"): 10.0, ("r2", "c1"): 30.0, ("r2", "c2"): 40.0, ("r2", "c3"): 20.0}
    contributors = {k: 4 for k in values}
    contributors[("r1", "c1")] = 1
    df = make_table([r, c], values, leaf_contributors=contributors)
    p = df.index[(df["r"] == "r1") & (df["c"] == "c1")][0]
    df.loc[p, ["status", "lower_protection", "upper_protection"]] = ["primary", 1.0, 1.0]
    res = protect_secondary(df, [r, c], SuppressionSpec(method=method, singleton=True))
    assert independent_audit(res.cells, [r, c]) == []
    assert audit_table(res.cells, [r, c], singleton=True).safe
