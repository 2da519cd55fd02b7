"""Outputs: cells.csv, report.json, table.csv, table.xlsx; codes kept; all-or-nothing writes."""

from __future__ import annotations

import csv
import itertools
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from fivesafes.errors import OutputError
from fivesafes.sdc import TableResult, apply_primary_rules
from fivesafes.sdc.cells import CONFIDENTIAL_SYMBOL
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.outputs.reader import read_cells
from fivesafes.sdc.outputs.report import build_report, status_digest
from fivesafes.sdc.outputs.writers import cells_columns, write_all
from fivesafes.sdc.spec import DimensionSpec, RuleSet, TableSpec

REGION = Hierarchy.from_pairs("region", [("UK", None), ("E", "UK"), ("W", "UK")])
INDUSTRY = Hierarchy.flat("industry", ["1", "01", "001"])


def small_result(*, frequency: bool = False) -> TableResult:
    """A protected 3x4 table built by hand (tabulation is not under test here)."""
    rules = RuleSet(threshold=3, p_percent=10) if not frequency else RuleSet(threshold=3)
    spec = TableSpec(
        name="t",
        dimensions=(DimensionSpec("region"), DimensionSpec("industry")),
        response=None if frequency else "turnover",
        contributor="ent",
        rules=rules,
    )
    rows = []
    for i, (r, c) in enumerate(itertools.product(REGION.codes, INDUSTRY.codes)):
        n = (i + 4) % 5  # 0..4 contributors: some cells fall under the threshold
        rows.append(
            {
                "region": r,
                "industry": c,
                "records": n,
                "contributors": n,
                "value": 10.0 * n,
                "rule_total": 10.0 * n,
                "top1": 10.0 if n else 0.0,
                "top2": 5.0 if n > 1 else 0.0,
                "negatives": 0,
            }
        )
    cells = apply_primary_rules(pd.DataFrame(rows), rules, frequency=frequency)
    report = build_report(
        spec, cells, (REGION, INDUSTRY), source={"kind": "test"}, timings={"total": 0.1}
    )
    return TableResult(spec=spec, cells=cells, hierarchies=(REGION, INDUSTRY), report=report)


