"""The tabulation plan in Spark: DuckDB's two stages as one Spark query.

The stages are those of :mod:`fivesafes.sdc.tabulate` (see docs/tabulation.md), with
the hierarchy tables, the row expressions and the errors taken from the same code:

1. stage 1: rows -> (leaf cell, unit) sums (``s1``), codes mapped to their display
   positions by broadcast joins with each dimension's (leaf code, id) table;
2. each unit's *spread*: per dimension, whether its rows take more than one leaf code
   there (a window over the unit: one shuffle of ``s1`` by unit);
3. units are summed per cell in the dimensions they spread over (through the bridge
   tables of (leaf, cell containing it) pairs), before any top-K; a unit in a single
   leaf cell needs no such step;
4. per (spread, cell) the units are counted and their K largest totals kept, then
   rolled up through the bridges of the other dimensions, where each unit has one
   leaf: counts add up, and a cell's top K is the top K of its parts' top-K lists;
5. the additive statistics roll up from the leaf cells through every bridge.

Only the non-empty cells leave Spark; :func:`fivesafes.engine.grid.full_grid` adds the
zero cells in display order on the driver.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from fivesafes.engine.spark_source import quiet_pyspark
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.spec import TableSpec
from fivesafes.sdc.tabulate_plan import bridge_pairs, leaf_codes, row_expressions


def leaf_table(spark: SparkSession, h: Hierarchy, i: int) -> DataFrame:
    """Dimension i's leaf codes ``d{i}`` with their ids ``k{i}`` (display positions)."""
    pairs = leaf_codes(h)
    return _small(
        spark,
        {
            f"d{i}": pa.array([c for c, _ in pairs], pa.string()),
            f"k{i}": pa.array([j for _, j in pairs], pa.int32()),
        },
    )


def bridge_table(spark: SparkSession, h: Hierarchy, i: int) -> DataFrame:
    """Dimension i's (leaf ``bl{i}``, cell containing it ``bc{i}``, the same? ``bs{i}``) rows.

    Each internal code has a row (code, code, True) too: a key that is already a cell
    passes through as itself.
    """
    pairs = bridge_pairs(h) + [(j, j) for j, c in enumerate(h.order) if not h.is_leaf(c)]
    return _small(
        spark,
        {
            f"bl{i}": pa.array([a for a, _ in pairs], pa.int32()),
            f"bc{i}": pa.array([b for _, b in pairs], pa.int32()),
            f"bs{i}": pa.array([a == b for a, b in pairs], pa.bool_()),
        },
    )


def _small(spark: SparkSession, columns: dict[str, pa.Array]) -> DataFrame:
    # from Arrow, a small table is a local relation in the JVM (a Python list would need
    # Python worker processes to read it on every use)
    with quiet_pyspark():
        return spark.createDataFrame(pa.table(columns))


