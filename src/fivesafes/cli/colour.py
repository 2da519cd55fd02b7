"""Colour for verdict words on a terminal: ALLOWED/PASS green, DENIED/FAIL/BLOCKED red.

click.echo drops the colour when the output is not a terminal (a pipe, a file);
``NO_COLOR`` set to anything non-empty turns it off everywhere (no-color.org).
"""

from __future__ import annotations

import os

import click

GREEN, RED, YELLOW = "green", "red", "yellow"
COLOURS = {
    "ALLOWED": GREEN,
    "PASS": GREEN,
    "DENIED": RED,
    "FAIL": RED,
    "BLOCKED": RED,
    "REVIEW": YELLOW,
}


def paint(word: str) -> str:
    """``word`` styled in its verdict's colour (unknown words and NO_COLOR: unchanged)."""
    colour = COLOURS.get(word)
    if colour is None or os.environ.get("NO_COLOR", ""):
        return word
    return click.style(word, fg=colour, bold=True)
