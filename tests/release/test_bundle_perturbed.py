"""A release bundle of a perturbed table shows the published values, never the true ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fivesafes.release.bundle import BundleTable
from fivesafes.release.layout import tidy_layout, wide_layout
from fivesafes.sdc import tables
from fivesafes.sdc.perturbation.keys import KeyMaterial
from fivesafes.sdc.spec import parse_spec


def test_bundle_rows_of_a_cellkey_table_are_the_perturbed_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    n = 800
    data = pd.DataFrame(
        {
            "pid": [f"p{i}" for i in range(n)],
            "region": rng.choice(["a", "b", "c"], n),
            "age": rng.choice(["young", "old"], n),
        }
    )
    raw = {
        "table": {"name": "t", "protection": "cellkey"},
        "dimension": [{"name": "region"}, {"name": "age"}],
        "perturbation": {"record_id": "pid", "D": 3, "V": 2.0, "js": 0},
    }
    key = KeyMaterial(b"0123456789abcdef0123456789abcdef", "t")
    result = tables(parse_spec(raw, base_dir=tmp_path), data, keys=key)
    table = BundleTable(
        name="t",
        title="t",
        cells=result.cells,
        hierarchies=result.hierarchies,
        rules={},
        method="cellkey",
        audit_safe=True,
    )
    published = sorted(result.cells["published"].astype(float))
    for layout in (
        wide_layout(table.cells, table.hierarchies),
        tidy_layout(table.cells, table.hierarchies),
    ):
        values = [i for i, kind in enumerate(layout.kinds) if kind == "value"]
        shown = sorted(float(row[i]) for row in layout.rows for i in values)
        assert shown == published
        assert shown != sorted(result.cells["value"].astype(float))  # the noise is there
