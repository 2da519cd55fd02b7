"""Hierarchy files: unreadable ones are a clear HierarchyError."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from fivesafes.errors import HierarchyError
from fivesafes.sdc.hierarchy import Hierarchy


def test_a_hierarchy_file_that_is_not_utf8_is_a_hierarchy_error(tmp_path: Path) -> None:
    # regression: a Latin-1 file escaped as UnicodeDecodeError
    path = tmp_path / "region.csv"
    path.write_bytes(b"code,parent\nTotal,\n\xe9A,Total\n")
    with pytest.raises(HierarchyError, match="UTF-8") as caught:
        Hierarchy.from_csv("region", path)
    assert caught.value.hint


def test_a_utf8_hierarchy_with_a_bom_keeps_its_codes(tmp_path: Path) -> None:
    path = tmp_path / "region.csv"
    path.write_text("\ufeffcode,parent\nTotal,\n01,Total\n1,Total\n", encoding="utf-8")
    h = Hierarchy.from_csv("region", path)
    assert h.root == "Total" and h.leaves == ("01", "1")


def test_labels_are_read_from_an_optional_label_column(tmp_path: Path) -> None:
    path = tmp_path / "region.csv"
    path.write_text("code,parent,label\nUK,,United Kingdom\nN,UK,North\nS,UK,\n")
    h = Hierarchy.from_csv("region", path)
    assert h.label("UK") == "United Kingdom" and h.label("N") == "North"
    assert h.label("S") == "S"  # no label: the code is shown
    # labels are presentation only: the same tree with other labels is the same hierarchy
    assert h == Hierarchy.from_pairs("region", [("UK", None), ("N", "UK"), ("S", "UK")])


def test_an_empty_hierarchy_file_says_it_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "region.csv"
    path.write_bytes(b"")
    with pytest.raises(HierarchyError, match=r"is empty \(0 bytes\)"):
        Hierarchy.from_csv("region", path)


@pytest.mark.parametrize("code", ["N\nS", "N\tS", "\x1b[31mN", "N\u202eS", "N\x9bS"])
def test_a_code_with_a_control_character_is_refused_naming_it(tmp_path: Path, code: str) -> None:
    # a newline breaks tau-Argus' line-based .hrc and .tab, an escape the terminal and the
    # spreadsheet, a direction override what a checker reads
    from fivesafes.sdc import load_hierarchy

    path = tmp_path / "region.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["code", "parent"], ["UK", ""], [code, "UK"], ["W", "UK"]])
    with pytest.raises(HierarchyError) as err:
        load_hierarchy("region", path)
    assert repr(code) in err.value.message and "control characters" in err.value.message
    assert "hierarchy file" in (err.value.hint or "")


def test_a_label_with_a_control_character_is_refused(tmp_path: Path) -> None:
    from fivesafes.sdc import load_hierarchy

    path = tmp_path / "region.csv"
    path.write_text('code,parent,label\nUK,,United Kingdom\nN,UK,"North\x1b[2J"\n')
    with pytest.raises(HierarchyError, match="labels of 1 code"):
        load_hierarchy("region", path)
