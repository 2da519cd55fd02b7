"""A view as one self-contained HTML page: inline style, no script, no external asset.

Everything from the table (codes, labels, rules, the name) is escaped by Jinja2's
autoescape, and code-like text that a spreadsheet would run when pasted gets a leading
apostrophe (:func:`safe_text`). The function returns the page; writing it is the
caller's business.
"""

from __future__ import annotations

from html import escape
from typing import Any

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from fivesafes.sdc.view import text
from fivesafes.sdc.view.model import TableView

_ENV = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)

_TEMPLATE = _ENV.from_string(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #0b0c0c; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border-bottom: 1px solid #b1b4b6; padding: 0.25rem 0.6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.primary td { background: #f6d7d2; }
tr.secondary td { background: #fff2cc; }
tr.unprotected td { outline: 2px solid #d4351c; }
.code { color: #505a5f; font-size: 0.85em; }
.banner { background: #d4351c; color: #fff; padding: 0.5rem 1rem; font-weight: bold; }
caption { text-align: left; font-weight: bold; }
</style>
</head>
<body>
{% if view.checker %}
<p class="banner">CONFIDENTIAL: the checker's view shows the true value of every hidden cell.
Keep it inside the restricted area.</p>
{% endif %}
<h1>{{ title }}</h1>
{% if view.checker %}
<p>{{ view.audit }}</p>
{% else %}
<p>[c] = confidential: withheld to protect the confidentiality of a contributor.
[x] = not available. Totals include the hidden cells.</p>
{% endif %}
{% for note in notes %}<p>Note: {{ note }}</p>
{% endfor %}
{% if loss %}
<h2>Information lost</h2>
<ul>
{% for sentence in loss %}<li>{{ sentence }}</li>
{% endfor %}
</ul>
{% endif %}
{% if suggestions %}
<h2>Coarser tables, those that hide least first</h2>
<p>Each was protected (and audited) within its share of the time budget: a full run may
hide less.</p>
<table>
<thead><tr><th>Table</th><th>Cells</th><th>Hidden</th><th>Share hidden</th>
<th>Share of the total hidden (most detailed cells)</th><th>Method</th><th>Seconds</th></tr></thead>
<tbody>
{% if current %}<tr><th scope="row">this table, as protected</th>
<td class="num">{{ current.cells }}</td>
<td class="num">{{ current.hidden }}</td><td class="num">{{ current.share }}</td>
<td class="num">{{ current.value_share }}</td><td></td><td></td></tr>{% endif %}
{% for s in suggestions %}
<tr><td>{{ s.description }}</td>
{% if s.error %}<td colspan="6">{{ s.error }}</td>
{% else %}<td class="num">{{ s.cells }}</td><td class="num">{{ s.hidden }}</td>
<td class="num">{{ s.share }}</td><td class="num">{{ s.value_share }}</td>
<td>{{ s.method }}</td><td class="num">{{ s.seconds }}</td>{% endif %}</tr>
{% endfor %}
</tbody>
</table>
{% endif %}
<table>
<caption>{{ title }}</caption>
<thead><tr>{% for h in header %}<th scope="col">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{{ rows }}
</tbody>
</table>
</body>
</html>
"""
)


def render_html(view: TableView) -> str:
    """The view as a self-contained HTML page (a string)."""
    unit = f" ({text.safe_text(view.unit)})" if view.unit else ""
    header = [text.safe_text(d) for d in view.dimensions] + [f"value{unit}"]
    if view.checker:
        header += ["status", "rule", "required interval", "attacker's interval"]
    return _TEMPLATE.render(
        view=view,
        title=text.safe_text(view.name) + (" (checker's view)" if view.checker else ""),
        header=header,
        rows=_rows(view),
        loss=[text.safe_text(x) for x in view.loss.sentences()] if view.loss is not None else (),
        suggestions=[_suggestion(s) for s in view.suggestions],
        notes=[text.safe_text(n) for n in view.notes],
        current=_current(view),
    )


def _rows(view: TableView) -> Markup:
    """Every table row, built here rather than in the template (a 150,000-row page in
    seconds): each piece of text through ``html.escape``, each code's cell made once."""
    code_cells: dict[tuple[str, str, int], str] = {}

    def code_cell(code: str, label: str, depth: int) -> str:
        key = (code, label, depth)
        if key not in code_cells:
            shown = escape(text.safe_text(label))
            if code != label:
                shown += f' <span class="code">{escape(text.safe_text(code))}</span>'
            code_cells[key] = f'<td style="padding-left: {0.6 + depth}em">{shown}</td>'
        return code_cells[key]

    out: list[str] = []
    for r in view.rows:
        css = ""
        if view.checker and r.status is not None:
            css = r.status.value + (" unprotected" if r.protected is False else "")
        out.append(f'<tr class="{css}">')
        out.extend(
            code_cell(c, lab, int(d)) for c, lab, d in zip(r.codes, r.labels, r.levels, strict=True)
        )
        out.append(f'<td class="num">{escape(text.entry(r))}</td>')
        if view.checker:
            status = "" if r.status is None else r.status.value
            out.append(
                f"<td>{escape(status)}</td><td>{escape(text.safe_text('; '.join(r.rules)))}</td>"
                f'<td class="num">{escape(text.interval(r.required))}</td>'
                f'<td class="num">{escape(text.interval(r.achieved))}</td>'
            )
        out.append("</tr>\n")
    # every piece above is escaped text or fixed markup: the whole is safe to insert
    return Markup("".join(out))  # noqa: S704


def _suggestion(s: Any) -> dict[str, Any]:
    return {
        "description": text.safe_text(s.description),
        "error": text.safe_text(s.error),
        "cells": f"{s.cells:,}",
        "hidden": f"{s.hidden:,}",
        "share": text.percent(s.share_hidden),
        "value_share": text.percent(s.value_share_hidden),
        "method": s.method,
        "seconds": f"{s.seconds:.1f}",
    }


def _current(view: TableView) -> dict[str, str] | None:
    if view.loss is None:
        return None
    return {
        "cells": f"{view.loss.cells:,}",
        "hidden": f"{view.loss.hidden:,}",
        "share": text.percent(view.loss.share_hidden),
        "value_share": text.percent(view.loss.leaf_share_of_total()),
    }
