"""sdcTable / sdcHierarchies hierarchy data frames saved as CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from fivesafes.errors import HierarchyError
from fivesafes.sdc.formats.hierarchies import detect_format, load_hierarchy
from fivesafes.sdc.formats.sdchier import parse_sdc, sdc_text
from fivesafes.sdc.hierarchy import Hierarchy


def test_hier_convert_df_is_read():
    h = parse_sdc("region", "level,name\n@,Total\n@@,A\n@@@,a1\n@@@,a2\n@@,B\n")
    assert h.root == "Total" and h.codes == ("Total", "A", "a1", "a2", "B")
    assert h.parent["a2"] == "A"


def test_write_csv_row_names_and_sdctable_column_names_are_recognised(tmp_path: Path):
    # R's write.csv keeps row names unless told not to; sdcTable's examples say levels/codes
    path = tmp_path / "region.csv"
    path.write_text('"","levels","codes"\n"1","@","Total"\n"2","@@","01"\n"3","@@","1"\n')
    assert detect_format(path) == "sdc"
    h = load_hierarchy("region", path)
    assert h.leaves == ("01", "1")  # codes stay text


def test_written_as_hier_convert_df():
    h = Hierarchy.from_pairs("d", [("Total", None), ("A", "Total"), ("a1", "A")])
    assert sdc_text(h) == "level,name\n@,Total\n@@,A\n@@@,a1\n"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("level,name\n@@,A\n", "must be the total"),
        ("level,name\n@,T\n@,U\n", "a second total"),
        ("level,name\n@,T\n@@@,A\n", "skips a level"),
        ("level,name\n@,T\n#,A\n", "not a string of '@'"),
        ("level,name\n@,T\n@@,A\n@@,A\n", "appears twice"),
        ("code,label\nA,x\n", "no 'level' and 'name' columns"),
    ],
)
def test_a_broken_data_frame_says_which_line_and_why(text, match):
    with pytest.raises(HierarchyError, match=match):
        parse_sdc("d", text)
