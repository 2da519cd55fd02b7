"""Text that a spreadsheet program never runs as a formula (CSV injection, OWASP).

A code such as ``=HYPERLINK(...)`` or a DDE payload (``=cmd|' /C calc'!A0``) in a
published CSV runs as a formula when someone opens the file in a spreadsheet
program. OWASP's rule: a field that starts with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return, and is not a number, gets a leading apostrophe. ``-1`` and
``+1`` stay as they are (numbers are harmless and must stay numbers).

The rule is applied so that it can be undone exactly (:func:`csv_unescape`): a
field that already starts with apostrophes before such a character gets one more.
XLSX and ODS need no prefix: their writers store every text cell as a string
(never a formula), see :func:`xlsx_text`.
"""

from __future__ import annotations

import re
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def is_number_text(text: str) -> bool:
    """True when ``text`` is a plain decimal number (``-1``, ``+2.5``, ``1e3``)."""
    return _NUMBER.fullmatch(text) is not None


def needs_escape(text: str) -> bool:
    """True when a spreadsheet program could read ``text`` as a formula."""
    core = text.lstrip("'")
    return core.startswith(TRIGGERS) and not is_number_text(core)


def csv_field(value: Any) -> Any:
    """A value for a CSV field: text that could start a formula gets a leading ``'``."""
    if isinstance(value, str) and needs_escape(value):
        return "'" + value
    return value


def csv_row(values: list[Any]) -> list[Any]:
    """Every field of a CSV row through :func:`csv_field`."""
    return [csv_field(v) for v in values]


def csv_unescape(text: str) -> str:
    """Inverse of :func:`csv_field` for text read back from a CSV written with it."""
    if text.startswith("'") and needs_escape(text):
        return text[1:]
    return text


# the characters a spreadsheet cell cannot hold (openpyxl refuses them: a crash, once)
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xlsx_text(cell: Any, value: str) -> Any:
    """Set an openpyxl cell to ``value`` as a string: never a formula, whatever it starts with.

    A control character a spreadsheet cannot hold (an escape, say) becomes U+FFFD, as on
    screen; the exact code stays in cells.csv.
    """
    cell.value = _XLSX_ILLEGAL.sub("\ufffd", value)
    cell.data_type = "s"  # openpyxl would store text starting with "=" as a formula
    return cell
