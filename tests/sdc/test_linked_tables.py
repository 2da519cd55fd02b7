"""Linked tables are protected together: a shared cell has one status, the joint audit passes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fivesafes.errors import SpecError
from fivesafes.sdc.audit import audit_linked
from fivesafes.sdc.pipeline import linked_tables

REGION_CSV = "code,parent\nUK,\nN,UK\nS,UK\nW,UK\n"
SPEC = """
[table]
name = "{name}"
response = "turnover"
contributor = "ent"
[[dimension]]
name = "region"
hierarchy = "region.csv"
{extra}
[rules]
threshold = 3
p_percent = 10
[suppression]
method = "optimal"
singleton = false
"""


def _case(tmp_path: Path) -> tuple[Path, Path, Path]:
    rng = np.random.default_rng(3)
    rows = []
    for i in range(60):
        rows.append(
            {
                "ent": f"e{i:03d}",
                "region": ["N", "S", "W"][i % 3],
                "industry": ["A", "B", "C"][(i // 3) % 3],
                "size": ["small", "large"][(i // 9) % 2],
                "turnover": float(rng.lognormal(5, 1)),
            }
        )
    rows.append({"ent": "big", "region": "N", "industry": "A", "size": "large", "turnover": 9e4})
    data = tmp_path / "data.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    (tmp_path / "region.csv").write_text(REGION_CSV)
    a = tmp_path / "a.toml"
    a.write_text(SPEC.format(name="by_industry", extra='[[dimension]]\nname = "industry"'))
    b = tmp_path / "b.toml"
    b.write_text(SPEC.format(name="by_size", extra='[[dimension]]\nname = "size"'))
    return a, b, data


def test_shared_cells_have_one_status_and_the_joint_audit_passes(tmp_path: Path) -> None:
    a, b, data = _case(tmp_path)
    first, second = linked_tables([a, b], data)
    shared_a = first.cells[first.cells["industry"] == "Total"].set_index("region")["status"]
    shared_b = second.cells[second.cells["size"] == "Total"].set_index("region")["status"]
    assert shared_a.to_dict() == shared_b.to_dict()
    assert (first.cells["status"] == "primary").any()
    again = audit_linked([(first.cells, first.hierarchies), (second.cells, second.hierarchies)])
    assert again.safe
    assert first.report["audit"]["linked"] and first.report["suppression"]["linked_with"]


def test_tables_of_different_measures_are_not_linked(tmp_path: Path) -> None:
    a, _b, data = _case(tmp_path)
    other = tmp_path / "count.toml"
    other.write_text(
        SPEC.format(name="count", extra="")
        .replace('response = "turnover"\n', "")
        .replace("p_percent = 10\n", "")
    )
    with pytest.raises(SpecError, match="measure different things"):
        linked_tables([a, other], data)


@pytest.mark.parametrize("method", ["optimal", "fast"])
def test_linked_tables_tell_their_method_rounds_and_audit_lps(tmp_path: Path, method: str) -> None:
    # issue 15 §3: a linked run showed one spinner for all of its secondary suppression and
    # none for the audit's LPs; they now report as a single table's do
    from fivesafes.sdc import Recorder
    from fivesafes.sdc.pipeline import tables

    a, b, data = _case(tmp_path)
    linked, alone = Recorder(), Recorder()
    linked_tables([a, b], data, secondary=method, progress=linked)
    tables(a, data, secondary=method, progress=alone)

    def inner(rec: Recorder, outer: str) -> set[str]:
        """Stages heard while ``outer`` ran (the method's own, the audit's LP counts)."""
        seen, inside = set(), False
        for kind, stage, _, _ in rec.events:
            if stage == outer:
                inside = kind == "start"
            elif inside:
                seen.add(f"{kind} {stage}")
        return seen

    if method == "fast":  # its sweeps over the demands (optimal may need none here)
        assert inner(alone, "secondary suppression")  # what a single table tells
        assert inner(linked, "secondary suppression (linked tables)")
    assert any(e.startswith("advance") for e in inner(linked, "audit (linked tables)"))
    (outcome,) = [o for k, s, _, o in linked.events if k == "finish" and "(linked" in s][:1]
    assert outcome.startswith(f"{method}, ") and "cells hidden in all" in outcome
