"""LibreOffice (headless) opens cells.csv and shows the attacker's codes as text.

Opened with formula evaluation on (as Excel opens a CSV), cells.csv as fivesafes wrote
it before shows ``click me`` for ``=HYPERLINK(...)``: the formula ran. As written now,
every such code is text. Skips, saying why, where LibreOffice is not installed
(apt-get install libreoffice-calc-nogui).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest
from test_cells_csv_injection import DDE, HYPERLINK, as_old_version, protected

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        SOFFICE is None,
        reason="LibreOffice is not installed (apt-get install libreoffice-calc-nogui)",
    ),
]
CODES = [HYPERLINK, DDE, "=1+1", "@SUM(1)", "-1", "N"]
# import: comma, double quotes, UTF-8, from line 1, ..., token 13: evaluate formulas
OPEN_EVALUATING = "CSV:44,34,76,1,,0,false,false,false,false,false,-1,true"
# export: the cells as displayed
AS_SHOWN = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false"


def shown(cells_csv: Path, tmp_path: Path) -> set[str]:
    """The code column of ``cells_csv`` as LibreOffice displays it once opened."""
    assert SOFFICE is not None
    out = tmp_path / "shown"
    done = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            f"--infilter={OPEN_EVALUATING}",
            "--convert-to",
            AS_SHOWN,
            "--outdir",
            str(out),
            str(cells_csv),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with (out / cells_csv.name).open(newline="", encoding="utf-8") as fh:
        return {row[0] for row in csv.reader(fh)}


def test_libreoffice_shows_the_codes_of_cells_csv_as_text(tmp_path: Path) -> None:
    protected(tmp_path / "new", CODES)
    cells = shown(tmp_path / "new" / "cells.csv", tmp_path / "lo-new")
    # no formula ran: each code is the text, apostrophe and all
    assert cells == {"code", "Total", *("'" + c for c in CODES[:4]), "-1", "N"}


def test_libreoffice_ran_the_formulas_of_the_earlier_cells_csv(tmp_path: Path) -> None:
    """The control: the way this test opens the file does run formulas."""
    result = protected(tmp_path / "old", CODES)
    as_old_version(tmp_path / "old", result)
    cells = shown(tmp_path / "old" / "cells.csv", tmp_path / "lo-old")
    assert "click me" in cells and "2" in cells and HYPERLINK not in cells
