"""The view's model: rows in hierarchy order, statuses, the published view hiding everything."""

from __future__ import annotations

import itertools
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fivesafes.errors import DataError
from fivesafes.sdc import Hierarchy, Status, build_view, render_html, safe_text
from fivesafes.sdc.view.model import describe_level

# codes a hostile data file could carry: HTML, formulas (CSV injection), rich markup, ANSI
NASTY = (
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "+SUM(A1)",
    "@x",
    "[bold]x[/bold]",
    '"quoted" & <b>',
    "\x1b[31mred",
    "01",
    "1",
    "NA",
)


@st.composite
def hierarchies(draw: st.DrawFn, name: str) -> Hierarchy:
    """A random tree of codes (some hostile), the root first."""
    n = draw(st.integers(min_value=2, max_value=6))
    pool = [*NASTY, *(f"{name}{i}" for i in range(10))]
    codes = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n, unique=True))
    pairs: list[tuple[str, str | None]] = [(codes[0], None)]
    for i in range(1, n):
        pairs.append((codes[i], codes[draw(st.integers(min_value=0, max_value=i - 1))]))
    labels = {c: f"{c} label" for c in codes if draw(st.booleans())}
    return Hierarchy.from_pairs(name, pairs, labels)


@st.composite
def tables(draw: st.DrawFn) -> tuple[pd.DataFrame, tuple[Hierarchy, ...]]:
    """Cells of one or two dimensions, every status, some cells missing, rows shuffled."""
    dims = draw(st.integers(min_value=1, max_value=3))
    hs = tuple(draw(hierarchies(n)) for n in ("region", "industry", "size")[:dims])
    keys = list(itertools.product(*(h.codes for h in hs)))
    rows = []
    for key in keys:
        if draw(st.integers(min_value=0, max_value=9)) == 0:
            continue  # a cell missing from the cells table
        status = draw(st.sampled_from([s.value for s in Status]))
        value = draw(st.integers(min_value=0, max_value=10_000)) + 0.5
        rule = "threshold;p%(10)" if status == Status.PRIMARY.value else ""
        rows.append(
            {
                **{h.name: c for h, c in zip(hs, key, strict=True)},
                "records": 3,
                "value": value,
                "status": status,
                "rule": rule,
            }
        )
    columns = [*(h.name for h in hs), "records", "value", "status", "rule"]
    cells = pd.DataFrame(rows, columns=columns)
    order = draw(st.permutations(range(len(cells))))
    return cells.iloc[list(order)].reset_index(drop=True), hs


@settings(max_examples=60, deadline=None)
@given(tables(), st.booleans())
def test_every_cell_once_parents_first_statuses_kept(
    table: tuple[pd.DataFrame, tuple[Hierarchy, ...]], checker: bool
) -> None:
    cells, hs = table
    view = build_view("t", cells, hs, checker=checker)
    keys = [r.codes for r in view.rows]
    # every combination of codes once; exactly the cells table's cells are not missing
    assert len(keys) == len(set(keys)) == len(list(itertools.product(*(h.codes for h in hs))))
    given_keys = {tuple(str(row[h.name]) for h in hs) for _, row in cells.iterrows()}
    assert {r.codes for r in view.rows if not r.missing} == given_keys
    position = {k: i for i, k in enumerate(keys)}
    for r in view.rows:
        for d, h in enumerate(hs):
            parent = h.parent[r.codes[d]]
            if parent is not None:
                above = (*r.codes[:d], parent, *r.codes[d + 1 :])
                assert position[above] < position[r.codes]
        assert r.levels == tuple(h.depth[c] for h, c in zip(hs, r.codes, strict=True))
        assert r.labels == tuple(h.label(c) for h, c in zip(hs, r.codes, strict=True))
    truth = {
        tuple(str(row[h.name]) for h in hs): (row["status"], row["value"])
        for _, row in cells.iterrows()
    }
    for r in view.rows:
        if r.missing:
            assert r.hidden and r.status is None and (r.value is None or checker)
            continue
        status, value = truth[r.codes]
        assert r.hidden == (status != Status.SAFE.value)
        if checker:
            assert r.status == Status(status) and r.value == value
            assert r.rules == (("threshold", "p%(10)") if status == "primary" else ())
        else:
            # the published view carries no hidden value, no status, no rule
            assert r.status is None and r.rules == () and r.required is None
            assert r.value == (None if r.hidden else value)


