"""The table as people read it: order, indentation, [c] for hidden cells, blocks."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fivesafes.sdc.cells import CONFIDENTIAL_SYMBOL
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.outputs.presentation import NOT_AVAILABLE_SYMBOL, format_number, present

REGION = Hierarchy.from_pairs(
    "region", [("UK", None), ("E", "UK"), ("E1", "E"), ("E2", "E"), ("W", "UK")]
)
INDUSTRY = Hierarchy.flat("industry", ["1", "01"])  # two different codes
SIZE = Hierarchy.flat("size", ["small", "large"], total="all")


def grid(hierarchies: list[Hierarchy], hidden: set[tuple[str, ...]] = frozenset()) -> pd.DataFrame:
    rows = []
    for i, combo in enumerate(itertools.product(*(h.codes for h in hierarchies))):
        rows.append(
            {
                **{h.name: c for h, c in zip(hierarchies, combo, strict=True)},
                "value": float(i) + 0.5 * (i % 2),
                "status": "primary" if combo in hidden else "safe",
            }
        )
    return pd.DataFrame(rows)


def test_two_dimensions_rows_follow_the_hierarchy_and_indent() -> None:
    cells = grid([REGION, INDUSTRY], hidden={("E1", "01")})
    view = present("t", cells, ["region", "industry"], [REGION, INDUSTRY])
    (block,) = view.blocks
    assert block.title == ""
    assert block.row_codes == ("UK", "E", "E1", "E2", "W")
    assert [block.row_label(i) for i in range(5)] == ["UK", "  E", "    E1", "    E2", "  W"]
    assert block.column_codes == ("Total", "01", "1")
    e1 = block.rows[2]
    assert [c.text() for c in e1].count(CONFIDENTIAL_SYMBOL) == 1
    assert e1[block.column_codes.index("01")].symbol == CONFIDENTIAL_SYMBOL
    # a safe cell shows its own value
    expected = cells.set_index(["region", "industry"]).loc[("E1", "1"), "value"]
    assert e1[block.column_codes.index("1")].value == expected


def test_more_than_two_dimensions_give_one_block_per_combination() -> None:
    cells = grid([REGION, INDUSTRY, SIZE])
    view = present("t", cells, ["region", "industry", "size"], [REGION, INDUSTRY, SIZE])
    assert [b.title for b in view.blocks] == ["size = all", "size = large", "size = small"]
    lookup = cells.set_index(["region", "industry", "size"])["value"]
    block = view.blocks[1]
    assert block.rows[0][0].value == lookup[("UK", "Total", "large")]


def test_one_dimension_is_a_single_column() -> None:
    view = present("t", grid([REGION]), ["region"], [REGION])
    (block,) = view.blocks
    assert block.column_dimension == ""
    assert len(block.rows) == 5 and all(len(r) == 1 for r in block.rows)


def test_unknown_status_is_hidden_and_missing_cells_are_marked() -> None:
    cells = grid([REGION, INDUSTRY])
    cells.loc[0, "status"] = "something-new"
    cells = cells.iloc[:-1]  # drop (W, 1)
    (block,) = present("t", cells, ["region", "industry"], [REGION, INDUSTRY]).blocks
    assert block.rows[0][0].symbol == CONFIDENTIAL_SYMBOL
    assert block.rows[-1][-1].text() == NOT_AVAILABLE_SYMBOL


def test_format_number() -> None:
    assert format_number(1200.0) == "1200"
    assert format_number(3.14159) == "3.14"
    assert format_number(2.0, decimals=1) == "2.0"


def test_mismatched_hierarchies_are_rejected() -> None:
    with pytest.raises(ValueError, match="one hierarchy per dimension"):
        present("t", grid([REGION]), ["region", "industry"], [REGION])


@settings(max_examples=40, deadline=None)
@given(st.sets(st.tuples(st.sampled_from(REGION.codes), st.sampled_from(INDUSTRY.codes))))
def test_exactly_the_hidden_cells_show_c(hidden: set[tuple[str, str]]) -> None:
    cells = grid([REGION, INDUSTRY], hidden=hidden)
    (block,) = present("t", cells, ["region", "industry"], [REGION, INDUSTRY]).blocks
    shown = {
        (r, c)
        for r, row in zip(block.row_codes, block.rows, strict=True)
        for c, cell in zip(block.column_codes, row, strict=True)
        if cell.symbol == CONFIDENTIAL_SYMBOL
    }
    assert shown == hidden
