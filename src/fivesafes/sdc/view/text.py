"""Text of a view's entries, shared by the renderers: numbers, intervals, safe codes."""

from __future__ import annotations

import re

from fivesafes.sdc.cells import CONFIDENTIAL_SYMBOL
from fivesafes.sdc.formats.injection import csv_field
from fivesafes.sdc.outputs.presentation import NOT_AVAILABLE_SYMBOL
from fivesafes.sdc.view.model import Interval, ViewRow

# C0/C1 control characters (ANSI escapes start with ESC): a code must not move a
# terminal's cursor or recolour what follows it; nor may a bidirectional control (marks,
# embeddings, overrides, isolates) reorder what follows it on the line (Trojan Source)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def safe_text(text: str) -> str:
    """A code or label as shown: control characters replaced, never a formula when pasted.

    Control characters (bidirectional ones too, which would reorder the rest of the line)
    become U+FFFD. A spreadsheet that receives a copied ``=cmd|...`` would run it: such text gets a
    leading apostrophe, as in table.csv (:func:`fivesafes.sdc.csv_field`).
    """
    return str(csv_field(_CONTROL.sub("\ufffd", text)))


def number(value: float | None) -> str:
    """A number with thousands separators; whole numbers without decimals."""
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def entry(row: ViewRow) -> str:
    """What the value column shows: the number, ``[c]`` or ``[x]``."""
    if row.missing:
        return NOT_AVAILABLE_SYMBOL
    if row.value is None:
        return CONFIDENTIAL_SYMBOL if row.hidden else NOT_AVAILABLE_SYMBOL
    return number(row.value)


def interval(i: Interval | None) -> str:
    """``[lower, upper]`` with unbounded ends as -inf / inf; empty when unknown."""
    if i is None:
        return ""
    low = "-inf" if i.lower is None else number(i.lower)
    high = "inf" if i.upper is None else number(i.upper)
    return f"[{low}, {high}]"


def percent(share: float | None) -> str:
    """A share as a percentage with one decimal; empty when unknown."""
    return "" if share is None else f"{share:.1%}"
