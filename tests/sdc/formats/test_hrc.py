"""tau-Argus .hrc hierarchy files: read, written, and a round trip that loses nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fivesafes.errors import HierarchyError
from fivesafes.sdc.formats.hierarchies import hierarchy_text, load_hierarchy
from fivesafes.sdc.formats.hrc import hrc_text, parse_hrc
from fivesafes.sdc.hierarchy import Hierarchy

HRC = "N\n@N1\n@N2\n@@N2a\nS\n"


def test_an_hrc_file_is_read_under_its_total():
    h = parse_hrc("region", HRC, total_code="UK")
    assert h.root == "UK"
    assert h.codes == ("UK", "N", "N1", "N2", "N2a", "S")
    assert h.parent["N2a"] == "N2" and h.parent["S"] == "UK"
    assert h.depth["N2a"] == 3


def test_padded_codes_and_blank_lines_as_sdchierarchies_writes_them():
    # hier_convert(as = "argus") pads the marker and right-justifies the codes
    h = parse_hrc("region", "    N\n@  N1\n\n@  N2\n    S\n", total_code="Total")
    assert h.codes == ("Total", "N", "N1", "N2", "S")


def test_written_as_tau_argus_expects():
    h = Hierarchy.from_pairs(
        "region", [("UK", None), ("N", "UK"), ("N1", "N"), ("N2", "N"), ("N2a", "N2"), ("S", "UK")]
    )
    assert hrc_text(h) == HRC


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("@N1\n", "it is the first code"),
        ("N\n@@N1\n", "the code before it has 0"),
        ("N\nN\n", "appears twice"),
        ("N\n@\n", "no code after"),
        ("Total\n", "the total code 'Total' is listed"),
    ],
)
def test_a_broken_hrc_file_says_which_line_and_why(text, match):
    with pytest.raises(HierarchyError, match=match) as caught:
        parse_hrc("d", text)
    assert "line" in caught.value.message


def test_a_code_that_cannot_be_written_is_refused():
    h = Hierarchy.from_pairs("d", [("T", None), ("@x", "T")])
    with pytest.raises(HierarchyError, match="cannot be written"):
        hrc_text(h)


def test_load_hierarchy_reads_hrc_by_suffix_with_the_spec_total(tmp_path: Path):
    path = tmp_path / "region.hrc"
    path.write_text(HRC)
    h = load_hierarchy("region", path, total_code="UK")
    assert h.root == "UK" and len(h.codes) == 6
    latin = tmp_path / "latin.hrc"
    latin.write_bytes(b"Z\xfcrich\n")
    with pytest.raises(HierarchyError, match="not UTF-8"):
        load_hierarchy("region", latin)


CODE = st.text(
    alphabet=st.characters(categories=["L", "N"], include_characters="_-."), min_size=1, max_size=6
)


@st.composite
def hierarchies(draw):
    codes = draw(
        st.lists(CODE, min_size=1, max_size=25, unique=True).filter(lambda c: "T" not in c)
    )
    pairs: list[tuple[str, str | None]] = [("T", None)]
    placed = ["T"]
    for code in codes:
        pairs.append((code, draw(st.sampled_from(placed))))
        placed.append(code)
    return Hierarchy.from_pairs("d", pairs)


@settings(max_examples=60, deadline=None)
@given(hierarchies())
def test_hrc_and_sdc_round_trip(h):
    back = parse_hrc("d", hrc_text(h), total_code="T")
    assert back.parent == h.parent and back.order == h.order
    from fivesafes.sdc.formats.sdchier import parse_sdc, sdc_text

    again = parse_sdc("d", sdc_text(h))
    assert again.parent == h.parent and again.order == h.order


def test_convert_csv_to_hrc_and_back_keeps_the_tree(tmp_path: Path):
    src = Path(__file__).resolve().parents[3] / "examples" / "region.csv"
    h = load_hierarchy("region", src)
    hrc = tmp_path / "region.hrc"
    hrc.write_text(hierarchy_text(h, "hrc"))
    back = load_hierarchy("region", hrc, total_code=h.root)
    assert back.parent == h.parent and back.order == h.order
