"""Tables of part of a population: the filter as one more dimension of the differencing model.

A table of the small enterprises only and a table of every enterprise are outputs of
the same units: subtracted, they give the table of the others, which can reveal a
cell either hides. The differencing model (sdc/differencing.py) sees this when the
filter is a dimension: the filter column's values are its leaves, the table's
population one code that covers the chosen values, and a table without the filter
sits at its total (every value). Atoms are then split by the filter, as by any other
grouping (issue 15 §6).

A population is given as the chosen values of a column and the column's domain (every
value it takes in the whole population: what the other tables may cover).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fivesafes.errors import SpecError
from fivesafes.sdc.differencing import OutputTable
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.occupancy import EVERY


@dataclass(frozen=True)
class Population:
    """The units a table covers: for each filter column, the values kept and all values."""

    where: Mapping[str, tuple[str, ...]]
    domains: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(
        cls, where: Mapping[str, Sequence[Any]], domains: Mapping[str, Sequence[Any]]
    ) -> Population:
        """Validated: every kept value is in its column's domain, none kept twice."""
        kept = {c: tuple(sorted({str(v) for v in vs})) for c, vs in where.items()}
        every = {c: tuple(sorted({str(v) for v in domains.get(c, ())})) for c in kept}
        for column, values in kept.items():
            if not values:
                raise SpecError(
                    f"the population keeps no value of {column!r}",
                    hint="name at least one value to keep",
                    value_free=True,
                )
            unknown = sorted(set(values) - set(every[column]))
            if unknown:
                raise SpecError(
                    f"value(s) {unknown} of {column!r} are not among its values "
                    f"{list(every[column])}",
                    hint="the domain is every value the column takes in the whole "
                    "population (a dimension's column holds leaf codes: for a subtotal of "
                    "its hierarchy, name the codes under it)",
                    # (the list is every value of the column: never outside an area)
                    redacted=f"a value kept of {column!r} is not among the values it takes",
                )
            if EVERY in every[column]:
                raise SpecError(
                    f"{column!r} takes the value {EVERY!r}, reserved for its total",
                    redacted=f"{column!r} takes the value reserved for its total",
                )
        return cls(kept, every)

    def code(self, column: str) -> str:
        """The code of the kept values: the value itself, or ``column:a|b`` for several."""
        values = self.where[column]
        if len(values) == 1:
            return values[0]
        if set(values) == set(self.domains[column]):
            return EVERY
        return f"{column}:{'|'.join(values)}"

    def hierarchy(self, column: str) -> Hierarchy:
        """Every value of the column under its total; the kept ones grouped under code()."""
        code = self.code(column)
        pairs: list[tuple[str, str | None]] = [(EVERY, None)]
        grouped = code not in (EVERY, *self.where[column])
        if grouped:
            pairs.append((code, EVERY))
        for value in self.domains[column]:
            inside = value in self.where[column]
            pairs.append((value, code if grouped and inside else EVERY))
        return Hierarchy.from_pairs(column, pairs)

    def public_hierarchy(self, column: str) -> Hierarchy:
        """:meth:`hierarchy` without the values the population leaves out: its total, its
        code and the kept values, what a published table of it shows. The check needs
        every value (:meth:`hierarchy`); a filter on a unit identifier would list every
        unit, so only this one may be kept where the area's key does not protect it."""
        code = self.code(column)
        pairs: list[tuple[str, str | None]] = [(EVERY, None)]
        grouped = code not in (EVERY, *self.where[column])
        if grouped:
            pairs.append((code, EVERY))
        pairs += [(value, code if grouped else EVERY) for value in self.where[column]]
        return Hierarchy.from_pairs(column, pairs)

    def to_dict(self) -> dict[str, Any]:
        """For the report (and so the register): the kept values and the domains."""
        return {
            "where": {c: list(v) for c, v in self.where.items()},
            "domains": {c: list(v) for c, v in self.domains.items()},
        }


def joined(*populations: Population | None) -> Population | None:
    """The units every one of ``populations`` keeps: all their filter columns (None when
    none filters). A ``[table] where`` of a derived dataset and the dataset's membership
    of its family (release/families.py) are two such filters of one table."""
    where: dict[str, tuple[str, ...]] = {}
    domains: dict[str, tuple[str, ...]] = {}
    for p in populations:
        if p is None:
            continue
        for column in p.where:
            if column in where:
                raise SpecError(
                    f"{column!r} is filtered twice",
                    hint="a column is filtered on by one population only",
                    value_free=True,
                )
            where[column] = p.where[column]
            domains[column] = p.domains[column]
    return Population(where, domains) if where else None


def restrict(table: OutputTable, population: Population | None) -> OutputTable:
    """``table`` as the differencing model must see a table of ``population``: one more
    dimension per filter column, every cell at the population's code."""
    if population is None or not population.where:
        return table
    clash = sorted(set(population.where) & set(table.dimensions))
    if clash:
        raise SpecError(
            f"{clash} are both dimensions of {table.label} and filters of its population",
            hint="a column is either tabulated or filtered on, not both",
            value_free=True,
        )
    cells = table.cells.copy()
    hierarchies = list(table.hierarchies)
    for column in population.where:
        cells[column] = population.code(column)
        hierarchies.append(population.hierarchy(column))
    return OutputTable(table.label, tuple(hierarchies), cells, (*table.filters, *population.where))
