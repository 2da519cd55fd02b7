"""The tabulation engine seam: what any engine (DuckDB here, Spark in fivesafes.engine) gives.

An engine turns microdata into every cell of a hierarchical table, subtotals included,
with the statistics the primary rules need; the rest of the pipeline never sees how.
Write a new engine as a class with a ``name`` and a ``tabulate`` method of this
signature returning a :class:`Tabulation` whose cells frame follows ``sdc/cells.py``
(one row per cell in hierarchy display order: the dimension codes, ``records``,
``contributors``, ``value``, ``rule_total``, ``negatives`` and ``top1..topK``). An
engine that can also list the codes of a dimension without a hierarchy file may offer
:class:`HierarchyLoader`'s ``hierarchies`` method; otherwise DuckDB finds them.
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
