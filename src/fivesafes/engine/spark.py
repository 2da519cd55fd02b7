"""Spark behind the tabulation seam: the cells DuckDB gives, for data that outgrow one machine.

``SparkTabulator(master)`` tabulates a spec on a Spark cluster (or in local mode):
the microdata are read and reduced by the executors, and only the non-empty cells
come back to the driver, where the zero cells are added in display order. The
cells frame equals DuckDB's (``fivesafes.sdc.tabulate.tabulate``): same columns,
dtypes, row order and counts, sums to rounding. See docs/engines.md.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fivesafes.errors import EngineError, SpecError
from fivesafes.sdc import Hierarchy, TableSpec, load_hierarchy

try:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
except ImportError as exc:  # pragma: no cover - exercised where the extra is not installed
    raise EngineError(
        "the Spark engine needs PySpark, which is not installed",
        hint="install the extra: pip install 'fivesafes[spark]' (and a Java 17+ runtime)",
    ) from exc

from fivesafes.engine.grid import full_grid
from fivesafes.engine.spark_plan import SparkPlan, leaf_table
from fivesafes.engine.spark_source import (
    SPARK_ERRORS,
    SparkSource,
    check,
    first_line,
    quiet_pyspark,
    read,
    scan,
)
from fivesafes.sdc import CONTRIBUTORS, NEGATIVES, RECORDS, RULE_TOTAL, VALUE
from fivesafes.sdc.tabulate import (
    Tabulation,
    code_error,
    default_top_k,
    refuse_control_characters,
)

__all__ = ["SparkTabulator", "default_config", "java_runtime"]

_LOCAL = re.compile(r"^local(\[(\d+|\*)(,\d+)?\])?$")


def java_runtime() -> str | None:
    """The ``java`` Spark would start (``JAVA_HOME`` first, then ``PATH``), or None."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        return str(candidate) if candidate.is_file() else None
    return shutil.which("java")


def default_config(master: str) -> dict[str, str]:
    """The Spark settings fivesafes starts a session with (a caller's ``config`` wins)."""
    config = {
        # shuffle files, spills and cached blocks hold (cell, unit) totals: encrypted on disk
        "spark.io.encryption.enabled": "true",
        "spark.ui.showConsoleProgress": "false",
    }
    local = _LOCAL.match(master)
    if local:
        cores = local.group(2)
        n = (os.cpu_count() or 2) if cores in (None, "*") else int(cores)
        config |= {
            # one process on this machine: nothing listens beyond the loopback interface
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": str(max(2, 2 * n)),
        }
    return config


