"""A protected table as people see it: the published view and the output checker's view.

``model`` (the view: rows in hierarchy order, from ``rows``; the information lost, from
``loss``; pure), ``coarser`` (the same table with a level dropped, protected again, to
suggest), ``show`` (:func:`view_table`: a TableResult or an output folder in, a
:class:`TableView` out), ``text`` and ``html`` (renderers that return strings; the
terminal's is in the CLI). See docs/tables.md.
"""

from fivesafes.sdc.view.coarser import candidates, drop_level, suggest_coarser
from fivesafes.sdc.view.html import render_html
from fivesafes.sdc.view.model import (
    SUGGEST_ABOVE_SHARE,
    Interval,
    LevelLoss,
    Loss,
    Suggestion,
    TableView,
    ViewRow,
    build_view,
    level_loss,
)
from fivesafes.sdc.view.pair import build_views
from fivesafes.sdc.view.show import Shown, read_output, view_table
from fivesafes.sdc.view.text import entry as entry_text
from fivesafes.sdc.view.text import interval as interval_text
from fivesafes.sdc.view.text import percent as percent_text
from fivesafes.sdc.view.text import safe_text

__all__ = [
    "SUGGEST_ABOVE_SHARE",
    "Interval",
    "LevelLoss",
    "Loss",
    "Shown",
    "Suggestion",
    "TableView",
    "ViewRow",
    "build_view",
    "build_views",
    "candidates",
    "drop_level",
    "entry_text",
    "interval_text",
    "level_loss",
    "percent_text",
    "read_output",
    "render_html",
    "safe_text",
    "suggest_coarser",
    "view_table",
]
