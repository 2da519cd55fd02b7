"""The published bundle against the Analysis Function guidance *Releasing statistics in
spreadsheets*, one test per point, for the XLSX (openpyxl) and the ODS (odfpy) alike.

Checklist (each point is a test below):
 1. a cover sheet first: title in A1, what, when, who, source, contact, [c] explained
 2. a contents sheet listing every sheet, each a working link
 3. a notes sheet: numbered notes in a table; the tables refer to them by number
 4. one table per sheet, marked up as a real table with one header row
 5. the title in A1 of every sheet; text above a table only in column A
 6. labels from the hierarchy file next to the codes
 7. a level column instead of indentation by leading spaces (CSV too)
 8. units in the headers (from the spec)
 9. [c] explained, and no hidden value anywhere
10. numbers stored as numbers, with a number format
11. document properties: title, creator, subject, language
12. sheet and file names: accepted by Excel, unique even when two tables' names share
    their first 31 characters or differ only in case
13. a tidy CSV per table (one row per cell, a status column), the wide one on request
14. no blank rows or cells inside a table
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from bundle_fixtures import HIDDEN_VALUES, bundle, table
from bundle_sheets import Book, read_book

from fivesafes.release.spreadsheet import SHEET_NAME_MAX

FORMATS = ("tables.xlsx", "tables.ods")


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return bundle(tmp_path_factory.mktemp("bundle") / "REL")


@pytest.fixture(scope="module", params=FORMATS)
def book(request, out) -> Book:
    return read_book(out / request.param)


def _table_block(sheet):
    """(header, rows) of the sheet's one table, from the table object's range."""
    assert len(sheet.tables) == 1, sheet.name
    _name, r0, r1, ncols = sheet.tables[0]
    rows = sheet.rows[r0 - 1 : r1]
    return rows[0][:ncols], [r[:ncols] for r in rows[1:]]


def _csv(out, name):
    return list(csv.reader(io.StringIO((out / name).read_text(encoding="utf-8"))))


def test_1_cover_sheet_first(book):
    names = list(book.sheets)
    assert names[:3] == ["Cover", "Contents", "Notes"]
    cover = [str(r[0].value) for r in book.sheets["Cover"].rows if r and r[0].value]
    assert cover[0] == "Turnover by region and industry, 2026"
    text = "\n".join(cover)
    for needed in ("Business survey 2026", "26 November 2026", "Example Department"):
        assert needed in text
    assert "Contact: statistics@example.gov.uk." in text
    assert "[c]" in text


def test_2_contents_links_every_sheet(book):
    header, rows = _table_block(book.sheets["Contents"])
    assert [c.value for c in header] == ["Worksheet name", "Worksheet title"]
    linked = {r[0].link for r in rows}
    assert linked == set(book.sheets) - {"Cover", "Contents"}
    assert all(r[0].value == r[0].link for r in rows)  # the link text is the sheet's name


def test_3_notes_numbered_and_referred_to(book):
    header, rows = _table_block(book.sheets["Notes"])
    assert [c.value for c in header] == ["Note number", "Note text"]
    numbers = [r[0].value for r in rows]
    assert numbers == [f"[note {i}]" for i in range(1, len(rows) + 1)]
    texts = {r[0].value: r[1].value for r in rows}
    assert "[c]" in texts["[note 1]"]
    table_refs = {
        m
        for row in book.sheets["turnover"].rows
        for c in row
        for m in re.findall(r"\[note \d+\]", str(c.value))
    }
    assert table_refs, "the table sheet refers to the notes"
    assert table_refs <= set(numbers)


def test_4_one_real_table_per_sheet_with_one_header_row(book):
    sheet = book.sheets["turnover"]
    header, rows = _table_block(sheet)
    assert all(c.kind == "s" and c.value for c in header), "headers are text"
    assert len({str(c.value).casefold() for c in header}) == len(header), "headers unique"
    assert len(rows) == 3  # UK, N, S: one row per region
    if sheet.header_rows:  # ODS marks its header row as such
        assert sheet.header_rows == [sheet.tables[0][1]]


def test_5_title_in_a1_and_text_only_in_column_a_above_tables(book):
    for sheet in book.sheets.values():
        assert sheet.rows[0][0].kind == "s" and sheet.rows[0][0].value, sheet.name
        first_table_row = sheet.tables[0][1] if sheet.tables else len(sheet.rows) + 1
        for row in sheet.rows[: first_table_row - 1]:
            assert all(c.value is None for c in row[1:]), (sheet.name, row)


def test_6_labels_from_the_hierarchy(book):
    header, rows = _table_block(book.sheets["turnover"])
    names = [c.value for c in header]
    assert names[:3] == ["region code", "region", "region level"]
    assert [r[1].value for r in rows] == ["United Kingdom", "North", "South"]
    assert "industry Farming [01] (GBP thousand)" in names


def test_7_level_column_not_leading_spaces(book, out):
    header, rows = _table_block(book.sheets["turnover"])
    level = [c.value for c in header].index("region level")
    assert [r[level].value for r in rows] == [0, 1, 1]
    assert all(r[level].kind == "n" for r in rows)
    for sheet in book.sheets.values():
        for row in sheet.rows:
            for c in row:
                assert not (isinstance(c.value, str) and c.value.startswith(" ")), c.value
    for line in (out / "turnover.csv").read_text().splitlines():
        assert not any(field.startswith(" ") for field in line.split(","))


def test_8_units_in_the_headers(book, out):
    header, _rows = _table_block(book.sheets["turnover"])
    values = [c.value for c in header if "industry" in str(c.value)]
    assert values and all(str(v).endswith("(GBP thousand)") for v in values)
    assert "turnover (GBP thousand)" in _csv(out, "turnover.csv")[0]


def test_9_confidential_explained_and_no_hidden_value(book, out):
    notes = {r[0].value: r[1].value for r in _table_block(book.sheets["Notes"])[1]}
    assert "confidential" in notes["[note 1]"] and "[c]" in notes["[note 1]"]
    _header, rows = _table_block(book.sheets["turnover"])
    north = rows[1]
    assert [c.value for c in north[3:]] == [500, "[c]", "[c]"]
    every = [c.value for s in book.sheets.values() for r in s.rows for c in r]
    for hidden in (300.25, 199.75, 299.75, 200.25):
        assert hidden not in every
    for f in out.iterdir():
        if f.suffix in (".csv", ".md", ".html", ".json"):
            for hidden in HIDDEN_VALUES:
                assert hidden not in f.read_text(), (f.name, hidden)


def test_10_numbers_are_numbers_with_a_format(book):
    _header, rows = _table_block(book.sheets["turnover"])
    numbers = [c for r in rows for c in r[3:] if c.value != "[c]"]
    assert numbers and all(c.kind == "n" for c in numbers)
    # thousands separator: openpyxl reports the format, odfpy the data style's name
    assert all(c.number_format in ("#,##0", "num0") for c in numbers)
    symbols = [c for r in rows for c in r[3:] if c.value == "[c]"]
    assert symbols and all(c.kind == "s" for c in symbols)


def test_11_document_properties(book):
    p = book.properties
    assert p["title"] == "Turnover by region and industry, 2026"
    assert p["creator"] == "Example Department"
    assert p["language"] == "en-GB"
    assert "R-2026-01" in p["subject"]
    assert p["description"]


LONG = "turnover_by_region_and_industry_"  # 32 characters: the first 31 are shared


def test_12_sheet_and_file_names_never_collide(tmp_path):
    tables = [
        table(LONG + "2025"),
        table(LONG + "2026"),
        table("Turnover"),
        table("turnover"),
        table("a/b: [q]?"),
    ]
    out = bundle(tmp_path / "REL", tables)
    for fmt in FORMATS:
        names = list(read_book(out / fmt).sheets)[3:]
        assert len(names) == 5
        assert len({n.casefold() for n in names}) == 5
        assert all(len(n) <= SHEET_NAME_MAX for n in names)
        assert all(re.fullmatch(r"[\w\-]+", n) for n in names), names
    csvs = sorted(p.name for p in out.glob("*.csv"))
    assert len(csvs) == 5 and len({c.casefold() for c in csvs}) == 5
    # every table's own title reached its own sheet (nothing overwritten)
    titles = {read_book(out / "tables.xlsx").sheets[n].rows[0][0].value for n in names}
    assert len(titles) == 5


def test_13_tidy_csv_per_table_and_wide_on_request(out, tmp_path):
    rows = _csv(out, "turnover.csv")
    assert rows[0] == [
        "region code",
        "region",
        "region level",
        "industry code",
        "industry",
        "industry level",
        "turnover (GBP thousand)",
        "status",
    ]
    assert len(rows) == 1 + 9  # one row per cell
    statuses = {r[-1] for r in rows[1:]}
    assert statuses == {"published", "confidential"}
    for r in rows[1:]:
        assert (r[-2] == "") == (r[-1] == "confidential")
        assert "[c]" not in r[-2]
    assert not (out / "turnover_wide.csv").exists()
    wide = bundle(tmp_path / "W", wide_csv=True)
    wide_rows = _csv(wide, "turnover_wide.csv")
    assert wide_rows[0][:3] == ["region code", "region", "region level"]
    assert wide_rows[2][3:] == ["500", "[c]", "[c]"]


def test_14_no_blank_rows_or_cells_inside_a_table(book):
    for sheet in book.sheets.values():
        if not sheet.tables:
            continue
        header, rows = _table_block(sheet)
        for row in [header, *rows]:
            assert all(c.value is not None and c.value != "" for c in row), (sheet.name, row)
