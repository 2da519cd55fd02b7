"""The tabulation engine seam: the pipeline runs on whatever Tabulator it is given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from fivesafes.errors import DataError
from fivesafes.sdc import (
    CONTRIBUTORS,
    STATUS,
    DuckDBTabulator,
    Hierarchy,
    MicrodataLike,
    TableSpec,
    Tabulation,
    Tabulator,
    linked_tables,
    load_spec,
    parse_spec,
    tables,
)

SPEC = """\
[table]
name = "sales"
response = "turnover"
contributor = "ent"

[[dimension]]
name = "region"
{hierarchy}

[rules]
threshold = 3
dominance = [[2, 85]]
"""

ROWS = pd.DataFrame(
    {
        "ent": ["a", "b", "c", "d", "e", "f", "g"],
        "region": ["N", "N", "N", "S", "S", "S", "S"],
        "turnover": [10.0, 20.0, 30.0, 5.0, 5.0, 5.0, 5.0],
    }
)


def _spec(tmp_path: Path, *, hierarchy_file: bool = True) -> TableSpec:
    (tmp_path / "region.csv").write_text("code,parent\nUK,\nN,UK\nS,UK\n")
    line = 'hierarchy = "region.csv"' if hierarchy_file else 'total_code = "UK"'
    path = tmp_path / "sales.toml"
    path.write_text(SPEC.format(hierarchy=line))
    return load_spec(path)


class Recording:
    """A fake engine: DuckDB's cells, optionally edited, with every call recorded."""

    name = "fake"

    def __init__(self, edit: dict[str, int] | None = None) -> None:
        self.calls: list[tuple[tuple[str, ...], int]] = []
        self.edit = edit or {}

    def tabulate(
        self,
        spec: TableSpec,
        data: MicrodataLike,
        hierarchies: Sequence[Hierarchy],
        *,
        top_k: int,
    ) -> Tabulation:
        self.calls.append((tuple(h.name for h in hierarchies), top_k))
        made = DuckDBTabulator().tabulate(spec, data, hierarchies, top_k=top_k)
        cells = made.cells.copy()
        for region, contributors in self.edit.items():
            cells.loc[cells["region"] == region, CONTRIBUTORS] = contributors
        return replace(made, cells=cells, timings={"fake": 0.0})


class Listing(Recording):
    """A fake engine that also lists a flat dimension's codes itself."""

    def __init__(self) -> None:
        super().__init__()
        self.listed = 0

    def hierarchies(self, spec: TableSpec, data: MicrodataLike) -> tuple[Hierarchy, ...]:
        self.listed += 1
        return (Hierarchy.flat("region", ["N", "S"], total="UK"),)


def test_the_pipeline_uses_the_engine_given_and_says_which(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    engine: Tabulator = Recording()
    result = tables(spec, ROWS, tabulator=engine)
    default = tables(spec, ROWS)
    assert isinstance(engine, Recording) and engine.calls == [(("region",), 2)]
    assert result.report["engine"] == "fake" and default.report["engine"] == "duckdb"
    assert "tabulate.fake" in result.report["timings"]
    pd.testing.assert_frame_equal(result.cells, default.cells)


def test_the_rules_run_on_the_engines_cells_not_on_duckdbs(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    # The fake engine says region S has one contributor: S must become primary.
    result = tables(spec, ROWS, tabulator=Recording(edit={"S": 1}))
    status = dict(zip(result.cells["region"], result.cells[STATUS], strict=True))
    assert status["S"] == "primary"
    assert tables(spec, ROWS).cells.set_index("region").loc["S", STATUS] == "safe"


def test_flat_dimensions_come_from_the_engine_when_it_can_list_them(tmp_path: Path) -> None:
    spec = _spec(tmp_path, hierarchy_file=False)
    listing = Listing()
    tables(spec, ROWS, tabulator=listing)
    assert listing.listed == 1 and listing.calls == [(("region",), 2)]
    # An engine that cannot list codes gets them from DuckDB; the cells are the same.
    recording = Recording()
    found = tables(spec, ROWS, tabulator=recording)
    assert set(found.cells["region"]) == {"UK", "N", "S"}
    pd.testing.assert_frame_equal(found.cells, tables(spec, ROWS).cells)


def test_linked_tables_tabulate_every_table_with_the_engine(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    other = parse_spec(
        {
            "table": {"name": "sales2", "response": "turnover", "contributor": "ent"},
            "dimension": [{"name": "region", "hierarchy": str(tmp_path / "region.csv")}],
            "rules": {"threshold": 3},
        }
    )
    engine = Recording()
    done = linked_tables([spec, other], ROWS, secondary="none", tabulator=engine)
    assert len(engine.calls) == 2 and [r.report["engine"] for r in done] == ["fake", "fake"]


def test_an_engine_that_drops_a_column_the_rules_need_is_a_clear_error(tmp_path: Path) -> None:
    class Broken(Recording):
        def tabulate(self, *args: object, **kwargs: object) -> Tabulation:  # type: ignore[override]
            made = super().tabulate(*args, **kwargs)  # type: ignore[arg-type]
            return replace(made, cells=made.cells.drop(columns=[CONTRIBUTORS]))

    with pytest.raises(DataError, match=r"lacks column\(s\) \['contributors'\]"):
        tables(_spec(tmp_path), ROWS, tabulator=Broken())
