"""Shared helpers: random additive tables and a from-scratch audit (scipy linprog).

The audit here is deliberately written without anything from fivesafes.sdc.secondary:
it rebuilds the relations from the hierarchies with plain Python loops and solves
min/max x_p for every primary with scipy's linprog, as a second opinion next to
fivesafes.sdc.audit.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.secondary.fast import protect_fast
from fivesafes.sdc.secondary.model import Problem
from fivesafes.sdc.secondary.problem import build_problem
from fivesafes.sdc.spec import SuppressionSpec
from fivesafes.sdc.synthetic import balanced_tree as tree


def make_table(
    hierarchies: Sequence[Hierarchy],
    leaf_values: dict[tuple[str, ...], float],
    *,
    leaf_contributors: dict[tuple[str, ...], int] | None = None,
) -> pd.DataFrame:
    """The full cells table (every subtotal) from leaf values, by brute-force summation."""
    names = [h.name for h in hierarchies]
    rows = []
    for combo in itertools.product(*(h.order for h in hierarchies)):
        leaves = itertools.product(
            *(h.leaves_under(c) for h, c in zip(hierarchies, combo, strict=True))
        )
        v, k = 0.0, 0
        for leaf in leaves:
            v += leaf_values.get(leaf, 0.0)
            k += (leaf_contributors or {}).get(leaf, 1 if leaf_values.get(leaf, 0) else 0)
        rows.append(
            {**dict(zip(names, combo, strict=True)), "records": k, "contributors": k, "value": v}
        )
    df = pd.DataFrame(rows)
    df["status"] = "safe"
    df["rule"] = ""
    df["lower_protection"] = 0.0
    df["upper_protection"] = 0.0
    return df


def random_table(
    rng: np.random.Generator,
    fans: Sequence[Sequence[int]],
    *,
    n_primary: int,
    share: float = 0.2,
    zero_share: float = 0.0,
) -> tuple[pd.DataFrame, list[Hierarchy]]:
    """A random non-negative table with primaries protected at ``share`` of their value."""
    hs = [tree(chr(ord("a") + d), f) for d, f in enumerate(fans)]
    values = {}
    for leaf in itertools.product(*(h.leaves for h in hs)):
        if rng.random() < zero_share:
            continue
        values[leaf] = float(np.round(rng.lognormal(3, 1.2)) + 1)
    contributors = {leaf: int(rng.integers(1, 6)) for leaf in values}
    df = make_table(hs, values, leaf_contributors=contributors)
    cand = np.flatnonzero(df["value"].to_numpy() > 0)
    pick = rng.choice(cand, size=min(n_primary, cand.size), replace=False)
    df.loc[pick, "status"] = "primary"
    df.loc[pick, "rule"] = "test"
    df.loc[pick, "lower_protection"] = share * df.loc[pick, "value"]
    df.loc[pick, "upper_protection"] = share * df.loc[pick, "value"]
    return df, hs


def relations(df: pd.DataFrame, hierarchies: Sequence[Hierarchy]) -> np.ndarray:
    """Dense relation matrix, rebuilt with loops: parent - sum(children) = 0."""
    names = [h.name for h in hierarchies]
    index = {tuple(r): i for i, r in enumerate(df[names].astype(str).itertuples(index=False))}
    rows = []
    for d, h in enumerate(hierarchies):
        others = [hh.order for j, hh in enumerate(hierarchies) if j != d]
        for parent, kids in h.relations():
            for rest in itertools.product(*others):

                def key(code: str, rest: tuple[str, ...] = rest, d: int = d) -> tuple[str, ...]:
                    r = list(rest)
                    r.insert(d, code)
                    return tuple(r)

                row = np.zeros(len(df))
                row[index[key(parent)]] = 1
                for k in kids:
                    row[index[key(k)]] -= 1
                rows.append(row)
    return np.array(rows)


def independent_audit(
    df: pd.DataFrame,
    hierarchies: Sequence[Hierarchy],
    *,
    a_priori_percent: float | None = None,
    pinned: Sequence[int] = (),
) -> list[str]:
    """Every primary whose attacker interval misses its protection (empty list: safe)."""
    a = relations(df, hierarchies)
    v = df["value"].to_numpy(float)
    hidden = df["status"].isin(["primary", "secondary"]).to_numpy()
    nonneg = (v >= 0).all()
    bounds = []
    for i in range(len(df)):
        if not hidden[i] or i in pinned:
            bounds.append((v[i], v[i]))
            continue
        lo, hi = (0.0 if nonneg else None), None
        if a_priori_percent is not None:
            r = a_priori_percent / 100 * abs(v[i])
            lo = max(lo or -np.inf, v[i] - r)
            hi = v[i] + r
        bounds.append((lo, hi))
    bad = []
    for p in np.flatnonzero(df["status"].to_numpy() == "primary"):
        if p in pinned:
            continue
        for sign, col in ((1, "upper_protection"), (-1, "lower_protection")):
            req = float(df[col].iloc[p])
            if req <= 0:
                continue
            c = np.zeros(len(df))
            c[p] = -sign
            res = linprog(c, A_eq=a, b_eq=np.zeros(len(a)), bounds=bounds, method="highs")
            if res.status == 3:
                continue  # unbounded: protected
            assert res.status == 0, res.message
            reach = sign * res.x[p] - sign * v[p]
            if reach < req - 1e-6 * max(1.0, req):
                bad.append(f"row {p} {'up' if sign > 0 else 'down'}: reach {reach} < {req}")
    return bad


def fails(failing: list[str], p: int, direction: int) -> bool:
    """Whether :func:`independent_audit`'s findings name primary ``p`` on that side (+1 up)."""
    side = "up" if direction > 0 else "down"
    return any(f.startswith(f"row {p} {side}:") for f in failing)


