"""A figure for an answer, computed inside the area and checked like a release.

The officer names a cell (``region=N,industry=A+B+C``), never a number. The figure is the
measure summed over the rows in that cell (or counted, for ``count``); its statistics
(contributors, largest contributions) go through the organisation's primary rules, and the
figure goes through the differencing check against everything published from the source
(releases and earlier answers) as what it is: a one-cell table of part of the units
(sdc/population.py), each named dimension a filter that keeps the leaves the figure covers
among *every* code the data hold in that column. A grouping that no published hierarchy has
(three industries together) is checked the same way: the check works on the leaves each
cell covers.

Every code, not only the figure's: a hierarchy that held only the figure's codes would tell
the check they are all of the column's values, so a figure of country X beside a release
by region would equal the grand total in the model and clash with it (the check could
not run). And a filter, not a tabulated dimension: the check then reads the data's empty
combinations of every pair of columns the figure names (sdc/occupancy.py), the figure's
own pair included (region a1 in sector B, with a3 only in B, is B minus a3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fivesafes.errors import ValidationError
from fivesafes.sdc import (
    CONTRIBUTORS,
    NEGATIVES,
    RECORDS,
    RULE,
    RULE_TOTAL,
    STATUS,
    VALUE,
    Hierarchy,
    OutputTable,
    Population,
    RuleSet,
    Status,
    apply_primary_rules,
    restrict,
    top_column,
)

COUNT = "count"  # the measure of a frequency: rows counted, not a column summed
ANSWER_PREFIX = "answer"
# the code that stands for the rows with no value in a figure's column (they are units of
# every table without that column, so the check must not take the column's codes as all)
NO_VALUE = f"{ANSWER_PREFIX}:no-value"


@dataclass(frozen=True)
class CellRequest:
    """The cell asked for: per dimension, the codes it covers (several: a new grouping)."""

    codes: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def dimensions(self) -> tuple[str, ...]:
        """The dimensions named (the others are at their total)."""
        return tuple(d for d, _ in self.codes)

    def label(self, dimension: str) -> str:
        """How the answer names the cell's code in ``dimension``: ``A+B+C``."""
        return "+".join(dict(self.codes)[dimension])

    def text(self) -> str:
        """The cell as the officer wrote it."""
        return ",".join(f"{d}={self.label(d)}" for d, _ in self.codes)


def parse_cell(text: str) -> CellRequest:
    """``dim=code[+code...][,dim=code...]``; a ValidationError shows the form."""
    hint = "e.g. --cell region=N,industry=A+B+C (codes joined by + make one group)"
    pairs: list[tuple[str, tuple[str, ...]]] = []
    for part in text.split(","):
        dim, sep, codes = part.partition("=")
        dim = dim.strip()
        parts = tuple(c.strip() for c in codes.split("+"))
        if not sep or not dim or not all(parts):
            raise ValidationError(f"--cell {text!r}: {part!r} is not dim=code", hint=hint)
        if dim in dict(pairs):
            raise ValidationError(f"--cell {text!r} names {dim!r} twice", hint=hint)
        pairs.append((dim, tuple(dict.fromkeys(parts))))
    return CellRequest(tuple(pairs))


def leaves_of(cell: CellRequest, published: Sequence[Hierarchy]) -> dict[str, tuple[str, ...]]:
    """Per dimension, the leaf codes the cell covers: a published group stands for its leaves."""
    out: dict[str, tuple[str, ...]] = {}
    for dim, codes in cell.codes:
        hierarchies = [h for h in published if h.name == dim]
        leaves: list[str] = []
        for code in codes:
            inner = next((h for h in hierarchies if h.children.get(code)), None)
            leaves.extend(inner.leaves_under(code) if inner is not None else (code,))
        out[dim] = tuple(dict.fromkeys(leaves))
    return out


