"""Hierarchy files: unreadable ones are a clear HierarchyError."""

from __future__ import annotations

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
