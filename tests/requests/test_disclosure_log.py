"""The disclosure log as CSV and HTML: escaped, formula-safe, in column order."""

from __future__ import annotations

import csv
import io
from datetime import date

from fivesafes.requests.disclosure_log import COLUMNS, LogEntry, log_csv, log_html
from fivesafes.requests.kinds import RequestKind

ENTRY = LogEntry(
    reference="FOI-3",
    kind=RequestKind.FOI,
    received=date(2026, 3, 2),
    answered=date(2026, 3, 20),
    outcome="part-withheld",
    summary='=HYPERLINK("x") <b>turnover</b>',
    exemptions=("s41", "s43"),
    figures=(("region=N", 37.0),),
)


def test_csv_has_the_columns_and_no_formula() -> None:
    rows = list(csv.reader(io.StringIO(log_csv([ENTRY]))))
    assert tuple(rows[0]) == COLUMNS
    record = dict(zip(COLUMNS, rows[1], strict=True))
    assert record["summary"].startswith("'=")  # never a formula in a spreadsheet
    assert record["exemptions"] == "s41; s43"
    assert record["figures"] == "region=N = 37"


def test_html_escapes_text() -> None:
    page = log_html([ENTRY], "ONS & co")
    assert "<b>turnover</b>" not in page and "&lt;b&gt;turnover&lt;/b&gt;" in page
    assert "Disclosure log: ONS &amp; co" in page
    assert "1 answered request(s)" in page