@pytest.fixture
def audit():  # type: ignore[no-untyped-def]
    """The independent audit as a fixture."""
    return independent_audit


def cheapest_safe_cost(
    df: pd.DataFrame, cost: np.ndarray, safe: Callable[[pd.DataFrame], bool]
) -> float:
    """Brute force: the least cost of complements (non-primary cells with records) that
    ``safe`` accepts, trying every pattern cheapest first (tables small enough only)."""
    free = [
        i for i in range(len(df)) if df["status"].iloc[i] != "primary" and df["records"].iloc[i] > 0
    ]
    patterns = [s for k in range(len(free) + 1) for s in itertools.combinations(free, k)]
    patterns.sort(key=lambda s: float(sum(cost[i] for i in s)))
    for s in patterns:
        trial = df.copy()
        trial.loc[list(s), "status"] = "secondary"
        if safe(trial):
            return float(sum(cost[i] for i in s))
    raise AssertionError("no safe pattern")


# The method's side (not the audit's, which stays independent of fivesafes.sdc.secondary)


def problem_of(df: pd.DataFrame, hs: list[Hierarchy], *, singleton: bool) -> Problem:
    """The suppression problem the methods solve for a cells table."""
    spec = SuppressionSpec(singleton=singleton)
    return build_problem(df, build_structure(df, hs), spec, frequency=False)


def with_pattern(df: pd.DataFrame, problem: Problem, hidden: np.ndarray) -> pd.DataFrame:
    """The cells table with a method's pattern: its hidden non-primary cells secondary."""
    out = df.copy()
    out.loc[hidden & ~problem.primary, "status"] = "secondary"
    return out


def audited_fast(
    df: pd.DataFrame, hs: list[Hierarchy], problem: Problem, *, singleton: bool
) -> np.ndarray:
    """`fast`'s pattern for ``problem``, asserted safe by the independent audit first.

    A safe pattern to hold others to: no valid cut it violates, no proven bound above
    its cost.
    """
    hidden, _, _ = protect_fast(problem, build_structure(df, hs))
    assert audit_table(with_pattern(df, problem, hidden), hs, singleton=singleton).safe
    return hidden
