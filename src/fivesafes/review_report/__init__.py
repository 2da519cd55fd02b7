"""The periodic review report (T6.5): one dated document in markdown and in HTML.

Pure rendering: findings and register totals in, text out. Jinja2 templates live
in ``templates/``; charts are drawn by :mod:`fivesafes.review_report.chart`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from fivesafes.governance.review import CATEGORIES, Category, ReviewResult, Severity
from fivesafes.review_report.chart import Bar, svg_bar_chart, text_bar_chart

TEMPLATES = Path(__file__).with_name("templates")
SEVERITY_COLOURS = {
    Severity.NOTICE: "#4a6fa5",
    Severity.ACTION: "#d08c1f",
    Severity.URGENT: "#b3261e",
}
SEVERITY_WORDS = {
    Severity.NOTICE: "notice: falls due within the window",
    Severity.ACTION: "action: overdue or lapsed",
    Severity.URGENT: "urgent: access still held that should not be",
}

__all__ = ["render_html", "render_markdown", "report_context"]


class Totals(Protocol):
    """What the report needs to know about the size of the register."""

    @property
    def audit_events(self) -> int:
        """Number of audit events when the review was taken."""
        ...

    @property
    def audit_head(self) -> str:
        """Hash of the last audit event when the review was taken."""
        ...

    def as_rows(self) -> list[tuple[str, int | str]]:
        """(label, value) pairs in display order."""
        ...


def _environment(autoescape: bool) -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        # Markdown is not HTML: its cells are escaped by the ``cell`` filter instead.
        autoescape=select_autoescape(["html.j2"]) if autoescape else False,  # noqa: S701
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _bars(result: ReviewResult) -> list[Bar]:
    counts = result.counts()
    return [
        Bar(CATEGORIES[c].title, counts[c], SEVERITY_COLOURS[CATEGORIES[c].severity])
        for c in Category
    ]


MAX_PERIODS = 13  # weeks up to a quarter; beyond that, 30-day periods


def due_periods(result: ReviewResult) -> list[Bar]:
    """Findings falling due in the window, counted per 7-day (or 30-day) period from as_of."""
    step = 7 if result.within_days <= 7 * MAX_PERIODS else 30
    horizon = result.as_of + timedelta(days=result.within_days)
    starts: list[date] = []
    start = result.as_of
    while start <= horizon:
        starts.append(start)
        start += timedelta(days=step)
    bars = []
    for first in starts:
        last = min(first + timedelta(days=step - 1), horizon)
        n = sum(1 for f in result.findings if f.due is not None and first <= f.due <= last)
        bars.append(Bar(f"{first.isoformat()} to {last.isoformat()}", n))
    return bars


def _md_cell(text: object) -> str:
    # A pipe or newline would break the table; raw HTML would be passed through by renderers.
    value = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value.replace("|", "\\|").replace("\n", " ")


def report_context(
    result: ReviewResult, totals: Totals, *, reviewer: str, generated_at: datetime
) -> dict[str, Any]:
    """Everything both templates show, as plain values."""
    counts = result.counts()
    sections = []
    for category in Category:
        info = CATEGORIES[category]
        sections.append(
            {
                "key": category.value,
                "title": info.title,
                "severity": info.severity.name.lower(),
                "remedy": info.remedy,
                "count": counts[category],
                "findings": [
                    {
                        "subject": f.subject,
                        "item": f.item,
                        "due": f.due.isoformat() if f.due else "",
                        "days": "" if f.days is None else f.days,
                        "detail": f.detail,
                    }
                    for f in result.by_category(category)
                ],
            }
        )
    by_severity = [
        {
            "name": severity.name.lower(),
            "meaning": SEVERITY_WORDS[severity],
            "count": sum(1 for f in result.findings if f.severity is severity),
        }
        for severity in sorted(Severity, reverse=True)
    ]
    worst = result.worst()
    bars = _bars(result)
    due = due_periods(result)
    return {
        "as_of": result.as_of.isoformat(),
        "within_days": result.within_days,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "reviewer": reviewer,
        "total": len(result.findings),
        "worst": worst.name.lower() if worst else "none",
        "by_severity": by_severity,
        "sections": sections,
        "totals": totals.as_rows(),
        "audit_events": totals.audit_events,
        "audit_head": totals.audit_head,
        "svg_chart": svg_bar_chart(bars, "Findings by category"),
        "text_chart": text_bar_chart(bars),
        "due_total": sum(b.value for b in due),
        "svg_due_chart": svg_bar_chart(due, "Findings falling due, by period") if due else "",
        "text_due_chart": text_bar_chart(due),
    }


def render_markdown(
    result: ReviewResult, totals: Totals, *, reviewer: str, generated_at: datetime
) -> str:
    """The review report as markdown."""
    env = _environment(autoescape=False)
    env.filters["cell"] = _md_cell
    context = report_context(result, totals, reviewer=reviewer, generated_at=generated_at)
    return env.get_template("review.md.j2").render(**context)


def render_html(
    result: ReviewResult, totals: Totals, *, reviewer: str, generated_at: datetime
) -> str:
    """The review report as a self-contained HTML page (inline SVG chart, no scripts)."""
    from markupsafe import Markup

    context = report_context(result, totals, reviewer=reviewer, generated_at=generated_at)
    # The SVG is built from html.escape()d parts in chart.py, so it is safe markup.
    context["svg_chart"] = Markup(context["svg_chart"])  # noqa: S704
    context["svg_due_chart"] = Markup(context["svg_due_chart"])  # noqa: S704
    return _environment(autoescape=True).get_template("review.html.j2").render(**context)
