"""Tabulation: microdata -> every cell of a hierarchical table, with the contributor statistics.

One call computes, for every combination of codes of every dimension (all
subtotals and totals, zero cells included): the rows, the distinct contributors,
the weighted total, the total the rules are evaluated on, the K largest
contributor totals and the rows with a negative response.

The plan (DuckDB, codes mapped to small integers first, mapped back at the end):

1. stage 1: rows -> (leaf cell, unit) sums, one pass over the microdata;
2. units that sit in a single leaf cell ("simple", most businesses) are rolled up
   per leaf cell at once: their counts add up and the top-K of a parent is the
   top-K of its children's top-K lists (exact: each such unit is in one child);
3. units spread over several leaf cells ("spread") keep their (cell, unit) sums
   through the hierarchical GROUPING SETS, so a unit's rows in several children add
   up to one contributor total in the parent, before the top-K is taken;
4. both parts meet on the full grid of cells, in hierarchy display order.

The plan runs on one DuckDB thread (a caller's connection gets its own setting back).
With several, ``sum`` adds a cell's doubles in an order that varies from run to run,
so a cell's value could differ in its last bits (seen in about 1 run in 8 on a
60,000-row table): enough to change which cells the secondary suppression hides. One
thread gives the same table for the same data every time; on 10 million rows it cost
2.0 s -> 2.7 s, still a third of the bare GROUPING SETS query (bench/RESULTS.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import duckdb
import pandas as pd

from fivesafes.errors import SpecError
from fivesafes.sdc.formats.hierarchies import load_hierarchy
from fivesafes.sdc.hierarchy import Hierarchy, refuse_control_characters
from fivesafes.sdc.occupancy import Occupancy
from fivesafes.sdc.spec import TableSpec
from fivesafes.sdc.tabulate.connection import engine_errors, private_connection
from fivesafes.sdc.tabulate.engine import Tabulation
from fivesafes.sdc.tabulate.plan import RollupPlan, TabulationPlan
from fivesafes.sdc.tabulate.sources import (
    MicrodataLike,
    Source,
    check_values,
    column_values,
    data_occupancy,
    new_prefix,
    one_thread,
    register,
    temporary,
)

T = TypeVar("T")

__all__ = [
    "DuckDBTabulator",
    "MicrodataLike",
    "Tabulation",
    "default_top_k",
    "load_hierarchies",
    "tabulate",
]


class DuckDBTabulator:
    """The embedded default engine: DuckDB in this process (the plan above).

    ``connection``: run on this DuckDB connection (default: a new one per call);
    ``rollup``: how leaf cells reach their subtotals (see :func:`tabulate`);
    ``record_key``: a column of record keys summed into each cell's ``cell_key``.
    """

    name: str = "duckdb"

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection | None = None,
        *,
        rollup: RollupPlan = "bridge",
        record_key: str | None = None,
    ) -> None:
        self.connection = connection
        self.rollup: RollupPlan = rollup
        self.record_key = record_key

    def with_record_key(self, column: str) -> DuckDBTabulator:
        """This engine (same connection and plan), also summing ``column`` into cell keys."""
        return DuckDBTabulator(self.connection, rollup=self.rollup, record_key=column)

    def tabulate(
        self,
        spec: TableSpec,
        data: MicrodataLike,
        hierarchies: Sequence[Hierarchy] | None,
        *,
        top_k: int,
    ) -> Tabulation:
        """Every cell with its statistics; ``hierarchies`` None: flat ones from the data's
        codes, found while the data are read once for the tabulation."""
        return tabulate(
            spec,
            data,
            hierarchies,
            connection=self.connection,
            top_k=top_k,
            rollup=self.rollup,
            record_key=self.record_key,
        )

    def filter_domains(self, spec: TableSpec, data: MicrodataLike) -> dict[str, list[str]]:
        """Every value of each ``[table] where`` column in all of ``data``."""
        return self._read_all(
            spec, data, lambda con, source: column_values(con, source, [c for c, _ in spec.where])
        )

    def occupancy(
        self, spec: TableSpec, data: MicrodataLike, pairs: Sequence[tuple[str, str]]
    ) -> Occupancy | None:
        """Which value pairs of each pair of columns hold units in all of ``data`` (see
        sdc/occupancy.py; None when the data have none of those columns)."""
        return self._read_all(
            spec,
            data,
            lambda con, source: data_occupancy(con, source.raw, set(source.columns), pairs),
        )

    def _read_all(
        self,
        spec: TableSpec,
        data: MicrodataLike,
        read: Callable[[duckdb.DuckDBPyConnection, Source], T],
    ) -> T:
        """``read`` on ``data`` registered whole, the filter aside (on this engine's
        connection, if it has one: a memory-only one stays the only one)."""
        con = self.connection if self.connection is not None else private_connection()
        prefix = new_prefix()
        try:
            source = register(con, spec, data, prefix, own_connection=self.connection is None)
            with engine_errors(own=self.connection is None), temporary(con, source.temp_objects):
                return read(con, source)
        finally:
            if self.connection is None:
                con.close()

    def hierarchies(self, spec: TableSpec, data: MicrodataLike) -> tuple[Hierarchy, ...]:
        """The hierarchy of each dimension, in spec order; flat ones from the data's codes."""
        return load_hierarchies(spec, data)


