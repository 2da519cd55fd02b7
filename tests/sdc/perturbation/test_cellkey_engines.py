"""The cell key method through the tabulation seam: DuckDB sums record keys, others are refused.

An engine that cannot give each cell its cell key must never be used for a keyed method:
every cell would get the same noise (or none), and the published values would look fine.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fivesafes.errors import EngineError
from fivesafes.sdc import (
    CELL_KEY,
    DuckDBTabulator,
    Hierarchy,
    KeyMaterial,
    MicrodataLike,
    RecordKeyTabulator,
    TableSpec,
    Tabulation,
    Tabulator,
    parse_spec,
    tables,
)
from fivesafes.sdc.perturbation.keys import KEY_SCALE, key_integers, record_keys

KEY = KeyMaterial(b"0123456789abcdef0123456789abcdef", "test")


def people(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "pid": [f"p{i}" for i in range(n)],
            "region": rng.choice(["N", "S", "E", "W"], n),
            "age": rng.choice(["young", "old"], n),
        }
    )


def count_spec(tmp_path: Path, protection: str = "cellkey") -> TableSpec:
    raw = {
        "table": {"name": "people", "protection": protection},
        "dimension": [{"name": "region"}, {"name": "age"}],
        "perturbation": {"record_id": "pid"},
    }
    return parse_spec(raw, base_dir=tmp_path)


class Plain:
    """An engine without record keys (as Spark is today): DuckDB's cells, counted calls."""

    name = "plain"

    def __init__(self) -> None:
        self.calls = 0

    def tabulate(
        self,
        spec: TableSpec,
        data: MicrodataLike,
        hierarchies: Sequence[Hierarchy],
        *,
        top_k: int,
    ) -> Tabulation:
        self.calls += 1
        return DuckDBTabulator().tabulate(spec, data, hierarchies, top_k=top_k)


class Forgetful(Plain):
    """Says it sums record keys, then gives cells without (or with broken) cell keys."""

    name = "forgetful"

    def __init__(self, broken: Any = None) -> None:
        super().__init__()
        self.broken = broken

    def with_record_key(self, column: str) -> Tabulator:
        return self

    def tabulate(
        self,
        spec: TableSpec,
        data: MicrodataLike,
        hierarchies: Sequence[Hierarchy],
        *,
        top_k: int,
    ) -> Tabulation:
        made = super().tabulate(spec, data, hierarchies, top_k=top_k)
        cells = made.cells.drop(columns=[CELL_KEY], errors="ignore")
        if self.broken is not None:
            cells[CELL_KEY] = self.broken
        return Tabulation(cells, made.hierarchies, made.timings, made.notes)


def test_duckdb_sums_the_record_keys_of_each_cell_through_the_seam(tmp_path: Path) -> None:
    data = people()
    keys = record_keys(KEY.secret, data["pid"])
    engine = DuckDBTabulator().with_record_key("rk")
    assert isinstance(engine, RecordKeyTabulator) and engine.name == "duckdb"
    spec = count_spec(tmp_path)
    tab = engine.tabulate(spec, data.assign(rk=keys), None, top_k=2)
    cells = tab.cells.set_index(["region", "age"])
    ints = key_integers(keys)
    for (region, age), row in cells.iterrows():
        inside = np.ones(len(data), dtype=bool)
        if region != "Total":
            inside &= (data["region"] == region).to_numpy()
        if age != "Total":
            inside &= (data["age"] == age).to_numpy()
        # exact integer arithmetic: the sum of the cell's keys * 2**53, mod 2**53
        expected = sum(int(k) for k in ints[inside]) % KEY_SCALE
        assert int(row[CELL_KEY]) == expected
    # the plain engine (no record key) gives no cell keys at all
    assert CELL_KEY not in DuckDBTabulator().tabulate(spec, data, None, top_k=2).cells


def test_the_pipeline_with_an_explicit_duckdb_engine_gives_the_default_values(
    tmp_path: Path,
) -> None:
    spec = count_spec(tmp_path)
    default = tables(spec, people(), keys=KEY)
    given = tables(spec, people(), keys=KEY, tabulator=DuckDBTabulator())
    assert given.report["engine"] == "duckdb"
    assert given.cells["published"].equals(default.cells["published"])
    assert given.cells[CELL_KEY].equals(default.cells[CELL_KEY])


@pytest.mark.parametrize("method", ["cellkey", "random-rounding"])
def test_an_engine_without_record_keys_is_refused_before_it_runs(
    tmp_path: Path, method: str
) -> None:
    engine = Plain()
    with pytest.raises(EngineError, match="cannot sum record keys") as err:
        tables(count_spec(tmp_path), people(), method=method, keys=KEY, tabulator=engine)
    assert "duckdb" in (err.value.hint or "")
    assert engine.calls == 0  # refused before any work (nor a read of the data)


def test_controlled_rounding_needs_no_keys_and_runs_on_any_engine(tmp_path: Path) -> None:
    engine = Plain()
    result = tables(count_spec(tmp_path), people(), method="controlled-rounding", tabulator=engine)
    assert engine.calls == 1 and result.report["engine"] == "plain"
    published = result.cells["published"].dropna()
    assert (published % 5 == 0).all()


@pytest.mark.parametrize("broken", [None, 0.5, np.nan, -1, KEY_SCALE])
def test_cells_without_valid_cell_keys_are_refused_not_perturbed(
    tmp_path: Path, broken: Any
) -> None:
    engine = Forgetful(broken)
    with pytest.raises(EngineError, match="forgetful engine gave"):
        tables(count_spec(tmp_path), people(), keys=KEY, tabulator=engine)
    assert engine.calls == 1


def test_linked_tables_protect_by_suppression_only(tmp_path: Path) -> None:
    from fivesafes.errors import SpecError
    from fivesafes.sdc import linked_tables

    spec = count_spec(tmp_path)
    other = parse_spec(
        {
            "table": {"name": "other", "protection": "cellkey"},
            "dimension": [{"name": "region"}],
            "perturbation": {"record_id": "pid"},
        },
        base_dir=tmp_path,
    )
    with pytest.raises(SpecError, match="protect_all"):
        linked_tables([spec, other], people())
