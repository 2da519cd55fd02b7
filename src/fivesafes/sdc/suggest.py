""" "Did you mean ...?" for a misspelt key, column, method or status (difflib)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a choice is close to ``word``, else an empty string."""
    options = [str(c) for c in choices]
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:  # a difference in case only is close too ("Turnover" for "turnover")
        close = [c for c in options if c.casefold() == word.casefold()][:1]
    return f" (did you mean {close[0]!r}?)" if close else ""
