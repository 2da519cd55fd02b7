"""The tabulation engine seam: what any engine (DuckDB here, Spark in fivesafes.engine) gives.

An engine turns microdata into every cell of a hierarchical table, subtotals included,
with the statistics the primary rules need; the rest of the pipeline never sees how.
Write a new engine as a class with a ``name`` and a ``tabulate`` method of this
signature returning a :class:`Tabulation` whose cells frame follows ``sdc/cells.py``
(one row per cell in hierarchy display order: the dimension codes, ``records``,
``contributors``, ``value``, ``rule_total``, ``negatives`` and ``top1..topK``). An
engine that can also list the codes of a dimension without a hierarchy file may offer
:class:`HierarchyLoader`'s ``hierarchies`` method; otherwise DuckDB finds them. An
engine that can sum a column of record keys per cell (the cell key method and random
rounding need it) offers :class:`RecordKeyTabulator`'s ``with_record_key``; without it
those methods refuse the engine rather than publish values from missing keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import pandas as pd

from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.spec import TableSpec
from fivesafes.sdc.tabulate.sources import MicrodataLike


@dataclass(frozen=True)
class Tabulation:
    """Every cell of a table with the statistics the primary rules need."""

    cells: pd.DataFrame
    hierarchies: tuple[Hierarchy, ...]
    timings: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


class Tabulator(Protocol):
    """A tabulation engine: microdata and a spec in, every cell with its statistics out."""

    name: str

    def tabulate(
        self,
        spec: TableSpec,
        data: MicrodataLike,
        hierarchies: Sequence[Hierarchy],
        *,
        top_k: int,
    ) -> Tabulation:
        """Every cell of ``spec``'s table over ``data``, with the ``top_k`` largest
        contributor totals per cell (hierarchies in spec order)."""
        ...


@runtime_checkable
class HierarchyLoader(Protocol):
    """Optional: an engine that lists the codes of dimensions without a hierarchy file."""

    def hierarchies(self, spec: TableSpec, data: MicrodataLike) -> tuple[Hierarchy, ...]:
        """The hierarchy of each dimension, in spec order; flat ones from the data's codes."""
        ...


@runtime_checkable
class RecordKeyTabulator(Protocol):
    """Optional: an engine that also gives each cell its cell key (``sdc/cells.py`` CELL_KEY).

    ``with_record_key(column)`` is the same engine summing ``column`` (record keys in
    [0, 1), multiples of 2**-53; sdc/perturbation/keys.py) per cell: the cells frame then
    carries ``cell_key``, the sum of its records' keys times 2**53, mod 2**53, exactly.
    """

    def with_record_key(self, column: str) -> Tabulator:
        """This engine, tabulating ``column``'s record keys into each cell's cell key."""
        ...