def figure_cells(
    data: pd.DataFrame,
    measure: str,
    leaves: Mapping[str, tuple[str, ...]],
    *,
    contributor: str | None = None,
    weight: str | None = None,
    top_k: int = 2,
) -> pd.DataFrame:
    """The one cell's statistics (records, contributors, value, largest contributions).

    With a survey ``weight`` the value is the weighted estimate, as a weighted table
    publishes it; the rules read the unweighted contributions (the contributors' own
    figures are what an intruder knows), as in a table spec with ``apply_weights = false``.
    """
    needed = [*leaves, *([measure] if measure != COUNT else []), *filter(None, [contributor])]
    for column in [*needed, *filter(None, [weight])]:
        if column not in data.columns:
            raise ValidationError(
                f"the dataset has no column {column!r}",
                hint="columns: " + ", ".join(map(str, data.columns)),
            )
    mask = np.ones(len(data), dtype=bool)
    for dim, codes in leaves.items():
        observed = data[dim].astype(str)
        unknown = [c for c in codes if not (observed == c).any()]
        if unknown:
            # Whether a code occurs is not the confidential part; the figure is.
            raise ValidationError(
                f"code(s) {unknown} of {dim!r} occur nowhere in the dataset",
                hint=f"use codes of {dim} as the data or a published hierarchy has them",
            )
        mask &= observed.isin(codes).to_numpy()
    rows = data.loc[mask]
    frequency = measure == COUNT
    values = np.ones(len(rows)) if frequency else _numbers(rows[measure], measure)
    units = rows[contributor].astype(str).to_numpy() if contributor else np.arange(len(rows))
    per_unit = pd.Series(values).groupby(units).sum().to_numpy(dtype=float)
    tops = np.sort(np.abs(per_unit))[::-1]
    cell: dict[str, object] = {
        RECORDS: len(rows),
        CONTRIBUTORS: len(per_unit),
        VALUE: float(
            values.sum() if weight is None else (values * _numbers(rows[weight], weight)).sum()
        ),
        RULE_TOTAL: float(np.abs(values).sum()),
        NEGATIVES: int((values < 0).sum()),
    }
    for i in range(1, top_k + 1):
        cell[top_column(i)] = float(tops[i - 1]) if len(tops) >= i else 0.0
    return pd.DataFrame([cell])


def primary_reasons(cells: pd.DataFrame, rules: RuleSet, *, frequency: bool) -> tuple[str, ...]:
    """The primary rules the figure itself breaks (none: it passes them)."""
    flagged = apply_primary_rules(cells, rules, frequency=frequency)
    if str(flagged[STATUS].iloc[0]) == Status.SAFE.value:
        return ()
    return tuple(str(flagged[RULE].iloc[0]).split(";"))


def dimension_codes(data: pd.DataFrame, dimensions: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Per dimension, every code the data hold in that column (NO_VALUE too when a row has
    none): the values the figure's filters are taken from."""
    out: dict[str, tuple[str, ...]] = {}
    for dim in dimensions:
        column = data[dim]
        codes = sorted(set(column.dropna().astype(str)))
        if bool(column.isna().any()):
            if NO_VALUE in codes:  # fail closed: the rows without a value would merge with it
                raise ValidationError(
                    f"column {dim!r} holds the code {NO_VALUE!r}, which stands for no value",
                    hint="recode it in the dataset before asking for a figure of the column",
                )
            codes.append(NO_VALUE)
        out[dim] = tuple(codes)
    return out


def answer_population(
    leaves: Mapping[str, tuple[str, ...]], codes: Mapping[str, Sequence[str]]
) -> Population:
    """The units the figure covers: per dimension, its leaves among every code of the column."""
    return Population.of(leaves, {d: codes[d] for d in leaves})


def answer_table(label: str, population: Population, value: float) -> OutputTable:
    """The figure as a one-cell table of part of the units: each dimension a filter whose
    hierarchy holds every code of the column, the cell at the code of the kept leaves."""
    frame = pd.DataFrame([{VALUE: float(value), STATUS: Status.SAFE.value}])
    return restrict(OutputTable(label, (), frame), population)


def figure_object_id(figure_id: int) -> str:
    """The id that binds an approved figure's sealed hierarchies (every code) to it."""
    return f"answers/{figure_id}/hierarchies"


def _numbers(raw: pd.Series, measure: str) -> np.ndarray:
    """A numeric column's values (the measure, the weight); a text that is not a number is
    refused without quoting it.

    pandas' own error names the value ('Unable to parse string "..."'), which would reach
    the server's log and the caller: the rows of an area never leave it that way.
    """
    values = pd.to_numeric(raw, errors="coerce")
    if bool((values.isna() & raw.notna()).any()):
        raise ValidationError(
            f"column {measure!r} is not a number in every record of the figure's cell",
            hint="ask for a numeric measure and weight (columns of numbers), or for a count",
        )
    return values.to_numpy(dtype=float)
