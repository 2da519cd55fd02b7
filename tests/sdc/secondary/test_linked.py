"""Linked tables sharing cells are protected together, one status per shared cell."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from conftest import independent_audit, make_table, tree
from fivesafes.sdc.audit import audit_linked
from fivesafes.sdc.secondary import protect_linked
from fivesafes.sdc.spec import SuppressionSpec


def _linked(seed: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    region, industry, size = tree("r", [2, 2]), tree("i", [3]), tree("s", [2])
    leaf = {
        k: float(rng.integers(1, 200))
        for k in itertools.product(region.leaves, industry.leaves, size.leaves)
    }
    ri: dict[tuple[str, str], float] = {}
    rs: dict[tuple[str, str], float] = {}
    for (r, i, s), v in leaf.items():
        ri[(r, i)] = ri.get((r, i), 0.0) + v
        rs[(r, s)] = rs.get((r, s), 0.0) + v
    t1 = make_table([region, industry], ri, leaf_contributors={k: 5 for k in ri})
    t2 = make_table([region, size], rs, leaf_contributors={k: 5 for k in rs})
    for t in (t1, t2):
        inner = t.index[(t["r"] != "T") & (t.iloc[:, 1] != "T")]
        pick = rng.choice(inner, size=2, replace=False)
        t.loc[pick, "status"] = "primary"
        t.loc[pick, "lower_protection"] = 0.2 * t.loc[pick, "value"]
        t.loc[pick, "upper_protection"] = 0.2 * t.loc[pick, "value"]
    return [(t1, [region, industry]), (t2, [region, size])]


@pytest.mark.parametrize("method", ["optimal", "fast"])
@pytest.mark.parametrize("seed", [1, 2])
def test_linked_tables_share_one_pattern(method: str, seed: int) -> None:
    tables = _linked(seed)
    res = protect_linked(tables, SuppressionSpec(method=method))
    (a, ha), (b, hb) = [(r.cells, h) for r, (_, h) in zip(res.tables, tables, strict=True)]
    # region margins (industry = T, size = T) are the same cells in both tables
    ma = a[a["i"] == "T"].set_index("r")["status"]
    mb = b[b["s"] == "T"].set_index("r")["status"]
    assert (ma.sort_index() == mb.sort_index()).all()
    # primaries from either table stay hidden, with their own requirement, in both tables
    assert independent_audit(a, ha) == [] and independent_audit(b, hb) == []
    joint = audit_linked([(a, ha), (b, hb)])
    assert joint.safe
    assert res.method == method
