"""A protected table's rows as HTML, rendered in Python rather than the template language.

The review page of a 5,000-cell table shows it twice (as published and the checker's view):
through a Jinja2 loop (the former ``table.html``) that took most of the page's time. This
renders the same markup with every value from data escaped (``markupsafe.escape``) after
``safe_text`` (no formula when pasted), each distinct label once.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from fivesafes.sdc import entry_text, interval_text, safe_text
from fivesafes.sdc.view.model import TableView


def cells_table(v: TableView, caption: str) -> Markup:
    """The whole ``<table class="cells">`` of view ``v`` with ``caption``."""
    shown: dict[str, str] = {}

    def label(text: str) -> str:
        out = shown.get(text)
        if out is None:
            out = shown[text] = str(escape(safe_text(text)))
        return out

    unit = f" ({escape(v.unit)})" if v.unit else ""
    heads = "".join(f'<th scope="col">{label(d)}</th>' for d in v.dimensions)
    extra = (
        '<th scope="col">Status</th><th scope="col">Rules</th>'
        '<th scope="col">Required interval</th>'
        if v.checker
        else ""
    )
    parts = [
        '<table class="cells">\n',
        f"<caption>{escape(caption)}{unit}</caption>\n",
        f'<thead><tr>{heads}<th scope="col">Value</th>{extra}</tr></thead>\n<tbody>\n',
    ]
    append = parts.append
    for row in v.rows:
        cells = "".join(
            f'<th scope="row" class="level-{level}">{label(text)}</th>'
            for text, level in zip(row.labels, row.levels, strict=True)
        )
        value = escape(entry_text(row))
        if not v.checker:
            append(f'<tr>{cells}<td class="num">{value}</td></tr>\n')
            continue
        status = str(escape(row.status.value)) if row.status is not None else ""
        if status == "primary":
            status = "<strong>P</strong> primary"
        elif status == "secondary":
            status = "<strong>S</strong> secondary"
        rules = escape(", ".join(row.rules))
        need = escape(interval_text(row.required))
        append(
            f'<tr>{cells}<td class="num">{value}</td><td>{status}</td>'
            f"<td>{rules}</td><td>{need}</td></tr>\n"
        )
    append("</tbody>\n</table>\n")
    return Markup("".join(parts))  # noqa: S704 (every value from data escaped above)
