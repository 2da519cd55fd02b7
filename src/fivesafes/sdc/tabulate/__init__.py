"""Tabulation: microdata -> every cell of a hierarchical table, with contributor statistics.

The engine seam (``engine``): a :class:`Tabulator` turns microdata into a
:class:`Tabulation`. :class:`DuckDBTabulator` (``duckdb_tabulator``, ``plan``,
``sources``) is the embedded default; other engines (Spark) live outside ``sdc``, in
``fivesafes.engine``, and are handed to ``fivesafes.sdc.tables(..., tabulator=...)``.
"""

from fivesafes.sdc.tabulate.duckdb_tabulator import (
    DuckDBTabulator,
    default_top_k,
    load_hierarchies,
    tabulate,
)
from fivesafes.sdc.tabulate.engine import HierarchyLoader, Tabulation, Tabulator
from fivesafes.sdc.tabulate.sources import MicrodataLike

__all__ = [
    "DuckDBTabulator",
    "HierarchyLoader",
    "MicrodataLike",
    "Tabulation",
    "Tabulator",
    "default_top_k",
    "load_hierarchies",
    "tabulate",
]
