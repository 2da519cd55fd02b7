"""A protected table's rows as HTML, rendered in Python rather than the template language.

The review page of a 5,000-cell table shows it twice (as published and the checker's view):
through a Jinja2 loop (the former ``table.html``) that took most of the page's time. This
renders the same markup with every value from data escaped (``html.escape``, quotes too)
after ``safe_text`` (no formula when pasted); each distinct label once for both tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from markupsafe import Markup

from fivesafes.sdc import TableView, ViewRow, entry_text, interval_text, safe_text

CHECKER_HEADS = (
    '<th scope="col">Status</th><th scope="col">Rules</th><th scope="col">Required interval</th>'
)
ACHIEVED_HEAD = '<th scope="col">Achieved interval (audit)</th>'
MARKED = {"primary": "<strong>P</strong> primary", "secondary": "<strong>S</strong> secondary"}


class _Labels:
    """Row header cells, each distinct label made safe and escaped once."""

    def __init__(self) -> None:
        self.shown: dict[str, str] = {}

    def text(self, raw: str) -> str:
        out = self.shown.get(raw)
        if out is None:
            out = self.shown[raw] = escape(safe_text(raw))
        return out

    def row_heads(self, row: ViewRow) -> str:
        text = self.text
        if len(row.labels) == 1:  # the common case, without a generator
            return f'<th scope="row" class="level-{row.levels[0]}">{text(row.labels[0])}</th>'
        return "".join(
            f'<th scope="row" class="level-{level}">{text(label)}</th>'
            for label, level in zip(row.labels, row.levels, strict=True)
        )


def _open(v: TableView, caption: str, labels: _Labels, achieved: bool) -> list[str]:
    unit = f" ({escape(v.unit)})" if v.unit else ""
    heads = "".join(f'<th scope="col">{labels.text(d)}</th>' for d in v.dimensions)
    extra = (CHECKER_HEADS + (ACHIEVED_HEAD if achieved else "")) if v.checker else ""
    return [
        '<table class="cells">\n',
        f"<caption>{escape(caption)}{unit}</caption>\n",
        f'<thead><tr>{heads}<th scope="col">Value</th>{extra}</tr></thead>\n<tbody>\n',
    ]


def _checker_cells(row: ViewRow, achieved: Mapping[tuple[str, ...], str] | None) -> str:
    status = row.status.value if row.status is not None else ""
    shown = MARKED.get(status) or escape(status)
    rules = escape(", ".join(row.rules))
    out = f"<td>{shown}</td><td>{rules}</td><td>{escape(interval_text(row.required))}</td>"
    if achieved is not None:  # fixed text or numbers, escaped all the same
        out += f'<td class="num">{escape(achieved.get(row.codes, ""))}</td>'
    return out


def cells_tables(
    views: list[tuple[TableView, str]],
    achieved: Mapping[tuple[str, ...], str] | None = None,
) -> list[Markup]:
    """Each ``(view, caption)`` as a whole ``<table class="cells">``; views of one table
    (same rows in the same order) share their row headers. ``achieved``: per cell (its
    codes), the audit's achieved interval as text, a column of the checker view."""
    labels = _Labels()
    out = [_open(v, caption, labels, achieved is not None) for v, caption in views]
    same = len({tuple(r.codes for r in v.rows) for v, _ in views}) == 1 if views else False
    if same:
        for rows in zip(*(v.rows for v, _ in views), strict=True):
            heads = labels.row_heads(rows[0])
            for (v, _), row, parts in zip(views, rows, out, strict=True):
                extra = _checker_cells(row, achieved) if v.checker else ""
                value = escape(entry_text(row))
                parts.append(f'<tr>{heads}<td class="num">{value}</td>{extra}</tr>\n')
    else:
        for (v, _), parts in zip(views, out, strict=True):
            for row in v.rows:
                extra = _checker_cells(row, achieved) if v.checker else ""
                value = escape(entry_text(row))
                parts.append(
                    f'<tr>{labels.row_heads(row)}<td class="num">{value}</td>{extra}</tr>\n'
                )
    # every value from data was escaped above
    return [Markup("".join([*parts, "</tbody>\n</table>\n"])) for parts in out]  # noqa: S704
