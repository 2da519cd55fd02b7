"""LibreOffice (headless) opens the published XLSX and ODS: each converts to a PDF, and
every sheet read back as displayed shows the text as text (no payload evaluated) and
the numbers with their format. Skips, saying why, where LibreOffice is not installed
(apt-get install libreoffice-calc-nogui)."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest
from bundle_fixtures import bundle, table
from test_bundle_injection import CODES, DDE, HYPERLINK, injected_table

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        SOFFICE is None,
        reason="LibreOffice is not installed (apt-get install libreoffice-calc-nogui)",
    ),
]
# every sheet to its own CSV file, cells as displayed (number formats applied), UTF-8
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,UTF8,1,,0,false,true,true,false,false,-1"


def _convert(src: Path, to: str, out: Path, profile: Path) -> None:
    assert SOFFICE is not None
    out.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            to,
            "--outdir",
            str(out),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    return bundle(tmp_path_factory.mktemp("lo") / "REL", [table(), injected_table()])


@pytest.mark.parametrize("name", ["tables.xlsx", "tables.ods"])
def test_libreoffice_opens_the_workbook_and_prints_it(published, tmp_path, name):
    out = tmp_path / "pdf"
    _convert(published / name, "pdf", out, tmp_path / "profile")
    pdf = out / (Path(name).stem + ".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 2000


@pytest.mark.parametrize("name", ["tables.xlsx", "tables.ods"])
def test_libreoffice_shows_codes_as_text_and_numbers_formatted(published, tmp_path, name):
    out = tmp_path / "csv"
    _convert(published / name, CSV_FILTER, out, tmp_path / "profile")
    stem = Path(name).stem
    sheets = {p.name.removeprefix(f"{stem}-").removesuffix(".csv"): p for p in out.glob("*.csv")}
    assert set(sheets) == {"Cover", "Contents", "Notes", "turnover", "injected"}
    injected = list(csv.reader(sheets["injected"].read_text(encoding="utf-8").splitlines()))
    shown = {f for row in injected for f in row}
    for code in CODES:
        assert code in shown, code  # the text itself, not what a formula would compute
    assert "click me" not in shown  # HYPERLINK would display its friendly name
    assert HYPERLINK in shown and DDE in shown
    turnover = list(csv.reader(sheets["turnover"].read_text(encoding="utf-8").splitlines()))
    assert ["UK", "United Kingdom", "0", "1,000", "600", "400"] in turnover
    assert ["N", "North", "1", "500", "[c]", "[c]"] in turnover
