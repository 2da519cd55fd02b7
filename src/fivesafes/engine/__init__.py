"""Tabulation engines: which one turns microdata into cells, chosen by name.

``sdc`` defines the seam (``fivesafes.sdc.Tabulator``) and ships the embedded default,
DuckDB in this process; engines for data that outgrow one machine live here, outside
``sdc``, so that the library stays usable alone. ``get_tabulator("duckdb")`` or
``get_tabulator("spark", master="spark://host:7077")``; the CLI's ``--engine`` and the
workspace settings ``[engine] name`` / ``master`` choose one. See docs/architecture.md
and docs/engines.md (what each engine needs, and a plan for a cluster).
"""

from __future__ import annotations

from typing import Any

from fivesafes.errors import EngineError
from fivesafes.sdc import DuckDBTabulator, Tabulator

ENGINES: tuple[str, ...] = ("duckdb", "spark")
DEFAULT_MASTER = "local[*]"
SPARK_EXTRA_HINT = "install the Spark engine with `pip install fivesafes[spark]` (it needs Java)"


def get_tabulator(name: str = "duckdb", **options: Any) -> Tabulator:
    """The tabulation engine called ``name``; EngineError when it is unknown or not installed.

    Options: ``master`` (Spark's master URL, default ``local[*]``).
    """
    if name == "duckdb":
        return DuckDBTabulator()
    if name == "spark":
        try:
            from fivesafes.engine.spark import SparkTabulator
        except ModuleNotFoundError as exc:
            # Only a missing engine or PySpark means "not installed"; any other missing
            # module is a bug to surface, not to explain away.
            missing = exc.name or ""
            if missing != "fivesafes.engine.spark" and missing.split(".")[0] != "pyspark":
                raise
            raise EngineError(
                "the spark engine needs `pip install fivesafes[spark]`",
                hint=SPARK_EXTRA_HINT + f" ({missing} is missing)",
            ) from None
        tabulator: Tabulator = SparkTabulator(master=options.get("master") or DEFAULT_MASTER)
        return tabulator
    raise EngineError(
        f"unknown tabulation engine {name!r}",
        hint=f"use one of {', '.join(ENGINES)}",
    )


__all__ = ["DEFAULT_MASTER", "ENGINES", "get_tabulator"]
