"""CSV and spreadsheet text that is never run as a formula (OWASP CSV injection)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from fivesafes.sdc.formats.injection import (
    csv_field,
    csv_unescape,
    is_number_text,
    needs_escape,
    xlsx_text,
)

PAYLOADS = [
    '=HYPERLINK("http://evil.example","click")',
    "=cmd|' /C calc'!A0",
    "@SUM(1)",
    "+A1",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
]


def test_formula_starts_get_an_apostrophe():
    for p in PAYLOADS:
        assert csv_field(p) == "'" + p


def test_numbers_stay_numbers():
    for n in ("-1", "+1", "-1.5", "+2e3", ".5", "10"):
        assert is_number_text(n)
        assert csv_field(n) == n
    assert csv_field(-1) == -1 and csv_field(2.5) == 2.5


def test_plain_text_is_untouched():
    for t in ("North", "01", "a=b", "'quoted", "", "[c]"):
        assert csv_field(t) == t


def test_an_apostrophe_before_a_formula_is_kept_so_the_escape_can_be_undone():
    assert csv_field("'=1") == "''=1"
    assert csv_unescape("''=1") == "'=1"


@given(st.text(max_size=12))
def test_escape_round_trips(text):
    assert csv_unescape(csv_field(text)) == text
    assert not needs_escape(csv_field(text)) or csv_field(text).startswith("'")


def test_xlsx_text_is_a_string_not_a_formula(tmp_path):
    wb = Workbook()
    ws = wb.active
    for i, p in enumerate(PAYLOADS, start=1):
        xlsx_text(ws.cell(row=i, column=1), p)
    ws.cell(row=len(PAYLOADS) + 1, column=1).value = "=1+1"  # what openpyxl does by default
    wb.save(tmp_path / "t.xlsx")
    back = load_workbook(tmp_path / "t.xlsx").active
    assert [back.cell(row=i, column=1).data_type for i in range(1, len(PAYLOADS) + 1)] == [
        "s"
    ] * len(PAYLOADS)
    # XML turns a carriage return into a line feed; the text is otherwise kept as given
    expected = [p.replace("\r", "\n") for p in PAYLOADS]
    assert [back.cell(row=i, column=1).value for i in range(1, len(PAYLOADS) + 1)] == expected
    assert back.cell(row=len(PAYLOADS) + 1, column=1).data_type == "f"  # the test can fail


def test_xlsx_text_holds_a_control_character_a_spreadsheet_cannot(tmp_path):
    # openpyxl refuses an escape in a cell: table.xlsx crashed on such a code
    wb = Workbook()
    xlsx_text(wb.active.cell(row=1, column=1), "\x1b[31mred\x00")
    wb.save(tmp_path / "t.xlsx")
    assert load_workbook(tmp_path / "t.xlsx").active.cell(row=1, column=1).value == (
        "\ufffd[31mred\ufffd"
    )
