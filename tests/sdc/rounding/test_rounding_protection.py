"""The audit of a rounded table catches a primary that rounding leaves unprotected."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fivesafes.errors import UnsafeTableError
from fivesafes.sdc import tables
from fivesafes.sdc.cells import LOWER, STATUS, UPPER, VALUE
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.rounding.protection import (
    audit_rounded,
    protect_rounded,
    protecting_directions,
)
from fivesafes.sdc.secondary import protect_secondary
from fivesafes.sdc.spec import SuppressionSpec, parse_spec
from fivesafes.sdc.synthetic import aggregate


def cells_2d(leaves: np.ndarray, primary: dict[tuple[int, int], float]) -> tuple[Any, ...]:
    """A two-way table (flat dims) with the given primary cells and their protection."""
    hs = (Hierarchy.flat("r", ["r0", "r1", "r2"]), Hierarchy.flat("c", ["c0", "c1", "c2"]))
    values = aggregate(leaves, hs)
    rows = list(itertools.product(range(4), range(4)))
    frame = pd.DataFrame(
        {
            "r": [hs[0].order[i] for i, _ in rows],
            "c": [hs[1].order[j] for _, j in rows],
            VALUE: [values[i, j] for i, j in rows],
        }
    )
    prot = np.array([primary.get(rc, 0.0) for rc in rows])
    frame[STATUS] = np.where(prot > 0, "primary", "safe")
    frame[LOWER] = prot
    frame[UPPER] = prot
    structure = build_structure(frame, hs, dimensions=["r", "c"])
    return frame, structure


LEAVES = np.array([[40.0, 25.0, 31.0], [12.0, 600.0, 7.0], [33.0, 18.0, 22.0]])


def test_the_check_catches_a_primary_rounding_leaves_unprotected() -> None:
    # cell (r1, c1) = 600 must not be known to within 200; rounding to 10 tells it to 10
    frame, structure = cells_2d(LEAVES, {(2, 2): 200.0})
    x = frame[VALUE].to_numpy(dtype=np.float64)
    rounded = np.round(x / 10) * 10
    hidden = np.zeros(len(frame), dtype=bool)
    audit = audit_rounded(structure, frame, rounded, 10, hidden, frequency=False)
    assert not audit.safe
    failed = audit.failures
    assert len(failed) == 1 and (failed["r"].iloc[0], failed["c"].iloc[0]) == ("r1", "c1")
    # a primary that rounding does protect passes the same check
    frame2, structure2 = cells_2d(LEAVES, {(1, 3): 3.0})  # 7 needs +/- 3: rounding gives 10
    ok = audit_rounded(structure2, frame2, rounded, 10, hidden, frequency=False)
    assert ok.safe


def secondary(frame: pd.DataFrame) -> Any:
    hs = (Hierarchy.flat("r", ["r0", "r1", "r2"]), Hierarchy.flat("c", ["c0", "c1", "c2"]))
    done = protect_secondary(
        frame, hs, SuppressionSpec(method="optimal", singleton=False), dimensions=["r", "c"]
    )
    return done.cells[STATUS].to_numpy() != "safe"


def test_short_primaries_are_suppressed_until_the_audit_passes() -> None:
    frame, structure = cells_2d(LEAVES, {(2, 2): 200.0})
    x = frame[VALUE].to_numpy(dtype=np.float64)
    rounded = np.round(x / 10) * 10
    result = protect_rounded(
        structure,
        frame,
        10,
        lambda hidden, d: rounded,
        frequency=False,
        steer=False,
        complement=secondary,
    )
    assert result.audit.safe
    assert result.hidden[10]  # (r1, c1) itself is not published
    assert result.hidden.sum() >= 4  # and complements so that it cannot be worked out
    low, high = result.attacker_min[10], result.attacker_max[10]
    assert low <= 400 and high >= 800


def test_controlled_rounding_rounds_a_primary_the_way_that_protects_it() -> None:
    # a count of 12 needing 2 either side, base 5: 15 tells 11..19 (too narrow), 10 tells 6..14
    frame = pd.DataFrame(
        {VALUE: [12.0, 13.0], STATUS: ["primary", "primary"], LOWER: [2.0, 9.0], UPPER: [2.0, 9.0]}
    )
    direction, hopeless = protecting_directions(frame, 5, frequency=True)
    assert direction.tolist()[0] == -1
    assert hopeless.tolist() == [False, True]  # +/- 9 is beyond any adjacent multiple


def test_a_table_that_cannot_be_protected_is_never_called_safe() -> None:
    # without a secondary-suppression engine, the fallback adds small complements: they
    # cannot give 600 a +/- 200 interval, and the table is refused, never called safe
    frame, structure = cells_2d(LEAVES, {(2, 2): 200.0})
    x = frame[VALUE].to_numpy(dtype=np.float64)
    rounded = np.round(x / 10) * 10
    with pytest.raises(UnsafeTableError):
        protect_rounded(
            structure, frame, 10, lambda hidden, d: rounded, frequency=False, steer=False
        )


def spec_raw(method: str, **rounding: Any) -> dict[str, Any]:
    return {
        "table": {"name": "t", "response": "x", "contributor": "f", "protection": method},
        "dimension": [{"name": "r"}, {"name": "c"}],
        "rules": {"threshold": 3, "dominance": [[1, 60]]},
        "rounding": {"base": 10, **rounding},
        "perturbation": {"record_id": "id"},
    }


@pytest.mark.parametrize("method", ["controlled-rounding", "random-rounding"])
def test_rounded_magnitude_tables_pass_the_audit(tmp_path: Path, method: str) -> None:
    rng = np.random.default_rng(4)
    n = 400
    data = pd.DataFrame(
        {
            "id": [f"i{k}" for k in range(n)],
            "f": [f"f{k % 120}" for k in range(n)],
            "r": rng.choice(["a", "b", "c", "d"], n),
            "c": rng.choice(["x", "y", "z"], n),
            "x": rng.lognormal(3, 1.2, n).round(1),
        }
    )
    from fivesafes.sdc.perturbation.keys import KeyMaterial

    key = KeyMaterial(b"0123456789abcdef0123456789abcdef", "t")
    result = tables(parse_spec(spec_raw(method), base_dir=tmp_path), data, keys=key)
    cells = result.cells
    assert result.report["audit"]["safe"] and result.report["audit"]["run"]
    shown = cells["status"] == "safe"
    assert (cells.loc[shown, "published"] % 10 == 0).all()
    assert ((cells.loc[shown, "published"] - cells.loc[shown, "value"]).abs() < 10).all()
    assert cells.loc[~shown, "published"].isna().all()
    if method == "controlled-rounding":
        assert result.report["protection"]["rounding"]["controlled"]["additive"]


def test_an_independent_attacker_lp_cannot_pin_a_primary_of_a_controlled_rounding(
    tmp_path: Path,
) -> None:
    # The intruder of the docs, written again with scipy: every published r says the true
    # count is in [r - b + 1, r + b - 1] (and >= 0), a suppressed cell says nothing, and
    # the true table is additive. Bounding each primary must give the report's interval,
    # wide enough for the protection its rule requires.
    from scipy.optimize import linprog

    rng = np.random.default_rng(21)
    n = 700
    data = pd.DataFrame(
        {
            "id": [f"i{k}" for k in range(n)],
            "r": rng.choice(list("abcdef"), n, p=[0.3, 0.3, 0.2, 0.1, 0.07, 0.03]),
            "c": rng.choice(list("uvwxyz"), n, p=[0.35, 0.25, 0.2, 0.1, 0.07, 0.03]),
        }
    )
    raw = {
        "table": {"name": "t", "protection": "controlled-rounding"},
        "dimension": [{"name": "r"}, {"name": "c"}],
        "rules": {"threshold": 4},
        "rounding": {"base": 3},
    }
    cells = tables(parse_spec(raw, base_dir=tmp_path), data).cells.reset_index(drop=True)
    base = 3
    shown = cells[STATUS] == "safe"
    assert (cells.loc[shown, "published"] % base == 0).all()
    index = {(r, c): k for k, (r, c) in enumerate(zip(cells["r"], cells["c"], strict=True))}
    rows, cols = sorted({*cells["r"]} - {"Total"}), sorted({*cells["c"]} - {"Total"})
    relations = []
    for r in [*rows, "Total"]:
        relations.append((index[(r, "Total")], [index[(r, c)] for c in cols]))
    for c in [*cols, "Total"]:
        relations.append((index[("Total", c)], [index[(r, c)] for r in rows]))
    a = np.zeros((len(relations), len(cells)))
    for i, (total, parts) in enumerate(relations):
        a[i, total], a[i, parts] = -1.0, 1.0
    published = cells["published"].to_numpy(dtype=np.float64)
    # the published rounded table is additive too (suppressed cells aside)
    whole = ~np.isnan(published)
    for total, parts in relations:
        if whole[total] and whole[parts].all():
            assert published[total] == published[parts].sum()
    bounds = [
        (0.0, None) if np.isnan(p) else (max(0.0, p - base + 1), p + base - 1) for p in published
    ]
    primary = np.flatnonzero(cells["rule"].astype(str).str.len().to_numpy() > 0)
    assert primary.size >= 3
    for k in primary:
        goal = np.zeros(len(cells))
        goal[k] = 1.0
        low = linprog(goal, A_eq=a, b_eq=np.zeros(len(relations)), bounds=bounds)
        high = linprog(-goal, A_eq=a, b_eq=np.zeros(len(relations)), bounds=bounds)
        assert low.status == 0 and high.status == 0
        lo, hi = low.fun, -high.fun
        assert lo == pytest.approx(cells.loc[k, "attacker_min"], abs=1e-6)
        assert hi == pytest.approx(cells.loc[k, "attacker_max"], abs=1e-6)
        value = cells.loc[k, VALUE]
        assert lo <= value - cells.loc[k, LOWER] + 1e-6
        assert hi >= value + cells.loc[k, UPPER] - 1e-6
        assert hi - lo > 0