class SparkTabulator:
    """Tabulation on Spark: ``tabulate()`` returns the cells DuckDB's tabulation returns."""

    name = "spark"

    def __init__(
        self,
        master: str = "local[*]",
        *,
        session: SparkSession | None = None,
        config: Mapping[str, str] | None = None,
    ) -> None:
        self.master = master
        self.config = dict(config or {})
        self._session = session
        self._owned = False
        self._notes: tuple[str, ...] = ()

    @property
    def session(self) -> SparkSession:
        """The Spark session, started on first use (or the one already running)."""
        if self._session is None:
            self._session = self._start()
        return self._session

    def _start(self) -> SparkSession:
        existing = SparkSession.getActiveSession()
        if existing is not None:
            running = existing.sparkContext.master
            if running != self.master:
                self._notes = (
                    f"the Spark session already running (master {running}) was used, "
                    f"not a new one on {self.master}",
                )
            return existing
        if java_runtime() is None:
            raise EngineError(
                "Spark needs a Java runtime (17 or later) and none was found",
                hint="install one (Debian: apt-get install default-jre-headless) or set JAVA_HOME",
            )
        builder = SparkSession.builder.master(self.master).appName("fivesafes")
        for key, value in {**default_config(self.master), **self.config}.items():
            builder = builder.config(key, value)
        try:
            with quiet_pyspark():
                session = builder.getOrCreate()
        except (*SPARK_ERRORS, OSError) as exc:
            first = first_line(exc)
            raise EngineError(
                f"Spark did not start on {self.master}: {first}",
                hint="check the master URL and that java -version reports 17 or later",
            ) from exc
        self._owned = True
        return session

    def close(self) -> None:
        """Stop the Spark session if this tabulator started it."""
        if self._session is not None and self._owned:
            self._session.stop()
        self._session, self._owned = None, False

    def load_hierarchies(self, spec: TableSpec, data: Any) -> tuple[Hierarchy, ...]:
        """The hierarchy of each dimension, in spec order; flat ones from the data's codes."""
        with quiet_pyspark():
            source = read(self.session, spec, data)
            _, counts = scan(source, spec, _flat(spec))
        return _hierarchies(spec, counts)

    def hierarchies(self, spec: TableSpec, data: Any) -> tuple[Hierarchy, ...]:
        """The seam's name for :meth:`load_hierarchies` (``fivesafes.sdc.HierarchyLoader``)."""
        return self.load_hierarchies(spec, data)

    def tabulate(
        self,
        spec: TableSpec,
        data: Any,
        hierarchies: Sequence[Hierarchy] | None = None,
        *,
        top_k: int | None = None,
    ) -> Tabulation:
        """Tabulate ``data`` under ``spec`` on Spark: every cell, every subtotal, contributors.

        ``data``: a CSV or Parquet path (or URI Spark can read: the executors read it), a
        pandas DataFrame, a pyarrow Table, a DuckDB relation or a Spark DataFrame.
        ``hierarchies`` None: read from the spec, flat ones from the data's codes.
        """
        k = default_top_k(spec) if top_k is None else top_k
        if k < 1:
            raise SpecError(f"top_k must be >= 1, got {k}")
        timings: dict[str, float] = {}
        start = clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = now - clock
            clock = now

        if hierarchies is not None and len(hierarchies) != len(spec.dimensions):
            raise SpecError(
                f"{len(hierarchies)} hierarchies given for {len(spec.dimensions)} dimensions",
                hint="give one hierarchy per dimension, in spec order (or None to load them)",
            )
        with quiet_pyspark():
            spark = self.session
            source = read(spark, spec, data)
            lap("load")
            # one pass: the rows, the checks' counts and the flat dimensions' codes
            rows, counts = scan(source, spec, _flat(spec) if hierarchies is None else [])
            hiers = _hierarchies(spec, counts) if hierarchies is None else tuple(hierarchies)
            check(source, spec, counts)
            lap("validate")
            plan = SparkPlan(spark, spec, source.frame, hiers, k, has_unit=source.has_unit)
            try:
                table = plan.cells().toArrow()
            except SPARK_ERRORS as exc:
                # the data were read and checked already: this is the cluster failing
                raise EngineError(
                    f"Spark failed while tabulating on {spark.sparkContext.master}: "
                    f"{first_line(exc)}",
                    hint="see the Spark driver and executor logs (memory per executor, "
                    "lost executors); docs/engines.md lists the usual causes",
                ) from exc
            finally:
                plan.release()
            lap("cells")
            ids = [table.column(key).to_numpy().astype(np.int64) for key in plan.keys]
            # the grand total (every root, id 0) holds every row whose codes are all leaves
            at_root = np.flatnonzero(np.all([i == 0 for i in ids], axis=0))
            mapped = int(table.column("rec").to_numpy()[at_root[0]]) if len(at_root) else 0
            if mapped != rows:
                _name_codes(spark, spec, source, hiers)
            stats = {
                RECORDS: table.column("rec").to_numpy(),
                CONTRIBUTORS: table.column("n").to_numpy(),
                VALUE: table.column("val").to_numpy(),
                RULE_TOTAL: table.column("rt").to_numpy(),
                NEGATIVES: table.column("neg").to_numpy(),
            }
            top = [table.column(f"t{j}").to_numpy(zero_copy_only=False) for j in range(1, k + 1)]
            cells = full_grid(spec.dimension_names, hiers, ids, stats, top)
            lap("assemble")
        timings["total"] = time.perf_counter() - start
        return Tabulation(
            cells=cells, hierarchies=hiers, timings=timings, notes=source.notes + self._notes
        )


def _flat(spec: TableSpec) -> list[int]:
    return [i for i, d in enumerate(spec.dimensions) if d.hierarchy is None]


def _hierarchies(spec: TableSpec, counts: Mapping[str, Any]) -> tuple[Hierarchy, ...]:
    out: list[Hierarchy] = []
    for i, dim in enumerate(spec.dimensions):
        if dim.hierarchy is None:
            codes = [str(c) for c in counts[f"codes{i}"]]
            flat = Hierarchy.flat(dim.name, codes, total=dim.total_code)
            out.append(refuse_control_characters(flat, from_data=True))
        else:
            # any format (.hrc, sdcHierarchies CSV), checked as the DuckDB engine checks it
            out.append(load_hierarchy(dim.name, dim.hierarchy, total_code=dim.total_code))
    return tuple(out)


def _name_codes(
    spark: SparkSession, spec: TableSpec, source: SparkSource, hiers: Sequence[Hierarchy]
) -> None:
    """Raise the error naming the codes that are not leaves (some rows reached no cell)."""
    for i, h in enumerate(hiers):
        found = (
            source.frame.join(F.broadcast(leaf_table(spark, h, i)), on=f"d{i}", how="left_anti")
            .groupBy(f"d{i}")
            .count()
            .orderBy(F.col("count").desc(), F.col(f"d{i}"))
            .collect()
        )
        error = code_error(spec.dimension_names[i], h, [(str(r[0]), int(r[1])) for r in found])
        if error is not None:
            raise error
    raise AssertionError("rows reached no cell, yet every code maps")  # pragma: no cover
