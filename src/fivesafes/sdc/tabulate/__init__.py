"""Tabulation: microdata -> every cell of a hierarchical table, with contributor statistics.

The engine seam (``engine``): a :class:`Tabulator` turns microdata into a
:class:`Tabulation`. :class:`DuckDBTabulator` (``duckdb_tabulator``, ``plan``,
``sources``) is the embedded default; other engines (Spark) live outside ``sdc``, in
``fivesafes.engine``, and are handed to ``fivesafes.sdc.tables(..., tabulator=...)``.
"""

from fivesafes.sdc.hierarchy import refuse_control_characters
from fivesafes.sdc.tabulate.connection import engine_errors, private_connection
from fivesafes.sdc.tabulate.duckdb_tabulator import (
    DuckDBTabulator,
    default_top_k,
    load_hierarchies,
    tabulate,
)
from fivesafes.sdc.tabulate.engine import (
    HierarchyLoader,
    RecordKeyTabulator,
    Tabulation,
    Tabulator,
)
from fivesafes.sdc.tabulate.plan import bridge_pairs, code_error, leaf_codes, row_expressions
from fivesafes.sdc.tabulate.sources import (
    MicrodataLike,
    bad_numbers_error,
    check_columns,
    check_duplicates,
    data_occupancy,
    holding_error,
    one_thread,
    raise_value_errors,
)

# Besides the seam, the pieces another engine reuses so that it plans, checks and words
# its errors exactly as DuckDB does (engine/spark*.py): the code mapping and bridges of a
# hierarchy, the row expressions of a spec, and the data errors; and, for any DuckDB
# tabulation (the researchers' outputs), running it on one thread (reproducible sums)
# on a connection that never spills to disk, its out-of-memory worded.
__all__ = [
    "DuckDBTabulator",
    "HierarchyLoader",
    "MicrodataLike",
    "RecordKeyTabulator",
    "Tabulation",
    "Tabulator",
    "bad_numbers_error",
    "bridge_pairs",
    "check_columns",
    "check_duplicates",
    "code_error",
    "data_occupancy",
    "default_top_k",
    "engine_errors",
    "holding_error",
    "leaf_codes",
    "load_hierarchies",
    "one_thread",
    "private_connection",
    "raise_value_errors",
    "refuse_control_characters",
    "row_expressions",
    "tabulate",
]