def test_all_four_outputs_are_written(tmp_path: Path) -> None:
    result = small_result()
    files = result.write(tmp_path / "new" / "dir")
    assert sorted(files) == ["cells.csv", "report.json", "table.csv", "table.xlsx"]
    assert all(p.is_file() for p in files.values())
    leftovers = [p.name for p in (tmp_path / "new" / "dir").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_cells_csv_keeps_codes_as_strings_and_hides_internals(tmp_path: Path) -> None:
    result = small_result()
    result.write(tmp_path)
    with (tmp_path / "cells.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == cells_columns(["region", "industry"], with_value=True)
    assert {r["industry"] for r in rows} == {"Total", "1", "01", "001"}
    assert len(rows) == len(REGION.codes) * len(INDUSTRY.codes)
    n_primary = sum(r["status"] == "primary" for r in rows)
    assert n_primary == int((result.cells["status"] == "primary").sum()) > 0
    # the largest contributors' values never leave in cells.csv
    assert not any(k.startswith("top") or k == "rule_total" for k in rows[0])


def test_frequency_table_cells_have_no_value_column(tmp_path: Path) -> None:
    small_result(frequency=True).write(tmp_path)
    header = (tmp_path / "cells.csv").read_text().splitlines()[0].split(",")
    assert header == cells_columns(["region", "industry"], with_value=False)


def test_report_json_round_trips(tmp_path: Path) -> None:
    result = small_result()
    result.write(tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    # report.json is the result's report plus the digest of the statuses in cells.csv
    # and how cells.csv is written (text escaped against formulas)
    digest = report["cells"].pop("status_sha256")
    assert report.pop("cells_csv") == {"formula_escaped": True}
    assert report == json.loads(json.dumps(result.report))
    written = read_cells(tmp_path / "cells.csv", ["region", "industry"])
    assert digest == status_digest(written, ["region", "industry"])
    assert digest == status_digest(result.cells.iloc[::-1], ["region", "industry"])
    assert report["cells"]["by_status"]["primary"] == result.status_counts["primary"]
    assert report["rules"]["p_percent"] == 10
    c = result.cells
    total = c.loc[(c["region"] == "UK") & (c["industry"] == "Total"), "records"]
    assert report["source"]["rows"] == int(total.iloc[0])


def test_table_csv_shows_c_for_every_hidden_cell(tmp_path: Path) -> None:
    result = small_result()
    result.write(tmp_path)
    text = (tmp_path / "table.csv").read_text()
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert text.startswith("# Table: t")
    assert sum(line.count(CONFIDENTIAL_SYMBOL) for line in body) == int(result.hidden.sum())
    assert body[1].startswith("UK,") and body[2].startswith("  E,")


def test_table_xlsx_has_notes_and_indented_table(tmp_path: Path) -> None:
    result = small_result()
    result.write(tmp_path)
    wb = openpyxl.load_workbook(tmp_path / "table.xlsx")
    assert wb.sheetnames == ["Notes", "Table"]
    notes = [r[0] for r in wb["Notes"].iter_rows(values_only=True) if r[0]]
    assert any(CONFIDENTIAL_SYMBOL in str(n) for n in notes)
    ws = wb["Table"]
    values = [v for row in ws.iter_rows(values_only=True) for v in row]
    assert values.count(CONFIDENTIAL_SYMBOL) == int(result.hidden.sum())
    labels = {ws.cell(r, 1).value: ws.cell(r, 1).alignment.indent for r in range(1, ws.max_row + 1)}
    assert labels["UK"] == 0 and labels["E"] == 1


def test_a_failing_writer_leaves_nothing_behind(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("old")

    def boom(path: Path) -> None:
        path.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_all(tmp_path, {"a.txt": lambda p: p.write_text("new"), "b.txt": boom})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    assert (tmp_path / "a.txt").read_text() == "old"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def lax_umask() -> Iterator[None]:
    """The usual umask (0022): a plain mkdir gives 0755, a plain open 0644."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("lax_umask")
@pytest.mark.parametrize("tool", ["argus", "sdctable"])
def test_an_export_is_its_owners_alone_whatever_the_umask(tmp_path: Path, tool: str) -> None:
    # the files hold every cell's true value, as cells.csv: the folder made for them (and
    # any parent made on the way) is 0700, each file 0600, as table protect's outputs
    out = tmp_path / "made" / tool
    written = small_result().export(tool, out)
    assert _mode(out) == 0o700 and _mode(out.parent) == 0o700
    assert written and {n: _mode(p) for n, p in written.items()} == dict.fromkeys(written, 0o600)


@pytest.mark.usefixtures("lax_umask")
def test_the_outputs_folder_is_its_owners_alone_whatever_the_umask(tmp_path: Path) -> None:
    written = small_result().write(tmp_path / "out")
    assert _mode(tmp_path / "out") == 0o700
    assert {_mode(p) for p in written.values()} == {0o600}


def test_a_failing_export_leaves_no_folder_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fivesafes.sdc.formats.export as export

    def boom(data: bytes) -> object:
        def write(path: Path) -> None:
            path.write_bytes(data[:1])
            raise OSError("disk full")

        return write

    monkeypatch.setattr(export, "_bytes_writer", boom)
    with pytest.raises(OSError, match="disk full"):
        small_result().export("argus", tmp_path / "made" / "argus")
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_out_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot create"):
        small_result().write(blocker / "out")


def test_an_indented_formula_code_is_escaped_after_its_indentation(tmp_path: Path) -> None:
    # "  =HYPERLINK(...)": a spreadsheet that trims leading spaces on import would run it
    code = '=HYPERLINK("http://evil.example","x")'
    region = Hierarchy.from_pairs("region", [("UK", None), (code, "UK"), ("-2+3", "UK")])
    result = small_result()
    swap = {"E": code, "W": "-2+3"}
    cells = result.cells.assign(region=result.cells["region"].replace(swap))
    TableResult(result.spec, cells, (region, INDUSTRY), result.report).write(tmp_path)
    rows = list(csv.reader(line for line in (tmp_path / "table.csv").read_text().splitlines()
                           if not line.startswith("#")))  # fmt: skip
    labels = [r[0] for r in rows if r]
    assert f"  '{code}" in labels and "  '-2+3" in labels
    assert not any(label.lstrip(" ").startswith(("=", "+", "-", "@")) for label in labels)
