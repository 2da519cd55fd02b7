"""What hiding cost: cells and value hidden over the table and per level, in figures and words.

A level is one depth per dimension (``region level 1 x industry total``); the most
detailed cells (every code a leaf) partition the grand total whatever the shapes of the
hierarchies, so the hidden value among them is the share of the total that is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fivesafes.sdc.cells import Status
from fivesafes.sdc.view.rows import ViewRow


@dataclass(frozen=True)
class LevelLoss:
    """What hiding cost at one level of the table (one depth per dimension)."""

    levels: tuple[int, ...]
    description: str  # e.g. "region level 1 x industry total"
    cells: int
    hidden: int
    primary: int
    secondary: int
    value_total: float
    value_hidden: float

    @property
    def share_hidden(self) -> float:
        """Share of this level's cells that are hidden."""
        return self.hidden / self.cells if self.cells else 0.0


@dataclass(frozen=True)
class Loss:
    """The information lost, over the whole table and per level, in figures and in words."""

    cells: int
    hidden: int
    primary: int
    secondary: int
    grand_total: float | None  # the value of the all-totals cell
    levels: tuple[LevelLoss, ...]
    leaf_value_hidden: float = 0.0  # hidden value among the most detailed cells

    @property
    def share_hidden(self) -> float:
        """Share of the table's cells that are hidden."""
        return self.hidden / self.cells if self.cells else 0.0

    def level_share_of_total(self, level: LevelLoss) -> float | None:
        """Hidden value at ``level`` as a share of the grand total (None without a total)."""
        if not self.grand_total or self.grand_total <= 0:
            return None
        return level.value_hidden / self.grand_total

    def leaf_share_of_total(self) -> float | None:
        """Hidden value among the most detailed cells (every code a leaf) / the grand total.

        The most detailed cells partition the total, whatever the hierarchies' shapes.
        """
        if not self.grand_total or self.grand_total <= 0:
            return None
        return self.leaf_value_hidden / self.grand_total

    def sentences(self) -> tuple[str, ...]:
        """The loss in plain words: the whole table, then one sentence per level."""
        out = [
            f"{self.hidden:,} of {self.cells:,} cells are hidden ({self.share_hidden:.1%}): "
            f"{self.primary:,} primary (disclosive themselves) and {self.secondary:,} "
            "secondary (hidden so that the primary ones cannot be worked out from totals)."
        ]
        for lv in self.levels:
            share = self.level_share_of_total(lv)
            value = "" if share is None else f", {share:.1%} of the grand total's value"
            if lv.hidden == 0:
                out.append(f"{_capital(lv.description)}: nothing hidden ({_cells(lv.cells)}).")
            else:
                out.append(
                    f"{_capital(lv.description)}: {lv.hidden:,} of {lv.cells:,} cells hidden "
                    f"({lv.share_hidden:.1%}){value}."
                )
        return tuple(out)


def level_loss(rows: Sequence[ViewRow], dimensions: Sequence[str]) -> Loss:
    """Cells and value hidden over the table and per level (one depth per dimension)."""
    by_level: dict[tuple[int, ...], list[ViewRow]] = {}
    for r in rows:
        if not r.missing:
            by_level.setdefault(r.levels, []).append(r)
    levels = []
    for key in sorted(by_level):
        members = by_level[key]
        levels.append(
            LevelLoss(
                levels=key,
                description=describe_level(key, dimensions),
                cells=len(members),
                hidden=sum(r.hidden for r in members),
                primary=sum(r.status is Status.PRIMARY for r in members),
                secondary=sum(r.status is Status.SECONDARY for r in members),
                value_total=sum(r.value or 0.0 for r in members),
                value_hidden=sum(r.value or 0.0 for r in members if r.hidden),
            )
        )
    real = [r for r in rows if not r.missing]
    top = next((r for r in real if r.level == 0), None)
    return Loss(
        cells=len(real),
        hidden=sum(r.hidden for r in real),
        primary=sum(r.status is Status.PRIMARY for r in real),
        secondary=sum(r.status is Status.SECONDARY for r in real),
        grand_total=top.value if top is not None else None,
        levels=tuple(levels),
        leaf_value_hidden=sum(r.value or 0.0 for r in real if r.leaf and r.hidden),
    )


def describe_level(levels: Sequence[int], dimensions: Sequence[str]) -> str:
    """A level in words: ``region level 1 x industry total``."""
    return " x ".join(
        f"{d} {'total' if n == 0 else f'level {n}'}"
        for d, n in zip(dimensions, levels, strict=True)
    )


def _cells(n: int) -> str:
    return f"{n:,} cell" if n == 1 else f"{n:,} cells"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
