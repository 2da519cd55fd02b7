"""Tabulation engines: DuckDB in process (the default) and Spark for data beyond one machine.

``get_tabulator(name, **options)`` gives an object with ``name`` and
``tabulate(spec, data, hierarchies, *, top_k) -> Tabulation``; every engine returns
the same cells frame. The Spark engine is imported only when asked for (it needs the
``fivesafes[spark]`` extra and a Java runtime). See docs/engines.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fivesafes.errors import EngineError
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.spec import TableSpec
from fivesafes.sdc.tabulate import Tabulation, tabulate

ENGINES = ("duckdb", "spark")


class DuckDBTabulator:
    """The embedded default: DuckDB in this process."""

    name = "duckdb"

    def tabulate(
        self,
        spec: TableSpec,
        data: Any,
        hierarchies: Sequence[Hierarchy] | None = None,
        *,
        top_k: int | None = None,
    ) -> Tabulation:
        """Tabulate ``data`` under ``spec`` with DuckDB."""
        return tabulate(spec, data, hierarchies, top_k=top_k)


def get_tabulator(name: str = "duckdb", **options: Any) -> Any:
    """The tabulation engine called ``name`` (``duckdb`` or ``spark``), set up with ``options``."""
    if name == "duckdb":
        if options:
            raise EngineError(
                f"the duckdb engine takes no options, got {sorted(options)}",
                hint="drop the options, or choose engine 'spark' for master=...",
            )
        return DuckDBTabulator()
    if name == "spark":
        from fivesafes.engine.spark import SparkTabulator

        return SparkTabulator(**options)
    raise EngineError(
        f"unknown tabulation engine {name!r}", hint=f"choose one of {', '.join(ENGINES)}"
    )