@settings(max_examples=60, deadline=None)
@given(tables(), st.booleans())
def test_html_escapes_every_code(
    table: tuple[pd.DataFrame, tuple[Hierarchy, ...]], checker: bool
) -> None:
    cells, hs = table
    page = render_html(build_view("<script>name</script>", cells, hs, checker=checker))
    assert "<script" not in page
    assert "<b>" not in page
    assert "\x1b" not in page
    # a formula-like code reaches the page only behind an apostrophe (escaped by HTML)
    for formula in ("=cmd", "+SUM", "@x"):
        for m in re.finditer(re.escape(formula), page):
            before = page[: m.start()]
            assert before.endswith(("&#39;", "&#x27;")), page[m.start() - 20 : m.end()]
    assert "src=" not in page and "href=" not in page  # nothing fetched from outside


@settings(max_examples=40, deadline=None)
@given(tables())
def test_loss_per_level_adds_up(table: tuple[pd.DataFrame, tuple[Hierarchy, ...]]) -> None:
    cells, hs = table
    loss = build_view("t", cells, hs, checker=True).loss
    assert loss is not None
    assert loss.cells == len(cells) == sum(lv.cells for lv in loss.levels)
    hidden = int((cells["status"] != Status.SAFE.value).sum())
    assert loss.hidden == hidden == sum(lv.hidden for lv in loss.levels)
    assert loss.primary + loss.secondary == hidden
    assert len(loss.sentences()) == 1 + len(loss.levels)


def test_loss_in_plain_words() -> None:
    h = Hierarchy.from_pairs("region", [("T", None), ("N", "T"), ("S", "T")])
    cells = pd.DataFrame(
        {
            "region": ["T", "N", "S"],
            "value": [100.0, 30.0, 70.0],
            "status": ["safe", "primary", "secondary"],
            "rule": ["", "threshold", ""],
        }
    )
    loss = build_view("t", cells, (h,), checker=True).loss
    assert loss is not None
    assert loss.sentences() == (
        "2 of 3 cells are hidden (66.7%): 1 primary (disclosive themselves) and 1 secondary "
        "(hidden so that the primary ones cannot be worked out from totals).",
        "Region total: nothing hidden (1 cell).",
        "Region level 1: 2 of 2 cells hidden (100.0%), 100.0% of the grand total's value.",
    )
    assert loss.leaf_share_of_total() == 1.0


def test_an_unknown_status_is_hidden() -> None:
    h = Hierarchy.from_pairs("region", [("T", None), ("N", "T")])
    cells = pd.DataFrame({"region": ["T", "N"], "value": [5.0, 5.0], "status": ["safe", "odd"]})
    rows = build_view("t", cells, (h,)).rows
    assert [r.hidden for r in rows] == [False, True] and rows[1].value is None


def test_words() -> None:
    assert describe_level((0, 2), ("region", "industry")) == "region total x industry level 2"
    assert safe_text("=1+1") == "'=1+1" and safe_text("-1") == "-1"
    assert safe_text("a\x1b[31mb") == "a\ufffd[31mb"


@pytest.mark.parametrize(
    "mark", ["\u202e", "\u202d", "\u2066", "\u2067", "\u2069", "\u200f", "\u061c"]
)
def test_bidi_controls_in_a_label_are_replaced(mark: str) -> None:
    # a right-to-left override in a label would reverse what follows it on the line (the
    # value column of a terminal row: "[c]" read as "]c[", 1,234 as 432,1), as in Trojan
    # Source; the letters of a right-to-left script are kept
    assert safe_text(f"North{mark} 1,234") == "North\ufffd 1,234"
    assert safe_text("\u0634\u0645\u0627\u0644") == "\u0634\u0645\u0627\u0644"


def test_a_perturbed_table_shows_its_published_values() -> None:
    h = Hierarchy.from_pairs("region", [("T", None), ("N", "T"), ("S", "T")])
    cells = pd.DataFrame(
        {
            "region": ["T", "N", "S"],
            "value": [100.0, 31.0, 69.0],
            "published": [100.0, 30.0, 70.0],
            "status": ["safe", "safe", "safe"],
        }
    )
    assert [r.value for r in build_view("t", cells, (h,)).rows] == [100.0, 30.0, 70.0]
    checker = build_view("t", cells, (h,), checker=True).rows
    assert [(r.value, r.published_value) for r in checker] == [
        (100.0, 100.0),
        (31.0, 30.0),
        (69.0, 70.0),
    ]


def test_cells_without_a_status_are_refused() -> None:
    h = Hierarchy.from_pairs("region", [("T", None), ("N", "T")])
    with pytest.raises(DataError, match=r"no column\(s\) \['status'\]"):
        build_view("t", pd.DataFrame({"region": ["T", "N"], "value": [1.0, 1.0]}), (h,))
