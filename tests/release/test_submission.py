"""Reading a protected table's folder: bad files give a DataError that says what to do."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from fivesafes.errors import DataError
from fivesafes.release.submission import read_table_dir, sha256, table_of_files, table_of_result
from fivesafes.sdc.pipeline import tables

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


def test_a_protected_table_round_trips_through_the_files_of_a_stored_output() -> None:
    data = pd.DataFrame(
        {
            "region": ["E12000001", "E12000002", "E12000002", "E12000001"],
            "industry": ["01", "01", "02", "02"],
            "enterprise_id": ["e1", "e2", "e3", "e4"],
            "group_id": ["g1", "g2", "g3", "g4"],
            "size_band": ["0-49"] * 4,
            "turnover": [10.0, 20.0, 30.0, 40.0],
            "w": [1.0] * 4,
        }
    )
    result = tables(SPEC, data, secondary="none")
    made = table_of_result(result, source={"kind": "dataset", "dataset": "survey"})
    assert made.report["source"]["dataset"] == "survey" and made.measure == "turnover"
    assert made.files == {n: sha256(b) for n, b in made.to_files().items()}
    back = table_of_files(made.to_files())
    assert back == made
    assert back.hierarchies == tuple(result.hierarchies)
    assert back.cells.equals(made.cells) and (back.cells["status"] == "primary").any()
    with pytest.raises(DataError, match="not a protected table"):
        table_of_files({"cells.csv": b""})
