"""Reading a protected table's folder: bad files give a DataError that says what to do."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fivesafes.errors import DataError
from fivesafes.release.submission import read_table_dir

SPEC = Path(__file__).resolve().parents[2] / "examples" / "turnover.toml"
GOOD_CELLS = "region,industry,value,status\nN,01,10.5,safe\nS,01,2.0,primary\n"


def _folder(tmp_path: Path, report: bytes, cells: bytes) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "report.json").write_bytes(report)
    (folder / "cells.csv").write_bytes(cells)
    return folder


@pytest.mark.parametrize(
    ("report", "cells", "message"),
    [
        (b"{not json", GOOD_CELLS.encode(), "report.json is not valid JSON"),
        (b"\xff\xfe", GOOD_CELLS.encode(), "report.json is not valid JSON"),
        (b"[1, 2]", GOOD_CELLS.encode(), "report.json is not a JSON object"),
        (b"{}", b"", "cells.csv is not a UTF-8 CSV table"),
        (b"{}", b"region,industry\n\xff,01\n", "cells.csv is not a UTF-8 CSV table"),
        (b"{}", b"region,value,status\nN,1,safe\n", "lacks the column(s) industry"),
        (b"{}", b"region,industry,value\nN,01,1\n", "lacks the column(s) status"),
        (b"{}", b"region,industry,status\nN,01,safe\n", "lacks the column(s) value"),
    ],
)
def test_bad_files_are_a_clear_error(
    tmp_path: Path, report: bytes, cells: bytes, message: str
) -> None:
    with pytest.raises(DataError, match=re.escape(message)) as info:
        read_table_dir(_folder(tmp_path, report, cells), SPEC)
    assert "table protect" in str(info.value.hint)


def test_a_good_folder_reads(tmp_path: Path) -> None:
    table = read_table_dir(_folder(tmp_path, b"{}", GOOD_CELLS.encode()), SPEC)
    assert table.dimensions == ("region", "industry") and len(table.cells) == 2