def default_top_k(spec: TableSpec) -> int:
    """The number of largest contributors the rules of ``spec`` need (at least 2)."""
    return max([2, *(n for n, _ in spec.rules.dominance)])


def load_hierarchies(spec: TableSpec, data: MicrodataLike) -> tuple[Hierarchy, ...]:
    """The hierarchy of each dimension, in spec order; flat ones from the data's codes."""
    con = private_connection()
    prefix = new_prefix()
    try:
        source = register(con, spec, data, prefix, own_connection=True)
        with engine_errors(), temporary(con, source.temp_objects):
            return _hierarchies(con, spec, source)
    finally:
        con.close()


def tabulate(
    spec: TableSpec,
    data: MicrodataLike,
    hierarchies: Sequence[Hierarchy] | None = None,
    *,
    connection: duckdb.DuckDBPyConnection | None = None,
    top_k: int | None = None,
    rollup: RollupPlan = "bridge",
    record_key: str | None = None,
) -> Tabulation:
    """Tabulate ``data`` under ``spec``: every cell, every subtotal, contributor statistics.

    ``rollup`` chooses how leaf cells reach their subtotals: ``"bridge"`` (join each leaf
    to its ancestors, the faster) or ``"grouping_sets"`` (hierarchical GROUPING SETS);
    both give the same cells. ``record_key`` names a column of record keys: each cell
    then gets ``cell_key``, the sum of its records' keys times 2**53, mod 2**53.
    """
    k = default_top_k(spec) if top_k is None else top_k
    if k < 1:
        raise SpecError(f"top_k must be >= 1, got {k}")
    if rollup not in ("bridge", "grouping_sets"):
        raise SpecError(f"rollup must be 'bridge' or 'grouping_sets', got {rollup!r}")
    con = connection if connection is not None else private_connection()
    prefix = new_prefix()
    timings: dict[str, float] = {}
    start = clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    temp: list[tuple[str, str]] = []
    try:
        with engine_errors(own=connection is None), one_thread(con), temporary(con, temp):
            source = register(
                con, spec, data, prefix, own_connection=connection is None, record_key=record_key
            )
            temp.extend(source.temp_objects)
            hiers, cells = _run(con, spec, source, hierarchies, k, prefix, temp, rollup, lap)
    finally:
        if connection is None:
            con.close()
    timings["total"] = time.perf_counter() - start
    return Tabulation(cells=cells, hierarchies=hiers, timings=timings, notes=source.notes)


def _run(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    source: Source,
    hierarchies: Sequence[Hierarchy] | None,
    k: int,
    prefix: str,
    temp: list[tuple[str, str]],
    rollup: RollupPlan,
    lap: Callable[[str], None],
) -> tuple[tuple[Hierarchy, ...], pd.DataFrame]:
    """The plan's stages on a registered source: the hierarchies and the cells."""
    hiers = _hierarchies(con, spec, source) if hierarchies is None else tuple(hierarchies)
    if len(hiers) != len(spec.dimensions):
        raise SpecError(
            f"{len(hiers)} hierarchies given for {len(spec.dimensions)} dimensions",
            hint="give one hierarchy per dimension, in spec order (or None to load them)",
        )
    lap("load")
    check_values(con, spec, source)
    lap("validate")
    plan = TabulationPlan(con, spec, source, hiers, k, prefix, temp, rollup)
    plan.create_maps()
    plan.stage1()
    lap("stage1")
    plan.split_units()
    lap("stage2")
    plan.rollup()
    lap("rollup")
    cells = plan.assemble()
    lap("assemble")
    return hiers, cells


def _hierarchies(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, source: Source
) -> tuple[Hierarchy, ...]:
    flat = [i for i, d in enumerate(spec.dimensions) if d.hierarchy is None]
    distinct: dict[int, list[str]] = {}
    if flat:
        # One pass for every flat dimension: the distinct codes of each.
        sql = ", ".join(f"list(DISTINCT d{i}) FILTER (WHERE d{i} IS NOT NULL)" for i in flat)
        row = con.execute(f"SELECT {sql} FROM {source.view}").fetchone()
        assert row is not None
        distinct = {i: [str(c) for c in (v or [])] for i, v in zip(flat, row, strict=True)}
    out: list[Hierarchy] = []
    for i, dim in enumerate(spec.dimensions):
        if dim.hierarchy is None:
            flat_h = Hierarchy.flat(dim.name, distinct[i], total=dim.total_code)
            out.append(refuse_control_characters(flat_h, from_data=True))
        else:
            out.append(load_hierarchy(dim.name, dim.hierarchy, total_code=dim.total_code))
    return tuple(out)