class SparkPlan:
    """The Spark query of one tabulation: ``cells()`` gives the non-empty cells."""

    def __init__(
        self,
        spark: SparkSession,
        spec: TableSpec,
        frame: DataFrame,
        hierarchies: Sequence[Hierarchy],
        k: int,
        *,
        has_unit: bool,
    ) -> None:
        self.spark, self.spec, self.frame = spark, spec, frame
        self.hiers, self.k, self.has_unit = tuple(hierarchies), k, has_unit
        self.n = len(self.hiers)
        self.keys = [f"k{i}" for i in range(self.n)]  # leaf id, or cell id once rolled up
        self.spread = [f"v{i}" for i in range(self.n)]  # the unit's rows span leaves of i
        self.bridges = [bridge_table(spark, h, i) for i, h in enumerate(self.hiers)]

    def rows(self) -> DataFrame:
        """Stage 0: each row with its leaf ids, value, rule basis and negative flag.

        Codes that are not leaves find no id and drop out here; the caller compares the
        rows in the grand total with the rows read and names the codes (an error).
        """
        value, basis = row_expressions(self.spec)
        rows = self.frame
        for i, h in enumerate(self.hiers):
            rows = rows.join(F.broadcast(leaf_table(self.spark, h, i)), on=f"d{i}", how="inner")
        negative = (F.col("x") < 0).cast("long") if self.spec.response is not None else F.lit(0)
        unit = [F.col("u")] if self.has_unit else []
        return rows.select(
            *self.keys,
            *unit,
            F.expr(value).alias("val"),
            F.expr(basis).alias("rt"),
            negative.cast("long").alias("neg"),
        )

    def cells(self) -> DataFrame:
        """The non-empty cells: ids k0.., records, contributors, value, rule total, t1..tK,
        negatives (t_j NULL where the cell has fewer than j contributors)."""
        rows = self.rows()
        additive = (F.sum("rec"), F.sum("val"), F.sum("rt"), F.sum("neg"))
        if self.has_unit:
            s1 = rows.groupBy(*self.keys, "u").agg(
                F.count(F.lit(1)).alias("rec"),
                F.sum("val").alias("val"),
                F.sum("rt").alias("rt"),
                F.sum("neg").alias("neg"),
            )
            leaf = s1.groupBy(*self.keys).agg(
                *(a.alias(c) for a, c in zip(additive, ("rec", "val", "rt", "neg"), strict=True))
            )
            units = self._unit_totals(s1)
        else:
            leaf = rows.groupBy(*self.keys).agg(
                F.count(F.lit(1)).alias("rec"),
                F.sum("val").alias("val"),
                F.sum("rt").alias("rt"),
                F.sum("neg").alias("neg"),
            )
            # every row is its own contributor, in one leaf cell
            units = rows.select(*(F.lit(False).alias(v) for v in self.spread), *self.keys, "rt")
        totals = (
            self._through(leaf, [None] * self.n)
            .groupBy(*self.keys)
            .agg(*(a.alias(c) for a, c in zip(additive, ("rec", "val", "rt", "neg"), strict=True)))
        )
        counts, tops = self._contributors(units)
        return (
            totals.join(counts, on=self.keys, how="left")
            .join(tops, on=self.keys, how="left")
            .select(
                *self.keys,
                "rec",
                F.coalesce(F.col("n"), F.lit(0)).cast("long").alias("n"),
                "val",
                "rt",
                *(f"t{j}" for j in range(1, self.k + 1)),
                F.col("neg").cast("long").alias("neg"),
            )
        )

    def _unit_totals(self, s1: DataFrame) -> DataFrame:
        """Each unit's total per cell of the dimensions it spreads over (leaf elsewhere)."""
        unit = Window.partitionBy("u")
        flags = [
            (F.min(key).over(unit) != F.max(key).over(unit)).alias(v)
            for key, v in zip(self.keys, self.spread, strict=True)
        ]
        marked = s1.select(*self.keys, "u", "rt", *flags)
        spreads = functools.reduce(operator.or_, (F.col(v) for v in self.spread))
        single = marked.filter(~spreads).select(*self.spread, *self.keys, "rt")
        several = (
            self._through(marked.filter(spreads), [F.col(v) for v in self.spread])
            .groupBy(*self.spread, *self.keys, "u")
            .agg(F.sum("rt").alias("rt"))
            .select(*self.spread, *self.keys, "rt")
        )
        return single.unionByName(several)

    def _contributors(self, units: DataFrame) -> tuple[DataFrame, DataFrame]:
        """Per cell: the units counted, and their K largest totals as columns t1..tK."""
        parts = [*self.spread, *self.keys]
        counted = units.groupBy(*parts).agg(F.count(F.lit(1)).alias("n"))
        largest = self._top(units, parts).select(*parts, "rt")
        # in the dimensions a unit spreads over its cells are formed: roll up the others
        rest = [~F.col(v) for v in self.spread]
        counts = self._through(counted, rest).groupBy(*self.keys).agg(F.sum("n").alias("n"))
        ranked = self._top(self._through(largest, rest), self.keys)
        tops = ranked.groupBy(*self.keys).agg(
            *(
                F.max(F.when(F.col("rank") == j, F.col("rt"))).alias(f"t{j}")
                for j in range(1, self.k + 1)
            )
        )
        return counts, tops

    def _top(self, frame: DataFrame, keys: Sequence[str]) -> DataFrame:
        """The K largest ``rt`` per group of ``keys``, ranked 1..K in column ``rank``.

        A row-number filter, which Spark limits per group before the shuffle as well as
        after it (its window group limit), so a group never gathers all its rows.
        """
        order = Window.partitionBy(*keys).orderBy(F.col("rt").desc())
        return frame.withColumn("rank", F.row_number().over(order)).filter(F.col("rank") <= self.k)

    def _through(self, frame: DataFrame, expand: Sequence[Column | None]) -> DataFrame:
        """Each row once per cell containing its leaf, dimension by dimension.

        ``expand[i]`` None: every dimension-i cell containing the leaf (itself and its
        ancestors); a boolean column: those where it is true, the row's own key elsewhere.
        """
        for i, when in enumerate(expand):
            key, bridge = self.keys[i], self.bridges[i]
            on = F.col(key) == F.col(f"bl{i}")
            if when is not None:
                on = on & (when | F.col(f"bs{i}"))
            frame = (
                frame.join(F.broadcast(bridge), on=on, how="inner")
                .withColumn(key, F.col(f"bc{i}"))
                .drop(f"bl{i}", f"bc{i}", f"bs{i}")
            )
        return frame
