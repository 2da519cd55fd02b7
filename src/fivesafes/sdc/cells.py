"""The cells table: the contract between tabulation, primary rules, suppression and audit.

A table is a pandas DataFrame with one row per cell, every subtotal included:

- one column per dimension (string code; the hierarchy root's code for a total),
- ``records``: microdata rows in the cell,
- ``contributors``: distinct contributors (or holdings, when the spec names one),
- ``value``: the (weighted) total of the response; for a frequency table, the count,
- ``status``: one of :class:`Status`,
- ``rule``: the primary rule(s) that flagged the cell, ``;``-separated, else empty,
- ``lower_protection`` / ``upper_protection``: protection required for a primary cell,
- internal statistics the rules need (``top1`` .. ``topN``: largest contributor
  totals, ``negatives``: rows with a negative contribution, ...), prefixed by nothing
  and dropped from ``cells.csv`` unless asked for.
"""

from __future__ import annotations

from enum import StrEnum

RECORDS = "records"
CONTRIBUTORS = "contributors"
VALUE = "value"
STATUS = "status"
RULE = "rule"
LOWER = "lower_protection"
UPPER = "upper_protection"
RULE_TOTAL = "rule_total"  # the total the dominance / p% / pq rules are evaluated on
NEGATIVES = "negatives"  # rows with a negative response in the cell
TOP_PREFIX = "top"
CELL_KEY = "cell_key"  # cell key method: sum of the records' keys * 2**53, mod 2**53
PUBLISHED = "published"  # perturbed or rounded methods: the value as published


def top_column(i: int) -> str:
    """The column of the i-th largest contributor total (1-based): ``top1``, ``top2``, ..."""
    if i < 1:
        raise ValueError(f"top columns start at 1, got {i}")
    return f"{TOP_PREFIX}{i}"


class Status(StrEnum):
    """A cell's status; anything not ``safe`` is hidden when published."""

    SAFE = "safe"
    PRIMARY = "primary"
    SECONDARY = "secondary"

    @property
    def hidden(self) -> bool:
        """True when the cell must not be published."""
        return self is not Status.SAFE


CONFIDENTIAL_SYMBOL = "[c]"  # the GSS symbol for a value withheld to protect confidentiality
