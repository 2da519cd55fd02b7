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
4. per part (spread, cells of the spread dimensions, leaves of the others) the units
   are counted, their additive statistics summed and their K largest totals kept, then
   rolled up through the bridges of the other dimensions, where each unit has one
   leaf: counts and sums add up, and a cell's top K is the top K of its parts' top-K
   lists;
5. one aggregation per cell gathers the sums and the ranked totals.

Seven shuffles in all, each after a map-side reduction (partial aggregation, or the
window group limit of the top-K steps). Two intermediate results are kept (memory,
else encrypted disk) because two steps read each: the (leaf cell, unit) sums with
their spread flags, and the unit totals; so the data are read once and each unit's
window and expansion run once.

Only the non-empty cells leave Spark; :func:`fivesafes.engine.grid.full_grid` adds the
zero cells in display order on the driver.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from fivesafes.engine.spark_source import quiet_pyspark
from fivesafes.sdc import Hierarchy, TableSpec
from fivesafes.sdc.tabulate import bridge_pairs, leaf_codes, row_expressions


def _sums() -> list[Column]:
    # the additive statistics, summed (a function: a column needs the running session)
    return [F.sum(c).alias(c) for c in ("rec", "val", "rt", "neg")]


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
        self.cached: list[DataFrame] = []  # persisted by cells(), for release()

    def rows(self) -> DataFrame:
        """Stage 0: each row with its leaf ids, a record, its value, rule basis and negative flag.

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
            F.lit(1).cast("long").alias("rec"),
            F.expr(value).alias("val"),
            F.expr(basis).alias("rt"),
            negative.cast("long").alias("neg"),
        )

    def cells(self) -> DataFrame:
        """The non-empty cells: ids k0.., records, contributors, value, rule total, t1..tK,
        negatives (t_j NULL where the cell has fewer than j contributors)."""
        rows = self.rows()
        if self.has_unit:
            units = self._unit_totals(rows.groupBy(*self.keys, "u").agg(*_sums()))
        else:
            # every row is its own contributor, in one leaf cell
            units = rows.select(
                *(F.lit(False).alias(v) for v in self.spread), *self.keys, "rec", "val", "rt", "neg"
            )
        # read twice below (counted, ranked): the spread units are expanded once
        units = self._keep(units)
        parts = [*self.spread, *self.keys]
        # per part (the cells of the dimensions its units spread over, leaves elsewhere):
        # the units counted with the additive statistics, and the K largest unit totals
        counted = units.groupBy(*parts).agg(F.count(F.lit(1)).alias("n"), *_sums())
        largest = self._top(units, parts).select(*parts, "rt")
        # ... rolled up through the dimensions where the parts still hold leaves
        rest = [~F.col(v) for v in self.spread]
        ranked = self._top(self._through(largest, rest), self.keys)
        # one aggregation per cell over both: sums from the counted parts (rank NULL),
        # the j-th largest from the ranked unit totals (the rest NULL)
        nothing = F.lit(None)
        both = (
            self._through(counted, rest)
            .select(*self.keys, "n", "rec", "val", "rt", "neg", nothing.cast("int").alias("rank"))
            .unionByName(
                ranked.select(
                    *self.keys,
                    *(nothing.cast("long").alias(c) for c in ("n", "rec")),
                    nothing.cast("double").alias("val"),
                    "rt",
                    nothing.cast("long").alias("neg"),
                    "rank",
                )
            )
        )
        is_sum = F.col("rank").isNull()
        return both.groupBy(*self.keys).agg(
            F.sum("rec").alias("rec"),
            F.sum("n").alias("n"),
            F.sum("val").alias("val"),
            F.sum(F.when(is_sum, F.col("rt"))).alias("rt"),
            *(
                F.max(F.when(F.col("rank") == j, F.col("rt"))).alias(f"t{j}")
                for j in range(1, self.k + 1)
            ),
            F.sum("neg").alias("neg"),
        )

    def _keep(self, frame: DataFrame) -> DataFrame:
        """``frame`` computed once for its several readers (memory, else encrypted disk)."""
        kept = frame.persist(StorageLevel.MEMORY_AND_DISK)
        self.cached.append(kept)
        return kept

    def release(self) -> None:
        """Drop what ``cells()`` kept in the executors' memory (and disk)."""
        for frame in self.cached:
            frame.unpersist()
        self.cached.clear()

    def _unit_totals(self, s1: DataFrame) -> DataFrame:
        """Each unit's sums per cell of the dimensions it spreads over (leaf elsewhere)."""
        unit = Window.partitionBy("u")
        flags = [
            (F.min(key).over(unit) != F.max(key).over(unit)).alias(v)
            for key, v in zip(self.keys, self.spread, strict=True)
        ]
        marked = s1.select(*self.keys, "u", "rec", "val", "rt", "neg", *flags)
        # read by both branches below: the window over each unit runs once
        marked = self._keep(marked)
        spreads = functools.reduce(operator.or_, (F.col(v) for v in self.spread))
        stats = ("rec", "val", "rt", "neg")
        single = marked.filter(~spreads).select(*self.spread, *self.keys, *stats)
        several = (
            self._through(marked.filter(spreads), [F.col(v) for v in self.spread])
            .groupBy(*self.spread, *self.keys, "u")
            .agg(*_sums())
            .select(*self.spread, *self.keys, *stats)
        )
        return single.unionByName(several)

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
