"""One cell of a view: its codes, labels, levels, value or symbol, status and intervals."""

from __future__ import annotations

from dataclasses import dataclass

from fivesafes.sdc.cells import Status


@dataclass(frozen=True)
class Interval:
    """A closed range; ``None`` at an end means unbounded on that side."""

    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class ViewRow:
    """One cell of the table as shown.

    ``value``: in the published view, the published number (None when hidden); in the
    checker view, the true value. ``status`` is None in the published view (primary and
    secondary must look alike there) and for a cell missing from the cells table.
    """

    codes: tuple[str, ...]
    labels: tuple[str, ...]
    levels: tuple[int, ...]  # depth of each code in its hierarchy (0: the total)
    value: float | None
    hidden: bool
    missing: bool = False  # in the hierarchies but not in the cells table ([x])
    status: Status | None = None
    rules: tuple[str, ...] = ()
    required: Interval | None = None  # the protection interval a primary cell needs
    achieved: Interval | None = None  # what the attacker can deduce (the audit)
    protected: bool | None = None
    published_value: float | None = None  # checker view of a perturbed or rounded table
    leaf: bool = False  # every code is a leaf: one of the table's most detailed cells

    @property
    def level(self) -> int:
        """How far below the grand total the cell is (the sum of its depths)."""
        return sum(self.levels)
