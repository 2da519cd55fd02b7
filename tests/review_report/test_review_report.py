"""The periodic review report: charts, periods and both renderings (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from fivesafes.governance.review import (
    CATEGORIES,
    GrantFact,
    ProjectFact,
    ReviewFacts,
    TrainingFact,
    review,
)
from fivesafes.review_report import due_periods, render_html, render_markdown
from fivesafes.review_report.chart import Bar, bar_length, svg_bar_chart, text_bar_chart

TODAY = date(2026, 6, 15)
AT = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Totals:
    audit_events: int = 7
    audit_head: str = "ab" * 32

    def as_rows(self) -> list[tuple[str, int | str]]:
        return [("Active people", 3)]


@given(value=st.integers(0, 10_000), largest=st.integers(0, 10_000), width=st.integers(1, 500))
def test_bar_length_is_bounded_and_shows_any_positive_value(
    value: int, largest: int, width: int
) -> None:
    length = bar_length(min(value, largest), largest, width)
    assert 0 <= length <= width
    assert (length > 0) is (min(value, largest) > 0)


@given(a=st.integers(0, 1000), b=st.integers(0, 1000))
def test_bar_length_is_monotone(a: int, b: int) -> None:
    largest = max(a, b, 1)
    assert (bar_length(a, largest) <= bar_length(b, largest)) is (
        a <= b or bar_length(a, largest) == bar_length(b, largest)
    )


def test_svg_escapes_labels_and_draws_one_bar_each() -> None:
    svg = svg_bar_chart([Bar("<script>x</script>", 3), Bar("b & c", 0)], "t<itle")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "b &amp; c" in svg
    assert svg.count("<rect") == 2 and svg.startswith("<svg") and svg.endswith("</svg>")
    assert text_bar_chart([Bar("a", 2), Bar("bb", 1)]).splitlines()[1].startswith("bb |")


def _facts(offsets: list[int]) -> ReviewFacts:
    return ReviewFacts(
        grants=tuple(
            GrantFact(
                str(i),
                f"p{i}",
                True,
                "earnings",
                TODAY - timedelta(days=400),
                TODAY + timedelta(days=o),
            )
            for i, o in enumerate(offsets)
        )
    )


@given(offsets=st.lists(st.integers(-30, 400), max_size=20), within=st.integers(0, 400))
def test_due_periods_cover_the_window_and_count_every_due_finding(
    offsets: list[int], within: int
) -> None:
    result = review(_facts(offsets), TODAY, within)
    bars = due_periods(result)
    in_window = sum(
        1
        for f in result.findings
        if f.due is not None and TODAY <= f.due <= TODAY + timedelta(days=within)
    )
    assert sum(b.value for b in bars) == in_window
    assert 1 <= len(bars) <= max(14, within // 30 + 1)
    assert bars[0].label.startswith(TODAY.isoformat())
    assert bars[-1].label.endswith((TODAY + timedelta(days=within)).isoformat())


def _result() -> object:
    facts = ReviewFacts(
        grants=(GrantFact("9", "lee", False, "earnings", TODAY, TODAY + timedelta(days=5)),),
        training=(TrainingFact("ann", "Course | <b>risky</b>", None),),
        projects=(ProjectFact("P1", "rita", TODAY - timedelta(days=2)),),
    )
    return review(facts, TODAY, 30)


class _Checker(HTMLParser):
    VOID = frozenset({"meta", "br", "img", "hr", "input", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.scripts += tag == "script"
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def test_html_is_well_formed_escaped_and_self_contained() -> None:
    html = render_html(_result(), Totals(), reviewer="admin", generated_at=AT)  # type: ignore[arg-type]
    checker = _Checker()
    checker.feed(html)
    assert checker.stack == ["html"] or checker.stack == []
    assert checker.scripts == 0 and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "&lt;b&gt;risky&lt;/b&gt;" in html and "<b>risky" not in html
    assert html.count("<svg") == 2  # figure 1 and figure 2
    for info in CATEGORIES.values():
        assert info.title in html


def test_markdown_tables_survive_pipes_and_html() -> None:
    md = render_markdown(_result(), Totals(), reviewer="admin", generated_at=AT)  # type: ignore[arg-type]
    row = next(line for line in md.splitlines() if "risky" in line)
    assert "Course \\| &lt;b&gt;risky" in row
    # every table row has the same number of unescaped pipes as its header
    for line in md.splitlines():
        if line.startswith("| ann |"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 6
    assert "Figure 2" in md and "2026-06-15" in md and "`" + "ab" * 32 + "`" in md
