"""Tabulation: microdata -> every cell of a hierarchical table, with contributor statistics.

``tabulate`` runs the embedded DuckDB plan (``duckdb_tabulator``, ``plan``, ``sources``).
"""

from fivesafes.sdc.tabulate.duckdb_tabulator import (
    MicrodataLike,
    Tabulation,
    default_top_k,
    load_hierarchies,
    tabulate,
)

__all__ = ["MicrodataLike", "Tabulation", "default_top_k", "load_hierarchies", "tabulate"]
